package planner

import (
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// PriceStats summarises the dated on-demand listings of one GPU in the
// embedded price catalog (catalog/gpu-prices.csv, copied from the project's
// shared data with its provenance column).
type PriceStats struct {
	// Median is the median USD per GPU-hour of the listings.
	Median float64 `json:"median_usd_per_gpu_hour"`
	Min    float64 `json:"min_usd_per_gpu_hour"`
	Max    float64 `json:"max_usd_per_gpu_hour"`
	// Listings and Providers count the rows and distinct providers.
	Listings  int `json:"listings"`
	Providers int `json:"providers"`
	// From and To are the first and last listing dates (YYYY-MM-DD).
	From string `json:"from"`
	To   string `json:"to"`
	// Undated counts listings without a date.
	Undated int `json:"undated,omitempty"`
}

// IsDate reports whether s has the YYYY-MM-DD shape of a listing date.
func IsDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for i, c := range s {
		if i != 4 && i != 7 && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func (p PriceStats) source() string {
	dates := fmt.Sprintf("dated %s..%s", p.From, p.To)
	switch {
	case p.From == "":
		dates = "undated"
	case p.Undated > 0:
		dates += fmt.Sprintf(" (%d undated)", p.Undated)
	}
	return fmt.Sprintf("median of %d on-demand listings (%d providers, $%.2f–$%.2f) %s, gpu-prices.csv", p.Listings, p.Providers, p.Min, p.Max, dates)
}

// PriceCatalog returns the statistics of every GPU in the embedded price
// catalog, by catalog name.
func PriceCatalog() map[string]PriceStats {
	c := loadCatalog()
	out := make(map[string]PriceStats, len(c.prices))
	for k, v := range c.prices {
		out[k] = v
	}
	return out
}

// PriceCatalogSource describes the embedded price catalog: its file, size
// and date range, for the metadata of every output that shows a cost.
func PriceCatalogSource() string {
	c := loadCatalog()
	n, from, to := 0, "", ""
	for _, p := range c.prices {
		n += p.Listings
		if p.From != "" && (from == "" || p.From < from) {
			from = p.From
		}
		if p.To > to {
			to = p.To
		}
	}
	return fmt.Sprintf("gpu-prices.csv: %d on-demand listings of %d GPUs dated %s..%s; median per GPU (8-GPU instances divided by 8)", n, len(c.prices), from, to)
}

// parsePriceListings reads the price catalog (gpu, provider, sku,
// usd_per_gpu_hour, date, …) into per-GPU statistics.
func parsePriceListings(data []byte) (map[string]PriceStats, error) {
	recs, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("price catalog: %w", err)
	}
	if len(recs) < 2 {
		return nil, errors.New("price catalog: empty")
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, k := range []string{"gpu", "provider", "usd_per_gpu_hour", "date"} {
		if _, ok := col[k]; !ok {
			return nil, fmt.Errorf("price catalog: no column %q", k)
		}
	}
	vals := map[string][]float64{}
	providers := map[string]map[string]bool{}
	out := map[string]PriceStats{}
	for i, r := range recs[1:] {
		g := strings.TrimSpace(r[col["gpu"]])
		v, err := strconv.ParseFloat(strings.TrimSpace(r[col["usd_per_gpu_hour"]]), 64)
		if g == "" || err != nil || !(v > 0) {
			return nil, fmt.Errorf("price catalog: line %d: want a GPU and a price > 0, got %q, %q", i+2, g, r[col["usd_per_gpu_hour"]])
		}
		d := strings.TrimSpace(r[col["date"]])
		if !IsDate(d) {
			d = "" // "undated" listings count, but do not set the date range
		}
		vals[g] = append(vals[g], v)
		if providers[g] == nil {
			providers[g] = map[string]bool{}
		}
		providers[g][r[col["provider"]]] = true
		st := out[g]
		if d != "" && (st.From == "" || d < st.From) {
			st.From = d
		}
		if d > st.To {
			st.To = d
		}
		if d == "" {
			st.Undated++
		}
		out[g] = st
	}
	for g, v := range vals {
		sort.Float64s(v)
		st := out[g]
		st.Listings, st.Providers, st.Min, st.Max = len(v), len(providers[g]), v[0], v[len(v)-1]
		st.Median = Median(v)
		out[g] = st
	}
	return out, nil
}

// statedNumber is leadingNumber for a cell that states a value up front
// ("9000 (…)", "~1200"); "n/a (no FP4 tensor cores)" is 0, not 4.
func statedNumber(s string) float64 {
	t := strings.TrimLeft(strings.TrimSpace(s), "~≈")
	if t == "" || t[0] < '0' || t[0] > '9' {
		return 0
	}
	return leadingNumber(t)
}

// Median is the median of sorted values (the mean of the middle two when
// their number is even); NaN for none.
func Median(sorted []float64) float64 {
	n := len(sorted)
	switch {
	case n == 0:
		return math.NaN()
	case n%2 == 1:
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
