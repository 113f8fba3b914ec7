package sweep

import (
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// TestCheckMaxPoints pins the estimate's arithmetic.
func TestCheckMaxPoints(t *testing.T) {
	for _, tc := range []struct {
		name         string
		count, total int64
		format       reports.Format
		want         string
	}{
		// 1.2e9 / 352,000 rows/s = 3,409 s = 56 min; × 12.3 B = 14.76 GB; 1.2e9 / 1e9 → 2 shards.
		{"parquet", 1_200_000_000, 1_200_000_000, reports.FormatParquet, "about 56 min and write 15 GB; split the grid into 2 runs with --shard i/2 (i = 0 to 1"},
		// 5e9 / 150,000 rows/s = 33,333 s = 9 h 15 min; × 1,312 B = 6.56 TB.
		{"jsonl", 5_000_000_000, 5_000_000_000, reports.FormatJSONL, "about 9 h 15 min and write 6.6 TB; split the grid into 5 runs"},
		// A shard of 2e9 points of an 8e9 grid: 8 shards of 1e9 fit.
		{"shard of a larger grid", 2_000_000_000, 8_000_000_000, "", "--shard i/8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckMaxPoints(tc.count, tc.total, DefaultMaxPoints, tc.format)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if err := CheckMaxPoints(DefaultMaxPoints, MaxPoints, DefaultMaxPoints, ""); err != nil {
		t.Errorf("at the limit: %v", err)
	}
}
