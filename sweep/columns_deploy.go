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

// finite is v and ok, null where v is NaN or infinite (either fails the
// comparison; cheaper to inline than math.IsNaN and math.IsInf).
func finite(v float64, ok bool) (float64, bool) {
	return v, ok && math.Abs(v) <= math.MaxFloat64
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
	lat := func(name, label, desc string, f func(*Row) (float64, bool)) Column {
		return nullIn(floatCol(name, label, desc+" Under the target load (docs/queueing.md)."+target, ms, "#,##0.0", f), noTarget)
	}
	return []Column{
		grouped(depInt(ColPP, "PP", "Pipeline-parallel stages of one replica (the grid's pp, default 1).", "", func(d *DeployRow) int { return d.PP }, hasPP)),
		grouped(depInt(ColReplicas, "Replicas", "Data-parallel replicas the row's GPUs hold (gpu_count / (tp × pp)).", "", func(d *DeployRow) int { return d.Replicas }, validRow)),
		grouped(depInt(ColGPUsPerNode, "GPUs per node", "GPUs one node holds for this GPU type (8 for HGX/OAM, fewer for cards).", "GPUs", func(d *DeployRow) int { return d.GPUsPerNode }, validRow)),
		grouped(depInt(ColNodes, "Nodes", "Nodes the row's GPUs span.", "nodes", func(d *DeployRow) int { return d.Nodes }, validRow)),
		nullIn(boolCol(ColMeetsSLO, "Meets SLO", "Whether a deployment of this configuration meets the grid's SLO at its target load."+target,
			readMeetsSLO), noTarget),
		withWidth(withValues(nullStrCol(ColBindingLimit, "Binding limit", "The SLO limit (or memory/capacity) closest to being broken, or that breaks.",
			func(r *Row) string { return r.Deploy.Binding }), bindingValues()...), 14),
		nullIn(int64Col(ColReplicasNeeded, "Replicas needed", "Replicas needed to serve the target load within the SLO.", "", "#,##0", true, readReplicasNeeded), noTarget),
		nullIn(int64Col(ColGPUsNeeded, "GPUs needed", "GPUs needed to serve the target load within the SLO (replicas × tp × pp).", "GPUs", "#,##0", true, readGPUsNeeded), noTarget),
		nullIn(int64Col(ColNodesNeeded, "Nodes needed", "Nodes the needed GPUs span.", "nodes", "#,##0", true, readNodesNeeded), noTarget),
		lat(ColTTFTP50Ms, "TTFT p50 (ms)", "Median time to first token, queueing included.", readTTFTP50Ms),
		lat(ColTTFTP90Ms, "TTFT p90 (ms)", "90th-percentile time to first token, queueing included.", readTTFTP90Ms),
		lat(ColTPOTP50Ms, "TPOT p50 (ms)", "Median time per output token.", readTPOTP50Ms),
		lat(ColTPOTP90Ms, "TPOT p90 (ms)", "90th-percentile time per output token.", readTPOTP90Ms),
		lat(ColE2EP50Ms, "E2E p50 (ms)", "Median end-to-end request latency.", readE2EP50Ms),
		lat(ColE2EP90Ms, "E2E p90 (ms)", "90th-percentile end-to-end request latency.", readE2EP90Ms),
		nullIn(floatCol(ColTokSPerUser, "Tokens/s per user", "Decode speed one user sees.", "tok/s", "#,##0.0", readTokSPerUser), unplanned),
		nullIn(floatCol(ColSLOHeadroom, "SLO headroom", "Smallest (limit − predicted) / limit over the SLO's limits."+target, "fraction", "0.0%", readSLOHeadroom), noTarget),
		grouped(boolCol(ColPriceMissing, "Price missing", "True when no price is known for the GPU (the row's cost columns are null, its other figures stand).",
			func(r *Row) (bool, bool) { return r.Deploy.Cost.PriceMissing, validRow(r) })),
		withWidth(nullStrCol(ColPriceSource, "Price source", "Where the $/GPU-hour comes from (catalog median with its date range, or --prices).",
			func(r *Row) string { return r.Deploy.Cost.PriceSource }), 28),
		nullIn(floatCol(ColUSDPerHour, "$/hour (deployment)", "On-demand cost per hour of the whole deployment.", usd+"/hour", "$#,##0.00", readUSDPerHour), unpriced),
		nullIn(floatCol(ColUSDPerMonth, "$/month (deployment)", "On-demand cost per month (730 h) of the whole deployment.", usd+"/month", "$#,##0", readUSDPerMonth), unpriced),
		nullIn(floatCol(ColUSDPerMInputTokens, "$/M input tokens", "Cost of a million prompt tokens.", "USD per million input tokens", "$#,##0.000", readUSDPerMInputTokens), unpriced),
		nullIn(floatCol(ColUSDPerMBlendedTokens, "$/M tokens (blended)", "Cost of a million tokens, prompt and output together.", "USD per million tokens", "$#,##0.000", readUSDPerMBlendedTokens), unpriced),
		floatCol(ColOwnedUSDPerGPUHour, "Owned $/GPU-hour", "Purchase amortised + power (TDP × utilisation × PUE × $/kWh) per GPU-hour.", usd+"/GPU-hour", "$#,##0.00", readOwnedUSDPerGPUHour),
		floatCol(ColTCOUSDPerMonth, "Owned TCO $/month", "Owned cost per month of the deployment.", usd+"/month", "$#,##0", readTCOUSDPerMonth),
		grouped(withValues(nullStrCol(ColQualityClass, "Quality class", "Weight-format class; rows of different classes are never compared as equal.",
			func(r *Row) string { return r.Deploy.Quality }), "bf16", "fp8", "int8", "int4", "fp4")),
		boolCol(ColPareto, "Pareto", "True when no other row of the same model and quality class is both cheaper per token and faster per user.",
			readPareto),
	}
}

// The accessors of the row-scoped deployment columns (see readIndex).
func readMeetsSLO(r *Row) (bool, bool)       { return r.Deploy.MeetsSLO, withTarget(r) }
func readPareto(r *Row) (bool, bool)         { return r.Deploy.Pareto, r.Deploy.HasPareto }
func readTokSPerUser(r *Row) (float64, bool) { return finite(r.Deploy.TokSPerUser, perUserKnown(r)) }
func readSLOHeadroom(r *Row) (float64, bool) { return finite(r.Deploy.Headroom, withTarget(r)) }
func readUSDPerHour(r *Row) (float64, bool)  { return finite(r.Deploy.Cost.USDPerHour, costKnown(r)) }
func readUSDPerMonth(r *Row) (float64, bool) { return finite(r.Deploy.Cost.USDPerMonth, costKnown(r)) }
func readUSDPerMInputTokens(r *Row) (float64, bool) {
	return finite(r.Deploy.Cost.USDPerMInput, costKnown(r))
}
func readUSDPerMBlendedTokens(r *Row) (float64, bool) {
	return finite(r.Deploy.Cost.USDPerMBlended, costKnown(r))
}
func readOwnedUSDPerGPUHour(r *Row) (float64, bool) {
	return finite(r.Deploy.Cost.OwnedUSDPerGPUHour, ownedKnown(r))
}
func readTCOUSDPerMonth(r *Row) (float64, bool) {
	return finite(r.Deploy.Cost.TCOUSDPerMonth, tcoKnown(r))
}
func readReplicasNeeded(r *Row) (int64, bool) { return int64(r.Deploy.ReplicasNeeded), sized(r) }
func readGPUsNeeded(r *Row) (int64, bool)     { return int64(r.Deploy.GPUsNeeded), sized(r) }
func readNodesNeeded(r *Row) (int64, bool)    { return int64(r.Deploy.NodesNeeded), sized(r) }
func readTTFTP50Ms(r *Row) (float64, bool)    { return finite(r.Deploy.Latency.TTFTP50, hasLatency(r)) }
func readTTFTP90Ms(r *Row) (float64, bool)    { return finite(r.Deploy.Latency.TTFTP90, hasLatency(r)) }
func readTPOTP50Ms(r *Row) (float64, bool)    { return finite(r.Deploy.Latency.TPOTP50, hasLatency(r)) }
func readTPOTP90Ms(r *Row) (float64, bool)    { return finite(r.Deploy.Latency.TPOTP90, hasLatency(r)) }
func readE2EP50Ms(r *Row) (float64, bool)     { return finite(r.Deploy.Latency.E2EP50, hasLatency(r)) }
func readE2EP90Ms(r *Row) (float64, bool)     { return finite(r.Deploy.Latency.E2EP90, hasLatency(r)) }
