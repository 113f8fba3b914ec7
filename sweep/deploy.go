package sweep

import (
	"context"
	"fmt"
	"math"

	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/planner/deploy"
)

// WorkloadSpec is the grid file's workload: the shapes of the prompt and
// output length distributions (their means are the prompt_tokens and
// gen_tokens axes), and the deployment settings.
type WorkloadSpec struct {
	PromptP90   float64 `yaml:"prompt_p90"`
	GenP90      float64 `yaml:"gen_p90"`
	PromptShape string  `yaml:"prompt_shape"`
	GenShape    string  `yaml:"gen_shape"`
	// ScaleOut is infiniband, roce or ethernet; GPUsPerNode 0 = the GPU's.
	ScaleOut    string `yaml:"scaleout"`
	GPUsPerNode int    `yaml:"gpus_per_node"`
	MaxGPUs     int    `yaml:"max_gpus"`
	// Owned-cost parameters (zero = deploy.DefaultCost's).
	AmortisationYears float64 `yaml:"amortisation_years"`
	PowerUtilization  float64 `yaml:"power_utilization"`
	PUE               float64 `yaml:"pue"`
	USDPerKWh         float64 `yaml:"usd_per_kwh"`
}

// TargetSpec is the load every row's deployment must serve.
type TargetSpec struct {
	RequestRate float64 `yaml:"request_rate"`
	Users       int     `yaml:"users"`
	ThinkS      float64 `yaml:"think_s"`
}

// DeployRow holds a row's deployment columns (docs/sweep.md, BRIEF
// contract): set for planned rows; the target fields only with a target.
type DeployRow struct {
	// Planned: the row is ok with a performance estimate.
	Planned     bool
	PP          int
	Replicas    int
	GPUsPerNode int
	Nodes       int
	// HasTarget: the grid has a target; the fields below it are set.
	HasTarget      bool
	MeetsSLO       bool
	Binding        string
	ReplicasNeeded int
	GPUsNeeded     int
	NodesNeeded    int
	Latency        deploy.Latency
	TokSPerUser    float64
	Headroom       float64
	// Cost: of the row's GPUs at its load without a target; of the needed
	// deployment at the target with one.
	Cost    deploy.Cost
	Quality string
	// HasPareto: the pareto pass ran and the row had cost and speed.
	HasPareto bool
	Pareto    bool
}

// deploySettings are the grid's deployment settings, resolved once.
type deploySettings struct {
	on      bool
	slo     deploy.SLO
	target  TargetSpec
	wl      WorkloadSpec
	link    deploy.Link
	cost    deploy.CostParams
	maxGPUs int
}

func (g *Grid) normalizeDeploy() error {
	bad := func(key string, err error) error { return fmt.Errorf("%w: %s: %w", ErrBadGrid, key, err) }
	if g.SLO != nil {
		if err := g.SLO.Validate(); err != nil {
			return bad("slo", err)
		}
	}
	if g.Target != nil {
		w := deploy.Workload{Prompt: deploy.Fixed(1), Output: deploy.Fixed(1), RequestRate: g.Target.RequestRate, Users: g.Target.Users, ThinkS: g.Target.ThinkS}
		if err := w.Validate(); err != nil {
			return bad("target", err)
		}
	}
	if g.SLO != nil && g.Target == nil {
		return bad("slo", fmt.Errorf("an SLO needs a target load: add target: {request_rate: …} or {users: …}"))
	}
	if w := g.Workload; w != nil {
		if _, err := deploy.ParseLink(w.ScaleOut); err != nil {
			return bad("workload", err)
		}
		if w.GPUsPerNode < 0 || w.GPUsPerNode > 1024 || w.MaxGPUs < 0 {
			return bad("workload", fmt.Errorf("gpus_per_node and max_gpus must be ≥ 0"))
		}
		c := costParams(w)
		if err := c.Validate(); err != nil {
			return bad("workload", err)
		}
		for _, d := range []deploy.Dist{{Mean: 1024, P90: w.PromptP90, Shape: w.PromptShape}, {Mean: 1024, P90: w.GenP90, Shape: w.GenShape}} {
			if d.P90 != 0 && d.P90 < 0 {
				return bad("workload", fmt.Errorf("p90 %v must be > 0", d.P90))
			}
			if d.P90 == 0 {
				if err := d.Validate(); err != nil {
					return bad("workload", err)
				}
			}
		}
	}
	return nil
}

func costParams(w *WorkloadSpec) deploy.CostParams {
	c := deploy.DefaultCost
	if w == nil {
		return c
	}
	if w.AmortisationYears != 0 {
		c.AmortisationYears = w.AmortisationYears
	}
	if w.PowerUtilization != 0 {
		c.PowerUtilization = w.PowerUtilization
	}
	if w.PUE != 0 {
		c.PUE = w.PUE
	}
	if w.USDPerKWh != 0 {
		c.USDPerKWh = w.USDPerKWh
	}
	return c
}

func newDeploySettings(g *Grid) deploySettings {
	s := deploySettings{cost: costParams(g.Workload), link: deploy.LinkInfiniBand, maxGPUs: 4096}
	if g.Workload != nil {
		s.wl = *g.Workload
		s.link, _ = deploy.ParseLink(s.wl.ScaleOut)
		if s.wl.MaxGPUs > 0 {
			s.maxGPUs = s.wl.MaxGPUs
		}
	}
	if g.Target != nil {
		s.on, s.target = true, *g.Target
	}
	if g.SLO != nil {
		s.slo = *g.SLO
	}
	return s
}

func dist(mean int, p90 float64, shape string) deploy.Dist {
	d := deploy.Dist{Mean: float64(max(mean, 1)), P90: p90, Shape: shape}
	if d.P90 > 0 && d.Validate() != nil {
		d.P90 = 0 // the axis value makes the grid's p90 impossible: plan it fixed
	}
	if d.P90 > 0 {
		d.Shape = deploy.ShapeLogNormal
	}
	return d
}

// deployRow fills r.Deploy after the planner's Evaluate: data-parallel
// replicas of the GPU count, the cost of the row's GPUs, and with a target
// the deployment that serves it.
func (s *Space) deployRow(prep *planner.Prepared, gi int, r *Row, hint, pp int, pass bool) {
	d := &r.Deploy
	*d = DeployRow{}
	d.PP = pp // the point's input, like its TP
	if r.Status == planner.StatusInvalid {
		return
	}
	g := prep.GPU()
	gpn := s.gpn[gi]
	d.GPUsPerNode = gpn
	d.Quality = deploy.QualityClass(r.Quantization)
	tp := max(r.TP, 1)
	d.Replicas = max(r.GPUCount/(tp*pp), 1)
	r.GPUsUsed = d.Replicas * tp * pp
	_, d.Nodes = deploy.Footprint(d.Replicas, tp, pp, gpn)
	if r.Status != planner.StatusOK || !r.HasPerf || r.Load.Concurrency == 0 {
		d.Cost = deploy.Cost{PriceMissing: !(g.PriceUSDPerHour > 0)}
		return
	}
	d.Planned = true
	// Data parallelism: every replica serves its own batch.
	k := float64(d.Replicas)
	r.Load.OutputTokS *= k
	r.Load.OutputTokSRange[0] *= k
	r.Load.OutputTokSRange[1] *= k
	if !s.dep.on {
		out := r.Load.OutputTokS
		in := out * float64(r.PromptTokens) / float64(max(r.GenTokens, 1))
		s.rates[gi].CostInto(&d.Cost, r.GPUsUsed, in, out)
		d.TokSPerUser = r.Load.PerStreamTokS
		return
	}
	s.deployTarget(prep, r, s.rates[gi].Price, gpn, tp, pp, hint, pass)
}

// refuse makes r an invalid row for why, keeping only the point's resolved
// names and TP (the layout rules' refusals: TP × PP, layers, node).
func (r *Row) refuse(why planner.Reason) {
	r.Result = planner.Result{Status: planner.StatusInvalid, Reason: why, Quantization: r.Quantization, KVCacheDtype: r.KVCacheDtype,
		Interconnect: r.Interconnect, TP: r.TP}
}

// evaluatePipeline is Evaluate for a row of pp > 1 stages, with plan's
// pipeline (planner/deploy): the stage's memory from the pair's heaviest
// stage prepared (deploy.Stage, ⌈layers/pp⌉ layers on TP GPUs), the layout
// rules (TP × PP within the GPU count, pp within the layers, TP within a
// node), and the load figures from the pipelined cycle of
// deploy.PlannerReplicas: a token needs every stage once plus pp − 1
// boundary transfers, with its bubble below pp sequences.
func (s *Space) evaluatePipeline(full, stage *planner.Prepared, pt *planner.Point, pp, gi int, r *Row) {
	m := full.Model()
	gc := pt.GPUCount
	one := *pt
	one.GPUCount = pt.TP // a stage's TP GPUs
	stage.Evaluate(&one, &r.Result)
	if r.Status == planner.StatusInvalid {
		return
	}
	refuse := r.refuse
	gpn := s.gpn[gi]
	switch {
	case pt.TP*pp > gc:
		refuse(planner.ReasonTPPPExceedsGPUs)
		return
	case m.NumLayers > 0 && pp > m.NumLayers:
		refuse(planner.ReasonPPExceedsLayers)
		return
	case pt.TP > gpn:
		refuse(planner.ReasonTPExceedsNode)
		return
	}
	if r.Status != planner.StatusOK || !r.HasPerf {
		return
	}
	w := deploy.Workload{Prompt: deploy.Fixed(max(r.PromptTokens, 1)), Output: deploy.Fixed(max(r.GenTokens, 1))}
	t := deploy.Target{Model: *m, GPU: *full.GPU(), Baselines: s.b, Policy: s.Grid.Policy.Policy(), Quantization: r.Quantization, KVCacheDtype: r.KVCacheDtype,
		ContextLen: r.ContextLen, ScaleOut: s.dep.link, GPUsPerNode: gpn, Prepared: full}
	rep, why := deploy.PlannerReplicas(&t, &w)(deploy.Layout{TP: pt.TP, PP: pp})
	if why != "" {
		// The stage fits by the planner's memory model; the replica's
		// step model has no basis.
		r.HasPerf, r.Reason = false, planner.ReasonNoPerfBasis
		r.Perf, r.Load = planner.PerfEstimate{}, planner.LoadEstimate{}
		return
	}
	ctx := float64(r.PromptTokens) + float64(r.GenTokens)/2
	b := max(r.Load.Concurrency, 1)
	cyc, cyc1 := rep.CycleS(b, ctx), rep.CycleS(1, ctx)
	pre := rep.PrefillS(r.PromptTokens)
	// The stage's ranges carry the estimate's uncertainty; they move with
	// the figure.
	set := func(v *float64, rg *planner.Range, to float64) {
		if *v > 0 && rg != nil {
			rg[0] *= to / *v
			rg[1] *= to / *v
		}
		*v = to
	}
	l, f := &r.Load, &r.Perf
	set(&l.OutputTokS, &l.OutputTokSRange, float64(b)/cyc)
	l.PerStreamTokS = 1 / cyc
	set(&l.TPOTMs, &l.TPOTMsRange, 1000*cyc)
	set(&l.TTFTMs, &l.TTFTMsRange, 1000*(pre+cyc))
	l.USDPerMOutputTokens = 0
	if price := full.GPU().PriceUSDPerHour; price > 0 {
		l.USDPerMOutputTokens = price * float64(pt.TP*pp) / (l.OutputTokS * 3600) * 1e6
	}
	set(&f.DecodeTokS, &f.DecodeTokSRange, 1/cyc1)
	set(&f.TTFTMs, &f.TTFTMsRange, 1000*pre)
	if pre > 0 {
		set(&f.PrefillTokS, &f.PrefillTokSRange, float64(r.PromptTokens)/pre)
	}
	f.RooflineTokS, f.Clamped = 0, false
}

// deployTarget sizes the deployment of a row that serves the grid's target.
// hint, when ≥ 0, is the replicas an earlier pass found (0: none met it).
// In the Pareto pass (pass) the search computes only the latency figures
// the SLO judges (deploy.SizeJudged): the row's other latency columns stay
// zero, its sizing, cost and speed per user are Size's.
func (s *Space) deployTarget(prep *planner.Prepared, r *Row, price deploy.Price, gpn, tp, pp, hint int, pass bool) {
	d := &r.Deploy
	g := prep.GPU()
	w := deploy.Workload{Prompt: dist(r.PromptTokens, s.dep.wl.PromptP90, s.dep.wl.PromptShape), Output: dist(r.GenTokens, s.dep.wl.GenP90, s.dep.wl.GenShape),
		RequestRate: s.dep.target.RequestRate, Users: s.dep.target.Users, ThinkS: s.dep.target.ThinkS}
	t := deploy.Target{Model: *prep.Model(), GPU: *g, Baselines: s.b, Policy: s.Grid.Policy.Policy(), Quantization: r.Quantization, KVCacheDtype: r.KVCacheDtype,
		ContextLen: r.ContextLen, ScaleOut: s.dep.link, GPUsPerNode: gpn, Prepared: prep}
	rep, why := deploy.PlannerReplicas(&t, &w)(deploy.Layout{TP: tp, PP: pp})
	d.HasTarget = true
	if why != "" {
		d.Binding = deploy.LimitMemory
		d.Cost = deploy.Cost{PriceMissing: !(g.PriceUSDPerHour > 0)}
		return
	}
	rep.MaxNumSeqs = r.Concurrency
	p := deploy.Params{Workload: w, SLO: s.dep.slo, Price: price, Cost: s.dep.cost, GPUsPerNode: gpn, MaxGPUs: s.dep.maxGPUs}
	var dep deploy.Deployment
	ok := false
	if hint >= 0 {
		// The Pareto pass sized this row already: one prediction, same row.
		ok = hint > 0
		dep = deploy.SizeKnown(rep, &p, hint, ok)
	} else if pass {
		dep, ok = deploy.SizeJudged(rep, &p)
	} else {
		dep, ok = deploy.Size(rep, &p)
	}
	d.MeetsSLO = ok
	d.Binding, d.Headroom = dep.Binding, dep.Headroom
	if ok {
		d.ReplicasNeeded, d.GPUsNeeded, d.NodesNeeded = dep.Replicas, dep.GPUs, dep.Nodes
	}
	d.Latency, d.TokSPerUser, d.Cost = dep.Latency, dep.TokSPerUser, dep.Cost
	if !ok {
		// No deployment meets it: keep the price facts, not a cost.
		d.Cost = deploy.Cost{PriceMissing: dep.Cost.PriceMissing, PriceSource: dep.Cost.PriceSource, USDPerGPUHour: dep.Cost.USDPerGPUHour, OwnedUSDPerGPUHour: dep.Cost.OwnedUSDPerGPUHour}
	}
}

// NeedsPareto reports whether the rows carry a pareto column worth a
// first pass: when a GPU of the grid has a price. Without one no row has a
// cost per token, so none can be on a frontier and the column stays empty.
// With a target the pass's sizing is kept (4 bytes a row), so the writing
// run predicts each row's deployment once instead of searching again.
func (s *Space) NeedsPareto() bool {
	for i := range s.GPUs {
		if s.GPUs[i].PriceUSDPerHour > 0 {
			return true
		}
	}
	return false
}

// ParetoFlags holds what a ParetoPass learnt: each (model, quality class)
// group's frontier of $/M output tokens against tok/s per user — only the
// frontier, so memory does not grow with the grid — and, with a target,
// each row's sizing while the grid is at most maxSizedRows long.
type ParetoFlags struct {
	First    int64
	groups   map[[2]string]uint32
	frontier deploy.Frontier
	// sized holds, with a target, each row's replicas needed plus one (1:
	// none meets it; 0: not sized), so the writing run predicts once.
	sized []uint32
	// beaten has a bit set for each row a frontier point already beat when
	// the pass added it (deploy.Frontier.AddBeaten): it is off the final
	// frontier too, so the writing run skips its search. Kept, like
	// sized, for the grid's own estimator and at most maxSizedRows rows.
	beaten []uint64
}

// maxSizedRows bounds the reused sizing (4 bytes a row, 64 MiB at most);
// longer grids search again in the writing run, with the same answers.
const maxSizedRows = 1 << 24

// hint is the row's sizing for deployTarget: -1 when unknown.
func (f *ParetoFlags) hint(i int64) int {
	if f == nil {
		return -1
	}
	j := i - f.First
	if j < 0 || j >= int64(len(f.sized)) || f.sized[j] == 0 {
		return -1
	}
	return int(f.sized[j]) - 1
}

// get says whether the row is on its group's frontier, and whether it has
// both figures (rows without them are never on it). g, when not nil, is the
// group the point's model and quantization usually have (groupTable).
// own says the row comes from the Space's own estimator, as in the pass, so
// its beaten bit applies.
func (f *ParetoFlags) get(r *Row, g *paretoGroup, own bool) (pareto, ok bool) {
	cost, speed, has := paretoFigures(r)
	if f == nil || !has {
		return false, false
	}
	if j := r.Index - f.First; own && j >= 0 && j < int64(len(f.beaten))*64 && f.beaten[j>>6]&(1<<(j&63)) != 0 {
		return false, true
	}
	var gid uint32
	if g != nil && g.model == r.Model && g.quality == r.Deploy.Quality {
		if g.gid < 0 {
			return false, false
		}
		gid = uint32(g.gid)
	} else {
		id, known := f.groups[[2]string{r.Model, r.Deploy.Quality}]
		if !known {
			return false, false
		}
		gid = id
	}
	return !f.frontier.Beaten(gid, float32(cost), float32(speed)), true
}

// paretoGroup is the frontier group (gid, -1 for none) of a model and
// quality class, for rows that have them.
type paretoGroup struct {
	model, quality string
	gid            int32
}

// groupTable gives each (model, quantization axis position) of s the group
// its rows fall in when their quantization resolves as Evaluate resolves it
// ("auto" = the checkpoint's own), so the writing run finds a row's group
// without hashing its strings; get checks the names and looks up any other.
func (f *ParetoFlags) groupTable(s *Space) []paretoGroup {
	qs := s.Grid.Quantizations
	t := make([]paretoGroup, len(s.Models)*len(qs))
	for mi := range s.Models {
		native := s.prepared[mi*len(s.GPUs)].NativeOrNone()
		for qi, q := range qs {
			if q == "" || q == "auto" {
				q = native
			}
			g := paretoGroup{model: s.Models[mi].ID, quality: deploy.QualityClass(q), gid: -1}
			if id, ok := f.groups[[2]string{g.model, g.quality}]; ok {
				g.gid = int32(id)
			}
			t[mi*len(qs)+qi] = g
		}
	}
	return t
}

// paretoRec is what the Pareto pass keeps of a row: its group, its two
// figures and its sizing.
type paretoRec struct {
	index          int64
	model, quality string
	cost, speed    float32
	sized          uint32
	has            bool
}

// paretoSpan is the points per work item of the Pareto pass. Its workers
// evaluate each point into one reused Row, which stays in the caches, and
// hand on only a paretoRec (56 bytes, against a Row's 1,248).
const paretoSpan = 2048

// ParetoPass runs the grid once keeping each group's frontier (and, with a
// target and a grid of at most maxSizedRows, 4 bytes of sizing a row) for a
// second, writing, run.
func ParetoPass(ctx context.Context, s *Space, est Estimator, opt Options) (*ParetoFlags, error) {
	workers, _ := Workers(opt.Workers) // the frontier is over the whole grid, whatever opt.Shard
	f := &ParetoFlags{groups: map[[2]string]uint32{}}
	keepSizing := s.dep.on && s.Len() <= maxSizedRows
	// The grid's own estimator: the pass reads no latency column.
	own := est == Estimator(s)
	keepBeaten := own && s.Len() <= maxSizedRows
	if keepBeaten {
		f.beaten = make([]uint64, (s.Len()+63)/64)
	}
	seen := int64(0) // rows the sink has had
	first := int64(-1)
	// The group of the last row (the sink runs on one goroutine): rows come
	// in runs of one model and quality class.
	var last [2]string
	var lastGid uint32
	haveLast := false
	err := runOrdered(ctx, workers, 0, s.Len(), paretoSpan, func(ctx context.Context, c *span[paretoRec]) error {
		var r Row
		var p Point
		s.PointAt(c.lo, &p)
		recs := c.out[:c.hi-c.lo]
		for i := range recs {
			if i&255 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			if own {
				s.estimate(&p, &r, -1, true)
			} else if err := est.Estimate(&p, &r); err != nil {
				return fmt.Errorf("point %d: %w", p.Index, err)
			}
			rec := &recs[i]
			cost, speed, has := paretoFigures(&r)
			rec.index, rec.model, rec.quality = r.Index, r.Model, r.Deploy.Quality
			rec.cost, rec.speed, rec.sized, rec.has = float32(cost), float32(speed), sizing(&r.Deploy), has
			s.Next(&p)
		}
		return nil
	}, func(recs []paretoRec) error {
		for i := range recs {
			r := &recs[i]
			if first < 0 {
				first = r.index
			}
			if keepSizing {
				f.sized = append(f.sized, r.sized)
			}
			j := seen
			seen++
			if !r.has {
				continue
			}
			key := [2]string{r.model, r.quality}
			if !haveLast || key != last {
				gid, ok := f.groups[key]
				if !ok {
					gid = uint32(len(f.groups))
					f.groups[key] = gid
				}
				last, lastGid, haveLast = key, gid, true
			}
			if f.frontier.AddBeaten(lastGid, r.cost, r.speed) && keepBeaten {
				f.beaten[j>>6] |= 1 << (j & 63)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	f.First = max(first, 0)
	return f, nil
}

// paretoFigures are a row's cost per token and speed per user: of the
// needed deployment with a target (rows meeting the SLO only), else at the
// row's own load.
func paretoFigures(r *Row) (cost, speed float64, ok bool) {
	d := &r.Deploy
	if !d.Planned || d.Cost.PriceMissing || !(d.Cost.USDPerMOutput > 0) {
		return 0, 0, false
	}
	if d.HasTarget && !d.MeetsSLO {
		return 0, 0, false
	}
	if math.IsInf(d.TokSPerUser, 0) || !(d.TokSPerUser > 0) {
		return 0, 0, false
	}
	return d.Cost.USDPerMOutput, d.TokSPerUser, true
}

// sizing is what a row's target search found, for ParetoFlags.sized.
func sizing(d *DeployRow) uint32 {
	switch {
	case !d.HasTarget:
		return 0
	case d.MeetsSLO:
		return uint32(d.ReplicasNeeded) + 1
	}
	return 1
}

// WithPareto wraps an estimator so rows carry the flags of a ParetoPass.
// The grid's own estimator (the Space) also reuses the pass's sizing.
func WithPareto(est Estimator, f *ParetoFlags) Estimator {
	s, _ := est.(*Space)
	var groups []paretoGroup
	if s != nil && f != nil {
		groups = f.groupTable(s)
	}
	return EstimateFunc(func(p *Point, r *Row) error {
		var g *paretoGroup
		if s != nil {
			s.estimate(p, r, f.hint(p.Index), false)
			if groups != nil {
				g = &groups[int(p.Pos[AxisModel])*len(s.Grid.Quantizations)+int(p.Pos[AxisQuantization])]
			}
		} else if err := est.Estimate(p, r); err != nil {
			return err
		}
		r.Deploy.Pareto, r.Deploy.HasPareto = f.get(r, g, s != nil)
		return nil
	})
}
