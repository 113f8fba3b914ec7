package sweep

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/planner/deploy"
)

// Axis numbers a grid axis; a point's index is a mixed-radix number whose
// digits are the positions on the axes, AxisModel the most significant and
// AxisGenTokens the least.
type Axis int

// Axes, outermost first.
const (
	AxisModel Axis = iota
	AxisGPU
	AxisGPUCount
	AxisTP
	AxisPP
	AxisContext
	AxisQuantization
	AxisKVCacheDtype
	AxisInterconnect
	AxisConcurrency
	AxisPromptTokens
	AxisGenTokens
	NumAxes
)

var axisNames = [NumAxes]string{"models", "gpus", "gpu_counts", "tp", "pp", "contexts", "quantizations", "kv_cache_dtypes",
	"interconnect", "concurrency", "prompt_tokens", "gen_tokens"}

// String returns the grid-file key of the axis.
func (a Axis) String() string {
	if a >= 0 && a < NumAxes {
		return axisNames[a]
	}
	return fmt.Sprintf("Axis(%d)", int(a))
}

// Point is one grid point: its index and its position on every axis.
type Point struct {
	Index int64
	Pos   [NumAxes]int32
}

// Row is the result of one point: the inputs, resolved, and the plan.
type Row struct {
	Index int64
	// Group is 1 + the index of the first point of the row's group, 0 for
	// none. A group is a run of consecutive points that differ only in
	// concurrency, prompt_tokens and gen_tokens and share the profiling
	// run's max_num_seqs, max(concurrency, planner.MaxNumSeqsCeiling)
	// (Space.groupOffset). The columns marked reports.ScopeGroup have one
	// value a group (TestGroupScope).
	Group int64
	// Model is the catalog model id; GPU the catalog (or custom) GPU name.
	Model        string
	GPU          string
	GPUCount     int
	ContextLen   int
	Concurrency  int
	PromptTokens int
	GenTokens    int
	// ParamsB and ActiveParamsB are the model's parameter counts (billions).
	ParamsB       float64
	ActiveParamsB float64
	// NativeQuantization is the checkpoint's own weight format ("" = none).
	NativeQuantization string
	// HalfDtype: the serve command says --dtype half (a pre-Ampere GPU and
	// a bfloat16 checkpoint, planner.NeedsHalfDtype).
	HalfDtype bool
	// Result holds the status, the resolved quantization, KV dtype,
	// interconnect and TP, and the numbers.
	planner.Result
	// Deploy holds the deployment columns (sweep/deploy.go).
	Deploy DeployRow
}

// Space is a resolved grid: models and GPUs looked up once, each (model,
// GPU) pair prepared once, and the mapping between point indices and
// points. It is read-only after NewSpace and serves as the default Estimator.
type Space struct {
	// Grid is the normalized grid.
	Grid     Grid
	Models   []planner.ModelConfig
	GPUs     []planner.GPU
	prepared []*planner.Prepared
	// stages holds, per (model, GPU) pair and pp > 1 of the grid, the
	// pair's heaviest pipeline stage prepared (deploy.Stage), by pair ×
	// len(PP) + pp position.
	stages []*planner.Prepared
	b      *planner.Baselines
	dep    deploySettings
	gpn    []int         // GPUs per node of each GPU
	rates  []deploy.Rate // each GPU's price and owned cost per GPU-hour
	half   []bool        // per (model, GPU) pair: the serve command says --dtype half
	lens   [NumAxes]int64
	total  int64
	// concRun is concurrencyRuns of the concurrency axis (Row.Group).
	concRun []int32
}

// NewSpace validates and resolves g: every model and GPU is looked up once
// (unknown names are errors listing the closest known ones), prices (from
// a --prices file, ParsePrices) override the catalog's,
// and each (model, GPU) pair is prepared for the estimator.
func NewSpace(g Grid, b *planner.Baselines, prices Prices) (*Space, error) {
	g, err := g.Normalize()
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, fmt.Errorf("%w: no baselines", ErrBadGrid)
	}
	s := &Space{Grid: g, b: b, dep: newDeploySettings(&g)}
	seenModel := map[string]string{}
	for _, id := range g.Models {
		m, err := planner.LookupModel(id)
		if err != nil {
			return nil, fmt.Errorf("%w: models: %w", ErrBadGrid, err)
		}
		if prev, ok := seenModel[m.ID]; ok {
			return nil, fmt.Errorf("%w: models: %q and %q are the same model %s", ErrBadGrid, prev, id, m.ID)
		}
		seenModel[m.ID] = id
		s.Models = append(s.Models, m)
	}
	custom := map[string]planner.GPU{}
	for _, c := range g.CustomGPUs {
		custom[strings.ToLower(c.Name)] = c.GPU()
	}
	resolveGPU := func(name string) (planner.GPU, error) {
		if c, ok := custom[strings.ToLower(strings.TrimSpace(name))]; ok {
			return c, nil
		}
		return planner.LookupGPU(name)
	}
	seenGPU := map[string]string{}
	for _, name := range g.GPUs {
		gpu, err := resolveGPU(name)
		if err != nil {
			return nil, fmt.Errorf("%w: gpus: %w; or describe it under custom_gpus in a --grid file", ErrBadGrid, err)
		}
		if prev, ok := seenGPU[gpu.Name]; ok {
			return nil, fmt.Errorf("%w: gpus: %q and %q are the same GPU %s", ErrBadGrid, prev, name, gpu.Name)
		}
		seenGPU[gpu.Name] = name
		s.GPUs = append(s.GPUs, gpu)
	}
	if len(prices) > 0 {
		names := make([]string, 0, len(prices))
		for n := range prices {
			names = append(names, n)
		}
		sort.Strings(names)
		spelled := map[string]string{}
		for _, n := range names {
			gpu, err := resolveGPU(n)
			if err != nil {
				return nil, fmt.Errorf("%w: prices: %w", ErrBadGrid, err)
			}
			if prev, ok := spelled[gpu.Name]; ok {
				return nil, fmt.Errorf("%w: prices: %q and %q are both %s: spell its rows one way (they are then priced at their median)", ErrBadGrid, prev, n, gpu.Name)
			}
			spelled[gpu.Name] = n
			for i := range s.GPUs {
				if s.GPUs[i].Name == gpu.Name {
					s.GPUs[i].PriceUSDPerHour = prices[n].USDPerGPUHour
					s.GPUs[i].PriceSource = prices[n].Source("prices file")
				}
			}
		}
	}
	for i := range s.GPUs {
		n := s.dep.wl.GPUsPerNode
		if n == 0 {
			n = deploy.GPUsPerNode(&s.GPUs[i])
		}
		s.gpn = append(s.gpn, n)
		s.rates = append(s.rates, s.dep.cost.Rate(deploy.PriceOf(&s.GPUs[i])))
	}
	pol := g.Policy.Policy()
	ctxs := tokensInts(g.Contexts)
	wl := planner.Workload{TPs: g.TP, Quantizations: g.Quantizations, Concurrencies: g.Concurrency, PromptTokens: tokensInts(g.PromptTokens)}
	s.prepared = make([]*planner.Prepared, 0, len(s.Models)*len(s.GPUs))
	for _, m := range s.Models {
		for _, gpu := range s.GPUs {
			p := planner.Prepare(b, m, gpu, pol)
			p.CacheContexts(ctxs)
			p.CacheWorkload(wl)
			s.prepared = append(s.prepared, p)
			s.half = append(s.half, planner.NeedsHalfDtype(&gpu, &m))
			for _, pp := range g.PP {
				var sp *planner.Prepared
				if pp > 1 {
					stage, _ := deploy.Stage(&m, pp)
					sp = planner.Prepare(b, stage, gpu, pol)
					sp.CacheContexts(ctxs)
					sp.CacheWorkload(wl)
				}
				s.stages = append(s.stages, sp)
			}
		}
	}
	s.lens = [NumAxes]int64{int64(len(s.Models)), int64(len(s.GPUs)), int64(max(len(g.GPUCounts), 1)), int64(len(g.TP)),
		int64(max(len(g.PP), 1)), int64(len(g.Contexts)), int64(len(g.Quantizations)), int64(len(g.KVCacheDtypes)), int64(len(g.Interconnects)),
		int64(len(g.Concurrency)), int64(len(g.PromptTokens)), int64(len(g.GenTokens))}
	s.concRun = concurrencyRuns(g.Concurrency)
	if s.total, err = g.pointCount(); err != nil {
		return nil, err
	}
	return s, nil
}

// Len is the number of points.
func (s *Space) Len() int64 { return s.total }

// AxisLen is the number of values on an axis (1 for gpu_counts when the GPU
// count follows the TP × PP size, and for pp when the grid has none).
func (s *Space) AxisLen(a Axis) int64 { return s.lens[a] }

// Describe names the grid's size, e.g. "1,280 points = 2 models × 4 GPUs × …".
func (s *Space) Describe() string {
	var parts []string
	for a := Axis(0); a < NumAxes; a++ {
		if a == AxisGPUCount && len(s.Grid.GPUCounts) == 0 || a == AxisPP && len(s.Grid.PP) == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%d %s", s.lens[a], a))
	}
	return fmt.Sprintf("%s points = %s", GroupDigits(s.total), strings.Join(parts, " × "))
}

// GroupDigits writes n with thousands separators (1280 → "1,280").
func GroupDigits(n int64) string {
	s := fmt.Sprint(n)
	neg := ""
	if n < 0 {
		neg, s = "-", s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return neg + string(out)
}

// PointAt sets p to the point with index i (0 ≤ i < Len).
func (s *Space) PointAt(i int64, p *Point) {
	p.Index = i
	for a := NumAxes - 1; a >= 0; a-- {
		l := s.lens[a]
		p.Pos[a] = int32(i % l)
		i /= l
	}
}

// Next advances p to the point with the following index.
func (s *Space) Next(p *Point) {
	p.Index++
	for a := NumAxes - 1; a >= 0; a-- {
		p.Pos[a]++
		if int64(p.Pos[a]) < s.lens[a] {
			return
		}
		p.Pos[a] = 0
	}
}

// groupOffset is p's position within its group (Row.Group): the mixed-radix
// number of its three innermost axes, counted from the start of its run of
// concurrencies (concRun).
func (s *Space) groupOffset(p *Point) int64 {
	c := p.Pos[AxisConcurrency]
	return (int64(c-s.concRun[c])*s.lens[AxisPromptTokens]+int64(p.Pos[AxisPromptTokens]))*s.lens[AxisGenTokens] + int64(p.Pos[AxisGenTokens])
}

// concurrencyRuns returns, for each position on the concurrency axis, the
// first position of its run: the consecutive concurrencies with the same
// profiling max_num_seqs. planner.Evaluate sizes the memory (activations,
// KV pool, fit) with max_num_seqs = max(concurrency, MaxNumSeqsCeiling)
// and max_num_batched_tokens = max(default, that), so those figures change
// with concurrency only above the ceiling.
func concurrencyRuns(conc []int) []int32 {
	key := func(c int) int { return max(c, planner.MaxNumSeqsCeiling) }
	runs := make([]int32, len(conc))
	for i := 1; i < len(conc); i++ {
		runs[i] = int32(i)
		if key(conc[i]) == key(conc[i-1]) {
			runs[i] = runs[i-1]
		}
	}
	return runs
}

// Estimate evaluates a point with the planner's fast path (Space is the
// default Estimator). It never fails.
func (s *Space) Estimate(p *Point, r *Row) error {
	s.estimate(p, r, -1, false)
	return nil
}

// estimate is Estimate with a deployment sizing from an earlier pass
// (hint ≥ 0; see deployTarget); pass marks the Pareto pass, which reads a
// row's sizing, cost and speed per user but not its latency columns.
func (s *Space) estimate(p *Point, r *Row, hint int, pass bool) {
	g := &s.Grid
	mi, gi := p.Pos[AxisModel], p.Pos[AxisGPU]
	prep := s.prepared[int(mi)*len(s.GPUs)+int(gi)]
	m := prep.Model()
	tp := g.TP[p.Pos[AxisTP]]
	pp := 1
	if len(g.PP) > 0 {
		pp = g.PP[p.Pos[AxisPP]]
	}
	gc := tp * pp
	if len(g.GPUCounts) > 0 {
		gc = g.GPUCounts[p.Pos[AxisGPUCount]]
	}
	// Field by field: a composite literal is built on the stack and copied.
	var pt planner.Point
	pt.TP, pt.GPUCount, pt.ContextLen = tp, gc, int(g.Contexts[p.Pos[AxisContext]])
	pt.Quantization, pt.KVCacheDtype = g.Quantizations[p.Pos[AxisQuantization]], g.KVCacheDtypes[p.Pos[AxisKVCacheDtype]]
	pt.Interconnect, pt.Concurrency = g.Interconnects[p.Pos[AxisInterconnect]], g.Concurrency[p.Pos[AxisConcurrency]]
	pt.PromptTokens, pt.GenTokens = int(g.PromptTokens[p.Pos[AxisPromptTokens]]), int(g.GenTokens[p.Pos[AxisGenTokens]])
	r.Index = p.Index
	r.Group = p.Index - s.groupOffset(p) + 1
	r.Model = m.ID
	r.GPU = prep.GPU().Name
	r.GPUCount = gc
	r.ContextLen = pt.ContextLen
	r.Concurrency = pt.Concurrency
	r.PromptTokens = pt.PromptTokens
	r.GenTokens = pt.GenTokens
	r.ParamsB, r.ActiveParamsB = m.ParamsB, m.ActiveParamsB
	r.NativeQuantization = m.NativeQuantization
	r.HalfDtype = s.half[int(mi)*len(s.GPUs)+int(gi)]
	if pp == 1 {
		if pass {
			// The pass reads the fit, the load and the cost inputs only.
			prep.EvaluateJudged(&pt, &r.Result)
		} else {
			prep.Evaluate(&pt, &r.Result)
		}
		if pt.TP > s.gpn[gi] && r.Status != planner.StatusInvalid {
			r.refuse(planner.ReasonTPExceedsNode) // plan's rule: TP stays inside one server (GPU.NodeGPUs)
		}
	} else {
		pair := int(mi)*len(s.GPUs) + int(gi)
		s.evaluatePipeline(prep, s.stages[pair*len(g.PP)+int(p.Pos[AxisPP])], &pt, pp, int(gi), r)
	}
	s.deployRow(prep, int(gi), r, hint, pp, pass)
}
