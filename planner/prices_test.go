package planner_test

import (
	"math"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// The catalog holds every accelerator of the shared gpu-specs.csv, with FP4
// rates where listed and on-demand prices that are the medians of
// gpu-prices.csv.
func TestCatalogFortyOneGPUs(t *testing.T) {
	gs := planner.GPUs()
	if len(gs) != 41 {
		t.Fatalf("%d GPUs, want the 41 of gpu-specs.csv", len(gs))
	}
	for _, tc := range []struct {
		name       string
		fp4, price float64 // 0 = none listed
		purchase   float64
	}{
		{"H20", 0, 1.69, 14000},
		{"L20", 0, 0.563, 0},
		{"RTX 5090", 1676, 0.67, 3442},
		{"RTX PRO 6000", 2015, 1.85, 0},
		{"B300", 13500, 8.805, 0},
		{"GB300", 15000, 9.915, 0},
		{"MI355X", 10066, 0, 0}, // no listing: price_missing downstream
		{"H200 NVL", 0, 3.852, 0},
		{"H100 SXM", 0, 3.99, 30000}, // "n/a (no FP4 tensor cores)" is not 4
		{"B200", 9000, 7.365, 40000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := planner.LookupGPU(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if g.FP4TFLOPS != tc.fp4 {
				t.Errorf("FP4 %v TFLOPS, want %v", g.FP4TFLOPS, tc.fp4)
			}
			if math.Abs(g.PriceUSDPerHour-tc.price) > 0.0006 {
				t.Errorf("price $%v/GPU-hour, want the median $%v", g.PriceUSDPerHour, tc.price)
			}
			if tc.price > 0 && !strings.Contains(g.PriceSource, "gpu-prices.csv") {
				t.Errorf("price source %q does not name the price catalog", g.PriceSource)
			}
			if g.PurchaseUSD != tc.purchase {
				t.Errorf("purchase $%v, want $%v", g.PurchaseUSD, tc.purchase)
			}
		})
	}
}

// Every median agrees with the (rounded) cloud_ondemand_usd_per_gpu_hr
// column of the spec sheet, which states it is that median.
func TestPriceCatalogMedians(t *testing.T) {
	pc := planner.PriceCatalog()
	if len(pc) != 37 {
		t.Errorf("%d priced GPUs, want 37", len(pc))
	}
	// H100 SXM: 17 listings; sorted, the 9th is 3.99.
	if h := pc["H100 SXM"]; h.Listings != 17 || h.Median != 3.99 || h.From != "2026-05-07" || h.To != "2026-10-10" {
		t.Errorf("H100 SXM: %+v", h)
	}
	for _, g := range planner.GPUs() {
		st, ok := pc[g.Name]
		if !ok {
			continue
		}
		if math.Abs(st.Median-g.PriceUSDPerHour) > 1e-9 || st.Min > st.Median || st.Max < st.Median {
			t.Errorf("%s: median %v, min %v, max %v, price %v", g.Name, st.Median, st.Min, st.Max, g.PriceUSDPerHour)
		}
	}
	if src := planner.PriceCatalogSource(); !strings.Contains(src, "190 on-demand listings of 37 GPUs") || !strings.Contains(src, "2026-03-17..2026-10-10") {
		t.Errorf("source %q", src)
	}
}

func TestMedianAndIsDate(t *testing.T) {
	for _, c := range []struct {
		v    []float64
		want float64
	}{{[]float64{1}, 1}, {[]float64{1, 3}, 2}, {[]float64{1, 2, 9}, 2}, {[]float64{1, 2, 4, 9}, 3}} {
		if got := planner.Median(c.v); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.v, got, c.want)
		}
	}
	if !math.IsNaN(planner.Median(nil)) {
		t.Error("Median(nil) is not NaN")
	}
	for s, want := range map[string]bool{"2026-05-07": true, "2026-5-07": false, "2026-05-0x": false, "": false, "2026/05/07": false} {
		if planner.IsDate(s) != want {
			t.Errorf("IsDate(%q) = %v", s, !want)
		}
	}
}
