package deploy

import (
	"fmt"
	"math"
)

// HoursPerMonth is 365 × 24 / 12.
const HoursPerMonth = 730

// CostParams are the owned-hardware assumptions.
type CostParams struct {
	// AmortisationYears spreads the purchase price (default 4).
	AmortisationYears float64 `json:"amortisation_years"`
	// PowerUtilization is the mean share of TDP drawn (default 0.7).
	PowerUtilization float64 `json:"power_utilization"`
	// PUE is the data centre's power usage effectiveness (default 1.3).
	PUE float64 `json:"pue"`
	// USDPerKWh is the electricity price (default 0.10).
	USDPerKWh float64 `json:"usd_per_kwh"`
}

// DefaultCost holds the default owned-cost assumptions.
var DefaultCost = CostParams{AmortisationYears: 4, PowerUtilization: 0.7, PUE: 1.3, USDPerKWh: 0.10}

// Validate checks the parameters.
func (c *CostParams) Validate() error {
	switch {
	case !(c.AmortisationYears > 0 && c.AmortisationYears <= 30):
		return fmt.Errorf("%w: amortisation %v years must be in (0, 30]", ErrBadInput, c.AmortisationYears)
	case !(c.PowerUtilization > 0 && c.PowerUtilization <= 1):
		return fmt.Errorf("%w: power utilization %v must be in (0, 1]", ErrBadInput, c.PowerUtilization)
	case !(c.PUE >= 1 && c.PUE <= 3):
		return fmt.Errorf("%w: PUE %v must be in [1, 3]", ErrBadInput, c.PUE)
	case !(c.USDPerKWh >= 0 && c.USDPerKWh <= 10):
		return fmt.Errorf("%w: electricity price %v $/kWh must be in [0, 10]", ErrBadInput, c.USDPerKWh)
	}
	return nil
}

// OwnedUSDPerGPUHour is purchase / (years × 8760 h) + TDP × utilization ×
// PUE × $/kWh; ok is false without a purchase price.
func (c *CostParams) OwnedUSDPerGPUHour(purchaseUSD, tdpW float64) (float64, bool) {
	if purchaseUSD <= 0 {
		return 0, false
	}
	return purchaseUSD/(c.AmortisationYears*8760) + tdpW/1000*c.PowerUtilization*c.PUE*c.USDPerKWh, true
}

// Price is what a GPU costs by the hour: on demand (with its source) and
// the inputs of the owned cost.
type Price struct {
	USDPerGPUHour float64 `json:"usd_per_gpu_hour"`
	Source        string  `json:"source"`
	PurchaseUSD   float64 `json:"purchase_usd,omitempty"`
	TDPW          float64 `json:"tdp_w,omitempty"`
}

// Cost is the cost of a deployment at its load.
type Cost struct {
	PriceMissing  bool    `json:"price_missing"`
	PriceSource   string  `json:"price_source,omitempty"`
	USDPerGPUHour float64 `json:"usd_per_gpu_hour,omitempty"`
	USDPerHour    float64 `json:"usd_per_hour,omitempty"`
	USDPerMonth   float64 `json:"usd_per_month,omitempty"`
	// Per million tokens: each divides the whole deployment's cost by the
	// tokens of that kind it serves at the load (blended: all tokens).
	USDPerMOutput  float64 `json:"usd_per_m_output_tokens,omitempty"`
	USDPerMInput   float64 `json:"usd_per_m_input_tokens,omitempty"`
	USDPerMBlended float64 `json:"usd_per_m_blended_tokens,omitempty"`
	// Owned figures, when a purchase price is known.
	OwnedUSDPerGPUHour float64 `json:"owned_usd_per_gpu_hour,omitempty"`
	TCOUSDPerMonth     float64 `json:"tco_usd_per_month,omitempty"`
}

// costOf prices gpus GPUs serving inTokS input and outTokS output tokens/s.
func costOf(p Price, cp *CostParams, gpus int, inTokS, outTokS float64) Cost {
	r := cp.Rate(p)
	var c Cost
	r.CostInto(&c, gpus, inTokS, outTokS)
	return c
}

// Rate is a GPU's price with its owned cost per GPU-hour worked out, for
// pricing many deployments of the GPU (a sweep's rows) with CostInto.
type Rate struct {
	Price
	owned    float64
	hasOwned bool
}

// Rate is p with c's owned cost per GPU-hour (when p has a purchase price).
func (c *CostParams) Rate(p Price) Rate {
	o, ok := c.OwnedUSDPerGPUHour(p.PurchaseUSD, p.TDPW)
	return Rate{Price: p, owned: o, hasOwned: ok}
}

// CostInto sets every field of c to the cost of gpus GPUs serving inTokS
// input and outTokS output tokens/s (CostAt with the rate's owned cost).
func (r *Rate) CostInto(c *Cost, gpus int, inTokS, outTokS float64) {
	// Field by field: a composite literal would be built and copied, per row.
	c.OwnedUSDPerGPUHour, c.TCOUSDPerMonth = 0, 0
	if r.hasOwned {
		c.OwnedUSDPerGPUHour = r.owned
		c.TCOUSDPerMonth = r.owned * float64(gpus) * HoursPerMonth
	}
	if !(r.USDPerGPUHour > 0) {
		c.PriceMissing, c.PriceSource = true, ""
		c.USDPerGPUHour, c.USDPerHour, c.USDPerMonth = 0, 0, 0
		c.USDPerMOutput, c.USDPerMInput, c.USDPerMBlended = 0, 0, 0
		return
	}
	c.PriceMissing, c.PriceSource = false, r.Source
	c.USDPerGPUHour = r.USDPerGPUHour
	c.USDPerHour = r.USDPerGPUHour * float64(gpus)
	c.USDPerMonth = c.USDPerHour * HoursPerMonth
	c.USDPerMOutput, c.USDPerMInput, c.USDPerMBlended = perM(c.USDPerHour, outTokS), perM(c.USDPerHour, inTokS), perM(c.USDPerHour, inTokS+outTokS)
}

// perM is the cost of a million tokens at tokS tokens/s for usdPerHour (0
// without a finite rate).
func perM(usdPerHour, tokS float64) float64 {
	if !(tokS > 0) || math.IsInf(tokS, 0) {
		return 0
	}
	return usdPerHour / (tokS * 3600) * 1e6
}

// QualityClass is the quality class of a weight format: rows of different
// classes are never compared as equals (Pareto, ranking).
func QualityClass(quant string) string {
	switch quant {
	case "", "none", "auto", "bfloat16", "float16":
		return "bf16"
	case "fp8":
		return "fp8"
	case "int8":
		return "int8"
	case "awq", "gptq":
		return "int4"
	case "mxfp4":
		return "fp4"
	}
	return quant
}

// CostAt prices gpus GPUs serving inTokS input and outTokS output tokens/s.
func CostAt(p Price, cp *CostParams, gpus int, inTokS, outTokS float64) Cost {
	return costOf(p, cp, gpus, inTokS, outTokS)
}
