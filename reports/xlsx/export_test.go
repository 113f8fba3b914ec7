package xlsx

import (
	"bytes"
	"strconv"

	"github.com/xuri/excelize/v2"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// StreamSweep writes rows as the Sweep sheet of a workbook the way this
// package did before it encoded rows itself: the same column widths, number
// formats and header, each row's values from cellValue through excelize's
// StreamWriter.SetRow. Tests compare the writer's Sweep sheet with it.
func StreamSweep[R any](schema reports.Schema[R], rows []R) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", SheetSweep); err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(SheetSweep)
	if err != nil {
		return nil, err
	}
	if err := columnStyles(f, schema, 1, sw.SetColWidth, sw.SetColStyle); err != nil {
		return nil, err
	}
	bold, err := headerStyle(f)
	if err != nil {
		return nil, err
	}
	values := make([]any, len(schema.Columns))
	for i := range schema.Columns {
		values[i] = schema.Columns[i].Header()
	}
	if err := sw.SetRow("A1", values, excelize.RowOpts{StyleID: bold, Height: 45}); err != nil {
		return nil, err
	}
	for ri := range rows {
		for i := range schema.Columns {
			values[i], _ = cellValue(&schema.Columns[i], &rows[ri])
		}
		if err := sw.SetRow("A"+strconv.Itoa(ri+2), values); err != nil {
			return nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// CellXML returns the XML of one row's cells as this package encodes them,
// for the first cell of a row (no reference) in a column without a style.
func CellXML[R any](schema reports.Schema[R], r *R) ([]byte, error) {
	x := &rowsXML[R]{row: 1, cols: make([]cellColumn[R], len(schema.Columns))}
	for i := range schema.Columns {
		x.cols[i] = cellColumn[R]{c: &schema.Columns[i], open: "<c", refOpen: `<c r="` + colName(i+1)}
	}
	if err := x.add(r, 0); err != nil {
		return nil, err
	}
	return x.buf, nil
}

// CRC32Combine is crc32Combine.
var CRC32Combine = crc32Combine
