package sweep

import (
	"math"

	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/planner/deploy"
	"github.com/vllm-wizard/vllm-wizard/reports"
)

// The deployment columns (issue #11): data-parallel layout, the target's SLO
// verdict and sizing, latency percentiles, cost and TCO, quality class and
// the Pareto flag. Names are in columns_contract.go.

func boolCol(name, label, desc string, f func(*Row) (bool, bool)) Column {
	return Column{Name: name, Label: label, Description: desc, Kind: reports.KindBool, Nullable: true, Bool: f}
}

func depInt(name, label, desc, unit string, f func(*DeployRow) int, ok func(*Row) bool) Column {
	return nullIntCol(name, label, desc, unit, "#,##0", func(r *Row) (int, bool) { return f(&r.Deploy), ok(r) })
}

func depFloat(name, label, desc, unit, numFmt string, f func(*DeployRow) float64, ok func(*Row) bool) Column {
	return floatCol(name, label, desc, unit, numFmt, func(r *Row) (float64, bool) {
		v := f(&r.Deploy)
		return v, ok(r) && !math.IsNaN(v) && !math.IsInf(v, 0)
	})
}

// Predicates for nullIn: a grid without a target, a point with no
// deployment, or one without a price leaves the whole group null.
func noTarget(r *Row) bool  { return !r.Deploy.HasTarget }
func unplanned(r *Row) bool { return !r.Deploy.Planned }
func unpriced(r *Row) bool  { return !r.Deploy.Planned || r.Deploy.Cost.PriceMissing }

func validRow(r *Row) bool   { return r.Deploy.PP > 0 && r.Status != planner.StatusInvalid }
func hasPP(r *Row) bool      { return r.Deploy.PP > 0 }
func withTarget(r *Row) bool { return r.Deploy.HasTarget }
func sized(r *Row) bool      { return r.Deploy.HasTarget && r.Deploy.MeetsSLO }
func hasLatency(r *Row) bool { return r.Deploy.HasTarget && r.Deploy.Latency.Stable }
func priced(r *Row) bool {
	return r.Deploy.Planned && !r.Deploy.Cost.PriceMissing && r.Deploy.Cost.USDPerHour > 0
}
func costKnown(r *Row) bool    { return priced(r) && (!r.Deploy.HasTarget || r.Deploy.MeetsSLO) }
func ownedKnown(r *Row) bool   { return r.Deploy.Cost.OwnedUSDPerGPUHour > 0 }
func tcoKnown(r *Row) bool     { return ownedKnown(r) && r.Deploy.Cost.TCOUSDPerMonth > 0 }
func perUserKnown(r *Row) bool { return r.Deploy.Planned && r.Deploy.TokSPerUser > 0 }

func bindingValues() []string {
	return []string{deploy.LimitTTFT, deploy.LimitTPOT, deploy.LimitE2E, deploy.LimitTokS, deploy.LimitMemory, deploy.LimitCapacity}
}

func deployColumns() []Column {
	const ms, usd = "ms", "USD"
	const target = " Null when the grid has no target."
	lat := func(name, label, desc string, f func(*deploy.Latency) float64) Column {
		return nullIn(depFloat(name, label, desc+" Under the target load (docs/queueing.md)."+target, ms, "#,##0.0",
			func(d *DeployRow) float64 { return f(&d.Latency) }, hasLatency), noTarget)
	}
	return []Column{
		grouped(depInt(ColPP, "PP", "Pipeline-parallel stages of one replica (the grid's pp, default 1).", "", func(d *DeployRow) int { return d.PP }, hasPP)),
		grouped(depInt(ColReplicas, "Replicas", "Data-parallel replicas the row's GPUs hold (gpu_count / (tp × pp)).", "", func(d *DeployRow) int { return d.Replicas }, validRow)),
		grouped(depInt(ColGPUsPerNode, "GPUs per node", "GPUs one node holds for this GPU type (8 for HGX/OAM, fewer for cards).", "GPUs", func(d *DeployRow) int { return d.GPUsPerNode }, validRow)),
		grouped(depInt(ColNodes, "Nodes", "Nodes the row's GPUs span.", "nodes", func(d *DeployRow) int { return d.Nodes }, validRow)),
		nullIn(boolCol(ColMeetsSLO, "Meets SLO", "Whether a deployment of this configuration meets the grid's SLO at its target load."+target,
			func(r *Row) (bool, bool) { return r.Deploy.MeetsSLO, withTarget(r) }), noTarget),
		withWidth(withValues(nullStrCol(ColBindingLimit, "Binding limit", "The SLO limit (or memory/capacity) closest to being broken, or that breaks.",
			func(r *Row) string { return r.Deploy.Binding }), bindingValues()...), 14),
		nullIn(depInt(ColReplicasNeeded, "Replicas needed", "Replicas needed to serve the target load within the SLO.", "", func(d *DeployRow) int { return d.ReplicasNeeded }, sized), noTarget),
		nullIn(depInt(ColGPUsNeeded, "GPUs needed", "GPUs needed to serve the target load within the SLO (replicas × tp × pp).", "GPUs", func(d *DeployRow) int { return d.GPUsNeeded }, sized), noTarget),
		nullIn(depInt(ColNodesNeeded, "Nodes needed", "Nodes the needed GPUs span.", "nodes", func(d *DeployRow) int { return d.NodesNeeded }, sized), noTarget),
		lat(ColTTFTP50Ms, "TTFT p50 (ms)", "Median time to first token, queueing included.", func(l *deploy.Latency) float64 { return l.TTFTP50 }),
		lat(ColTTFTP90Ms, "TTFT p90 (ms)", "90th-percentile time to first token, queueing included.", func(l *deploy.Latency) float64 { return l.TTFTP90 }),
		lat(ColTPOTP50Ms, "TPOT p50 (ms)", "Median time per output token.", func(l *deploy.Latency) float64 { return l.TPOTP50 }),
		lat(ColTPOTP90Ms, "TPOT p90 (ms)", "90th-percentile time per output token.", func(l *deploy.Latency) float64 { return l.TPOTP90 }),
		lat(ColE2EP50Ms, "E2E p50 (ms)", "Median end-to-end request latency.", func(l *deploy.Latency) float64 { return l.E2EP50 }),
		lat(ColE2EP90Ms, "E2E p90 (ms)", "90th-percentile end-to-end request latency.", func(l *deploy.Latency) float64 { return l.E2EP90 }),
		nullIn(depFloat(ColTokSPerUser, "Tokens/s per user", "Decode speed one user sees.", "tok/s", "#,##0.0", func(d *DeployRow) float64 { return d.TokSPerUser }, perUserKnown), unplanned),
		nullIn(depFloat(ColSLOHeadroom, "SLO headroom", "Smallest (limit − predicted) / limit over the SLO's limits."+target, "fraction", "0.0%", func(d *DeployRow) float64 { return d.Headroom }, withTarget), noTarget),
		grouped(boolCol(ColPriceMissing, "Price missing", "True when no price is known for the GPU (the row's cost columns are null, its other figures stand).",
			func(r *Row) (bool, bool) { return r.Deploy.Cost.PriceMissing, validRow(r) })),
		withWidth(nullStrCol(ColPriceSource, "Price source", "Where the $/GPU-hour comes from (catalog median with its date range, or --prices).",
			func(r *Row) string { return r.Deploy.Cost.PriceSource }), 28),
		nullIn(depFloat(ColUSDPerHour, "$/hour (deployment)", "On-demand cost per hour of the whole deployment.", usd+"/hour", "$#,##0.00", func(d *DeployRow) float64 { return d.Cost.USDPerHour }, costKnown), unpriced),
		nullIn(depFloat(ColUSDPerMonth, "$/month (deployment)", "On-demand cost per month (730 h) of the whole deployment.", usd+"/month", "$#,##0", func(d *DeployRow) float64 { return d.Cost.USDPerMonth }, costKnown), unpriced),
		nullIn(depFloat(ColUSDPerMInputTokens, "$/M input tokens", "Cost of a million prompt tokens.", "USD per million input tokens", "$#,##0.000", func(d *DeployRow) float64 { return d.Cost.USDPerMInput }, costKnown), unpriced),
		nullIn(depFloat(ColUSDPerMBlendedTokens, "$/M tokens (blended)", "Cost of a million tokens, prompt and output together.", "USD per million tokens", "$#,##0.000", func(d *DeployRow) float64 { return d.Cost.USDPerMBlended }, costKnown), unpriced),
		depFloat(ColOwnedUSDPerGPUHour, "Owned $/GPU-hour", "Purchase amortised + power (TDP × utilisation × PUE × $/kWh) per GPU-hour.", usd+"/GPU-hour", "$#,##0.00", func(d *DeployRow) float64 { return d.Cost.OwnedUSDPerGPUHour }, ownedKnown),
		depFloat(ColTCOUSDPerMonth, "Owned TCO $/month", "Owned cost per month of the deployment.", usd+"/month", "$#,##0", func(d *DeployRow) float64 { return d.Cost.TCOUSDPerMonth }, tcoKnown),
		grouped(withValues(nullStrCol(ColQualityClass, "Quality class", "Weight-format class; rows of different classes are never compared as equal.",
			func(r *Row) string { return r.Deploy.Quality }), "bf16", "fp8", "int8", "int4", "fp4")),
		boolCol(ColPareto, "Pareto", "True when no other row of the same model and quality class is both cheaper per token and faster per user.",
			func(r *Row) (bool, bool) { return r.Deploy.Pareto, r.Deploy.HasPareto }),
	}
}
