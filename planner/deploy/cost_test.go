package deploy

import (
	"math"
	"testing"
)

// TestCostIntoOverwritesEveryField: a sweep reuses its rows, so CostInto
// into a Cost holding another row's figures must give exactly CostAt's
// answer, in every branch (owned or not, priced or not, no or infinite
// throughput).
func TestCostIntoOverwritesEveryField(t *testing.T) {
	dirty := Cost{PriceMissing: true, PriceSource: "old", USDPerGPUHour: 9, USDPerHour: 9, USDPerMonth: 9,
		USDPerMOutput: 9, USDPerMInput: 9, USDPerMBlended: 9, OwnedUSDPerGPUHour: 9, TCOUSDPerMonth: 9}
	for _, tc := range []struct {
		name    string
		p       Price
		in, out float64
	}{
		{"priced and owned", Price{USDPerGPUHour: 3.99, Source: "catalog", PurchaseUSD: 30000, TDPW: 700}, 512, 256},
		{"priced, no purchase price", Price{USDPerGPUHour: 2.5, Source: "file"}, 1, 2},
		{"no price, owned", Price{PurchaseUSD: 9000, TDPW: 300}, 10, 20},
		{"no price at all", Price{}, 10, 20},
		{"no throughput", Price{USDPerGPUHour: 1}, 0, 0},
		{"infinite throughput", Price{USDPerGPUHour: 1}, math.Inf(1), 5},
		{"NaN price is missing", Price{USDPerGPUHour: math.NaN()}, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, gpus := range []int{1, 8} {
				want := CostAt(tc.p, &DefaultCost, gpus, tc.in, tc.out)
				r := DefaultCost.Rate(tc.p)
				got := dirty
				r.CostInto(&got, gpus, tc.in, tc.out)
				if got != want {
					t.Errorf("%d GPUs: CostInto %+v, CostAt %+v", gpus, got, want)
				}
			}
		})
	}
}
