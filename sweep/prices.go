package sweep

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ErrBadPrices marks a prices file that cannot be read.
var ErrBadPrices = errors.New("bad prices file")

// ParsePrices reads a CSV of GPU prices with a header naming the columns
// gpu and usd_per_gpu_hour (other columns are ignored); it returns GPU name
// → USD per GPU-hour. Names are resolved against the catalog by NewSpace.
func ParsePrices(r io.Reader) (map[string]float64, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: empty; want a header gpu,usd_per_gpu_hour", ErrBadPrices)
		}
		return nil, fmt.Errorf("%w: %w", ErrBadPrices, err)
	}
	gi, pi := -1, -1
	for i, h := range head {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "gpu":
			gi = i
		case "usd_per_gpu_hour":
			pi = i
		}
	}
	if gi < 0 || pi < 0 {
		return nil, fmt.Errorf("%w: header %q must name the columns gpu and usd_per_gpu_hour", ErrBadPrices, strings.Join(head, ","))
	}
	out := map[string]float64{}
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadPrices, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if gi >= len(rec) || pi >= len(rec) {
			return nil, fmt.Errorf("%w: line %d has %d fields, want at least %d", ErrBadPrices, line, len(rec), max(gi, pi)+1)
		}
		name := strings.TrimSpace(rec[gi])
		p, err := strconv.ParseFloat(strings.TrimSpace(rec[pi]), 64)
		if name == "" || err != nil || p < 0 || math.IsInf(p, 0) || math.IsNaN(p) {
			return nil, fmt.Errorf("%w: line %d: want a GPU name and a price ≥ 0 in USD per GPU-hour, got %q, %q", ErrBadPrices, line, rec[gi], rec[pi])
		}
		k := strings.ToLower(name)
		if prev, ok := seen[k]; ok {
			return nil, fmt.Errorf("%w: line %d: %q already priced on line %d", ErrBadPrices, line, name, prev)
		}
		seen[k] = line
		out[name] = p
	}
	return out, nil
}
