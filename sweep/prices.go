package sweep

import (
	"encoding/csv"
	"errors"
	"fmt"
	"github.com/vllm-wizard/vllm-wizard/planner"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// ErrBadPrices marks a prices file that cannot be read.
var ErrBadPrices = errors.New("bad prices file")

// Price is a GPU's price from a prices file: USD per GPU-hour and the rows
// it came from.
type Price struct {
	USDPerGPUHour float64
	// Rows counts the file's rows for the GPU; Min and Max are their
	// lowest and highest prices, From and To the first and last dates of
	// the rows that have a date column (YYYY-MM-DD).
	Rows     int
	Min, Max float64
	From, To string
}

// Source describes the price for a row's price_source, file naming where
// it came from: the file alone for one row, else the rule and its rows.
func (p Price) Source(file string) string {
	if p.Rows <= 1 {
		return file
	}
	s := fmt.Sprintf("%s: median of %d rows ($%.2f–$%.2f)", file, p.Rows, p.Min, p.Max)
	if p.From != "" {
		s += fmt.Sprintf(" dated %s..%s", p.From, p.To)
	}
	return s
}

// Prices maps a GPU name, as the file spells it, to its price.
type Prices map[string]Price

// ParsePrices reads a CSV of GPU prices with a header naming the columns
// gpu and usd_per_gpu_hour, and optionally date (YYYY-MM-DD); other columns
// are ignored, so the shared gpu-prices.csv listing format reads as it is.
// A GPU on several rows (names compared without case) gets the median of
// their prices (the mean of the middle two for an even count), the rule of
// the embedded catalog. Names are resolved against the catalog by NewSpace.
func ParsePrices(r io.Reader) (Prices, error) {
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
	gi, pi, di := -1, -1, -1
	for i, h := range head {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "gpu":
			gi = i
		case "usd_per_gpu_hour":
			pi = i
		case "date":
			di = i
		}
	}
	if gi < 0 || pi < 0 {
		return nil, fmt.Errorf("%w: header %q must name the columns gpu and usd_per_gpu_hour", ErrBadPrices, strings.Join(head, ","))
	}
	type rows struct {
		name   string
		prices []float64
		from   string
		to     string
	}
	byKey := map[string]*rows{}
	var order []string
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
		date := ""
		if di >= 0 && di < len(rec) {
			date = strings.TrimSpace(rec[di])
			if date != "" && !planner.IsDate(date) {
				return nil, fmt.Errorf("%w: line %d: date %q: want YYYY-MM-DD or nothing", ErrBadPrices, line, date)
			}
		}
		k := strings.ToLower(name)
		e := byKey[k]
		if e == nil {
			e = &rows{name: name}
			byKey[k] = e
			order = append(order, k)
		}
		e.prices = append(e.prices, p)
		if date != "" {
			if e.from == "" || date < e.from {
				e.from = date
			}
			e.to = max(e.to, date)
		}
	}
	out := make(Prices, len(byKey))
	for _, k := range order {
		e := byKey[k]
		sort.Float64s(e.prices)
		n := len(e.prices)
		out[e.name] = Price{USDPerGPUHour: planner.Median(e.prices), Rows: n, Min: e.prices[0], Max: e.prices[n-1], From: e.from, To: e.to}
	}
	return out, nil
}
