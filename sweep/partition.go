package sweep

import (
	"fmt"
	"slices"
	"strings"
)

// PartitionColumns are the input columns a Parquet dataset of sweep rows
// may be partitioned by.
var PartitionColumns = []string{ColModel, ColGPU, ColGPUCount, ColTP, ColContextLen, ColQuantization, ColKVCacheDtype,
	ColInterconnect, ColConcurrency, ColPromptTokens, ColGenTokens}

// CheckPartitionColumns refuses the first of cols that is not one of
// PartitionColumns.
func CheckPartitionColumns(cols []string) error {
	for _, c := range cols {
		if !slices.Contains(PartitionColumns, c) {
			return fmt.Errorf("%s: not an input column; use any of %s", c, strings.Join(PartitionColumns, ", "))
		}
	}
	return nil
}
