package main

import (
	"math"

	"github.com/vllm-wizard/vllm-wizard/planner/deploy"
	"github.com/vllm-wizard/vllm-wizard/reports"
	"github.com/vllm-wizard/vllm-wizard/sweep"
)

// The deployment columns (issue #11; the contract the workbook reads):
// data-parallel layout, the target's SLO verdict and sizing, latency
// percentiles, cost and TCO, quality class and the Pareto flag.

func boolCol(name string, f func(*sweep.Row) (bool, bool)) sweepColumn {
	return sweepColumn{Name: name, Kind: reports.KindBool, Nullable: true, Bool: f}
}

func depInt(name, unit string, f func(*sweep.DeployRow) int, ok func(*sweep.Row) bool) sweepColumn {
	return nullIntCol(name, unit, "#,##0", func(r *sweep.Row) (int, bool) { return f(&r.Deploy), ok(r) })
}

func depFloat(name, unit, numFmt string, f func(*sweep.DeployRow) float64, ok func(*sweep.Row) bool) sweepColumn {
	return floatCol(name, unit, numFmt, func(r *sweep.Row) (float64, bool) {
		v := f(&r.Deploy)
		return v, ok(r) && !math.IsNaN(v) && !math.IsInf(v, 0)
	})
}

func validRow(r *sweep.Row) bool   { return r.Deploy.PP > 0 }
func withTarget(r *sweep.Row) bool { return r.Deploy.HasTarget }
func sized(r *sweep.Row) bool      { return r.Deploy.HasTarget && r.Deploy.MeetsSLO }
func hasLatency(r *sweep.Row) bool { return r.Deploy.HasTarget && r.Deploy.Latency.Stable }
func priced(r *sweep.Row) bool {
	return r.Deploy.Planned && !r.Deploy.Cost.PriceMissing && r.Deploy.Cost.USDPerHour > 0
}
func costKnown(r *sweep.Row) bool    { return priced(r) && (!r.Deploy.HasTarget || r.Deploy.MeetsSLO) }
func ownedKnown(r *sweep.Row) bool   { return r.Deploy.Cost.OwnedUSDPerGPUHour > 0 }
func tcoKnown(r *sweep.Row) bool     { return ownedKnown(r) && r.Deploy.Cost.TCOUSDPerMonth > 0 }
func perUserKnown(r *sweep.Row) bool { return r.Deploy.Planned && r.Deploy.TokSPerUser > 0 }

func bindingValues() []string {
	return []string{deploy.LimitTTFT, deploy.LimitTPOT, deploy.LimitE2E, deploy.LimitTokS, deploy.LimitMemory, deploy.LimitCapacity}
}

func deployColumns() []sweepColumn {
	const ms, usd = "ms", "USD"
	lat := func(name string, f func(*deploy.Latency) float64) sweepColumn {
		return depFloat(name, ms, "#,##0.0", func(d *sweep.DeployRow) float64 { return f(&d.Latency) }, hasLatency)
	}
	return []sweepColumn{
		depInt("pp", "", func(d *sweep.DeployRow) int { return d.PP }, validRow),
		depInt("replicas", "", func(d *sweep.DeployRow) int { return d.Replicas }, validRow),
		depInt("gpus_per_node", "GPUs", func(d *sweep.DeployRow) int { return d.GPUsPerNode }, validRow),
		depInt("nodes", "nodes", func(d *sweep.DeployRow) int { return d.Nodes }, validRow),
		boolCol("meets_slo", func(r *sweep.Row) (bool, bool) { return r.Deploy.MeetsSLO, withTarget(r) }),
		withValues(nullStrCol("binding_limit", func(r *sweep.Row) string { return r.Deploy.Binding }), bindingValues()...),
		depInt("replicas_needed", "", func(d *sweep.DeployRow) int { return d.ReplicasNeeded }, sized),
		depInt("gpus_needed", "GPUs", func(d *sweep.DeployRow) int { return d.GPUsNeeded }, sized),
		depInt("nodes_needed", "nodes", func(d *sweep.DeployRow) int { return d.NodesNeeded }, sized),
		lat("ttft_p50_ms", func(l *deploy.Latency) float64 { return l.TTFTP50 }),
		lat("ttft_p90_ms", func(l *deploy.Latency) float64 { return l.TTFTP90 }),
		lat("tpot_p50_ms", func(l *deploy.Latency) float64 { return l.TPOTP50 }),
		lat("tpot_p90_ms", func(l *deploy.Latency) float64 { return l.TPOTP90 }),
		lat("e2e_p50_ms", func(l *deploy.Latency) float64 { return l.E2EP50 }),
		lat("e2e_p90_ms", func(l *deploy.Latency) float64 { return l.E2EP90 }),
		depFloat("tok_s_per_user", "tok/s", "#,##0.0", func(d *sweep.DeployRow) float64 { return d.TokSPerUser }, perUserKnown),
		depFloat("slo_headroom", "fraction", "0.0%", func(d *sweep.DeployRow) float64 { return d.Headroom }, withTarget),
		boolCol("price_missing", func(r *sweep.Row) (bool, bool) { return r.Deploy.Cost.PriceMissing, validRow(r) }),
		nullStrCol("price_source", func(r *sweep.Row) string { return r.Deploy.Cost.PriceSource }),
		depFloat("usd_per_hour", usd+"/hour", "$#,##0.00", func(d *sweep.DeployRow) float64 { return d.Cost.USDPerHour }, costKnown),
		depFloat("usd_per_month", usd+"/month", "$#,##0", func(d *sweep.DeployRow) float64 { return d.Cost.USDPerMonth }, costKnown),
		depFloat("usd_per_m_input_tokens", "USD per million input tokens", "$#,##0.000", func(d *sweep.DeployRow) float64 { return d.Cost.USDPerMInput }, costKnown),
		depFloat("usd_per_m_blended_tokens", "USD per million tokens", "$#,##0.000", func(d *sweep.DeployRow) float64 { return d.Cost.USDPerMBlended }, costKnown),
		depFloat("owned_usd_per_gpu_hour", usd+"/GPU-hour", "$#,##0.00", func(d *sweep.DeployRow) float64 { return d.Cost.OwnedUSDPerGPUHour }, ownedKnown),
		depFloat("tco_usd_per_month", usd+"/month", "$#,##0", func(d *sweep.DeployRow) float64 { return d.Cost.TCOUSDPerMonth }, tcoKnown),
		withValues(nullStrCol("quality_class", func(r *sweep.Row) string { return r.Deploy.Quality }), "bf16", "fp8", "int8", "int4", "fp4"),
		boolCol("pareto", func(r *sweep.Row) (bool, bool) { return r.Deploy.Pareto, r.Deploy.HasPareto }),
	}
}
