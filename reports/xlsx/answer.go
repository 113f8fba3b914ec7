package xlsx

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// Answer configures the Answer and Charts sheets: per model, each GPU's
// cheapest row that qualifies. Columns are named; a name the schema lacks is
// skipped (alternatives: the first present one is used), so the same
// configuration serves grids with and without SLO and deployment columns.
type Answer struct {
	// Model and GPU name the string columns that form the blocks and their rows.
	Model, GPU string
	// Quality names a string column with the row's quality class (its
	// weight format's, e.g. bf16, fp8, int4). When the schema has it, each
	// (model, class) is its own block titled "model · class weights": a
	// GPU's fp8 answer is never ranked against another's bf16 one, since
	// their outputs are not the same. Rows without a class join the model's
	// plain block.
	Quality string
	// Status names the string column that marks rows that run; OK is its
	// value for such rows ("ok" when empty).
	Status, OK string
	// Reason names the string column that says why a row does not run.
	Reason string
	// MeetsSLO names a bool column; when the schema has it, only rows where
	// it is true qualify. Without it, every row that runs and has a cost does.
	MeetsSLO string
	// BindingLimit names a string column with the SLO limit a row misses,
	// quoted when no row of a GPU meets the SLO.
	BindingLimit string
	// PriceMissing names a bool column that marks rows without a price.
	PriceMissing string
	// Cost lists the numeric columns to minimise, first present wins
	// (e.g. usd_per_month, then usd_per_m_output_tokens).
	Cost []string
	// CostPerToken names the $/M output tokens column the charts plot.
	CostPerToken string
	// GPUs lists columns counting a deployment's GPUs, first present wins;
	// among unpriced rows the one with fewest GPUs is shown.
	GPUs []string
	// Layout lists the columns shown together as "a × b × c" (e.g. tp, pp,
	// replicas); those present are used.
	Layout []string
	// Show lists the further columns of each block; each entry's first
	// present alternative is shown.
	Show [][]string
	// PerUser lists the tokens/s-per-user columns, first present wins; when
	// none is present, PerUserTPOT (time per output token, ms) gives
	// 1000 / TPOT instead.
	PerUser     []string
	PerUserTPOT string
	// Pareto names a bool column marking the cost/speed frontier; without
	// it the frontier is computed from the plotted points.
	Pareto string
	// Describe lists the columns that label a point in the charts' tables.
	Describe []string
	// Notes are lines shown under the title (workload, SLO).
	Notes []string
}

func (a *Answer) enabled() bool { return a.Model != "" || a.GPU != "" }

// resolved holds column indexes (-1 when absent) of an Answer.
type resolved struct {
	model, gpu, quality, status, reason, meets, binding, priceMissing int
	cost, costPerToken, gpus, perUser, perUserTPOT, pareto            int
	layout, show, describe                                            []int
}

func (x *answerState[R]) resolve(a Answer) error {
	s := x.schema
	idx := func(name string) int {
		if name == "" {
			return -1
		}
		return s.Index(name)
	}
	first := func(names []string) int {
		for _, n := range names {
			if i := idx(n); i >= 0 {
				return i
			}
		}
		return -1
	}
	kind := func(role string, i int, kinds ...reports.Kind) error {
		if i < 0 {
			return nil
		}
		for _, k := range kinds {
			if s.Columns[i].Kind == k {
				return nil
			}
		}
		return fmt.Errorf("xlsx answer: %s column %q is %v, want %v", role, s.Columns[i].Name, s.Columns[i].Kind, kinds)
	}
	r := &x.col
	*r = resolved{model: idx(a.Model), gpu: idx(a.GPU), quality: idx(a.Quality), status: idx(a.Status), reason: idx(a.Reason), meets: idx(a.MeetsSLO),
		binding: idx(a.BindingLimit), priceMissing: idx(a.PriceMissing), cost: first(a.Cost), costPerToken: idx(a.CostPerToken),
		gpus: first(a.GPUs), perUser: first(a.PerUser), perUserTPOT: idx(a.PerUserTPOT), pareto: idx(a.Pareto)}
	if r.model < 0 || r.gpu < 0 {
		return fmt.Errorf("xlsx answer: model column %q and GPU column %q must both be in the schema", a.Model, a.GPU)
	}
	if r.cost < 0 {
		return fmt.Errorf("xlsx answer: none of the cost columns %q is in the schema", a.Cost)
	}
	if r.costPerToken < 0 {
		r.costPerToken = r.cost
	}
	num := []reports.Kind{reports.KindFloat64, reports.KindInt64}
	for _, c := range []struct {
		role  string
		i     int
		kinds []reports.Kind
	}{{"model", r.model, []reports.Kind{reports.KindString}}, {"GPU", r.gpu, []reports.Kind{reports.KindString}},
		{"quality", r.quality, []reports.Kind{reports.KindString}},
		{"status", r.status, []reports.Kind{reports.KindString}}, {"reason", r.reason, []reports.Kind{reports.KindString}},
		{"meets-SLO", r.meets, []reports.Kind{reports.KindBool}}, {"binding-limit", r.binding, []reports.Kind{reports.KindString}},
		{"price-missing", r.priceMissing, []reports.Kind{reports.KindBool}}, {"pareto", r.pareto, []reports.Kind{reports.KindBool}},
		{"cost", r.cost, num}, {"cost-per-token", r.costPerToken, num}, {"GPU-count", r.gpus, num},
		{"per-user", r.perUser, num}, {"TPOT", r.perUserTPOT, num}} {
		if err := kind(c.role, c.i, c.kinds...); err != nil {
			return err
		}
	}
	for _, n := range a.Layout {
		if i := idx(n); i >= 0 {
			r.layout = append(r.layout, i)
		}
	}
	for _, alts := range a.Show {
		if i := first(alts); i >= 0 {
			r.show = append(r.show, i)
		}
	}
	for _, n := range a.Describe {
		if i := idx(n); i >= 0 {
			r.describe = append(r.describe, i)
		}
	}
	return nil
}

// point is one plotted (tokens/s per user, $/M tokens) point.
type point struct {
	x, y  float64
	label string
}

// gpuState is the running answer of one (model, GPU).
type gpuState[R any] struct {
	name                 string
	rows, runs, qualify  int64
	priced, unpriced     bool
	best, cheapest       R // best: the cheapest qualifying row; cheapest: fewest GPUs among unpriced
	bestCost             float64
	unpricedGPUs         float64
	reasons              map[string]int64
	bindings             map[string]int64
	frontier             []point // this GPU's own cost/speed frontier, by y ascending
	marked               []point // rows the Pareto column marks
	noPerf, missingPrice int64
}

// modelState groups the GPUs of one model in first-seen order.
type modelState[R any] struct {
	name  string
	gpus  map[string]*gpuState[R]
	order []*gpuState[R]
	// base is the model's name; classed marks a quality-class block.
	base    string
	classed bool
}

// answerState accumulates the Answer from the rows as they stream by; it
// keeps two rows and a frontier per (model, GPU), never the rows.
type answerState[R any] struct {
	schema reports.Schema[R]
	opts   Answer
	col    resolved
	models map[string]*modelState[R]
	order  []*modelState[R]
}

// maxMarked bounds the Pareto-marked points kept per GPU.
const maxMarked = 2000

func newAnswer[R any](schema reports.Schema[R], a Answer) (*answerState[R], error) {
	if !a.enabled() {
		return nil, nil
	}
	if a.OK == "" {
		a.OK = "ok"
	}
	x := &answerState[R]{schema: schema, opts: a, models: map[string]*modelState[R]{}}
	if err := x.resolve(a); err != nil {
		return nil, err
	}
	return x, nil
}

// bySLO reports whether rows qualify by the meets-SLO column.
func (x *answerState[R]) bySLO() bool { return x.col.meets >= 0 }

func (x *answerState[R]) num(i int, r *R) (float64, bool) {
	if i < 0 {
		return 0, false
	}
	return metric(&x.schema.Columns[i], r)
}

func (x *answerState[R]) str(i int, r *R) string {
	if i < 0 {
		return ""
	}
	return x.schema.Columns[i].String(r)
}

func (x *answerState[R]) flag(i int, r *R) (bool, bool) {
	if i < 0 {
		return false, false
	}
	return x.schema.Columns[i].Bool(r)
}

// perUser is the row's tokens/s per user.
func (x *answerState[R]) perUser(r *R) (float64, bool) {
	if x.col.perUser >= 0 {
		return x.num(x.col.perUser, r)
	}
	if t, ok := x.num(x.col.perUserTPOT, r); ok && t > 0 {
		return 1000 / t, true
	}
	return 0, false
}

func (x *answerState[R]) add(r *R) {
	mname, gname := x.str(x.col.model, r), x.str(x.col.gpu, r)
	base, q := mname, x.str(x.col.quality, r)
	if q != "" {
		mname += " · " + q + " weights"
	}
	m := x.models[mname]
	if m == nil {
		m = &modelState[R]{name: mname, gpus: map[string]*gpuState[R]{}, base: base, classed: q != ""}
		x.models[mname] = m
		x.order = append(x.order, m)
	}
	g := m.gpus[gname]
	if g == nil {
		g = &gpuState[R]{name: gname, reasons: map[string]int64{}, bindings: map[string]int64{}}
		m.gpus[gname] = g
		m.order = append(m.order, g)
	}
	g.rows++
	if x.col.status >= 0 && x.str(x.col.status, r) != x.opts.OK {
		g.reasons[x.str(x.col.reason, r)]++
		return
	}
	g.runs++
	cost, hasCost := x.num(x.col.cost, r)
	missing, _ := x.flag(x.col.priceMissing, r)
	if missing {
		hasCost = false
	}
	if hasCost {
		if y, ok := x.num(x.col.costPerToken, r); ok {
			if u, ok := x.perUser(r); ok {
				p := point{x: u, y: y}
				if i, ok := insertFrontier(&g.frontier, p); ok {
					g.frontier[i].label = x.describe(r)
				}
				if on, ok := x.flag(x.col.pareto, r); ok && on && len(g.marked) < maxMarked {
					p.label = x.describe(r)
					g.marked = append(g.marked, p)
				}
			}
		}
	}
	if x.bySLO() {
		if meets, ok := x.flag(x.col.meets, r); !ok || !meets {
			g.bindings[x.str(x.col.binding, r)]++
			return
		}
	}
	g.qualify++
	if !hasCost {
		// Runs (and meets the SLO) but has no cost: a missing price, or no
		// performance basis (the reason column says which).
		if why := x.str(x.col.reason, r); why != "" && !missing {
			g.noPerf++
			g.reasons[why]++
			return
		}
		g.missingPrice++
		n, _ := x.num(x.col.gpus, r)
		if !g.unpriced || n < g.unpricedGPUs {
			g.cheapest, g.unpricedGPUs, g.unpriced = *r, n, true
		}
		return
	}
	if !g.priced || cost < g.bestCost {
		g.best, g.bestCost, g.priced = *r, cost, true
	}
}

// foldUnclassified merges, for a model with quality-class blocks, the
// block of its rows without a class into each class block, when none of
// those rows runs (a sweep gives every row that runs a class; the others
// are configurations that cannot exist, e.g. TP above the GPU count): each
// class block then lists every GPU, and no block without a class remains.
// It is idempotent.
func (x *answerState[R]) foldUnclassified() {
	plain := map[string]*modelState[R]{}
	for _, m := range x.order {
		if m.classed {
			continue
		}
		runs := false
		for _, g := range m.order {
			runs = runs || g.runs > 0
		}
		if !runs {
			plain[m.base] = m
		}
	}
	folded := map[*modelState[R]]bool{}
	for _, m := range x.order {
		p := plain[m.base]
		if !m.classed || p == nil {
			continue
		}
		folded[p] = true
		for _, pg := range p.order {
			g := m.gpus[pg.name]
			if g == nil {
				g = &gpuState[R]{name: pg.name, reasons: map[string]int64{}, bindings: map[string]int64{}}
				m.gpus[pg.name] = g
				m.order = append(m.order, g)
			}
			g.rows += pg.rows
			for k, v := range pg.reasons {
				g.reasons[k] += v
			}
		}
	}
	kept := x.order[:0]
	for _, m := range x.order {
		if !folded[m] {
			kept = append(kept, m)
		}
	}
	x.order = kept
}

// describe labels a point for the charts' tables.
func (x *answerState[R]) describe(r *R) string {
	var parts []string
	if lay := x.layoutText(r); lay != "" {
		parts = append(parts, x.layoutHeader()+" "+lay)
	}
	for _, i := range x.col.describe {
		if v := cellText(&x.schema.Columns[i], r); v != "" {
			parts = append(parts, shortLabel(&x.schema.Columns[i])+" "+v)
		}
	}
	return strings.Join(parts, ", ")
}

// layoutText joins the layout columns' values, e.g. "2 × 1 × 3".
func (x *answerState[R]) layoutText(r *R) string {
	var vals []string
	for _, i := range x.col.layout {
		vals = append(vals, cellText(&x.schema.Columns[i], r))
	}
	return strings.Join(vals, " × ")
}

func (x *answerState[R]) layoutHeader() string {
	var names []string
	for _, i := range x.col.layout {
		names = append(names, x.schema.Columns[i].Header())
	}
	return strings.Join(names, " × ")
}

// shortLabel is a column's header without its parenthesised unit.
func shortLabel[R any](c *reports.Column[R]) string {
	h := c.Header()
	if i := strings.Index(h, " ("); i > 0 {
		h = h[:i]
	}
	return strings.ToLower(h[:1]) + h[1:]
}

// insertFrontier adds p to the frontier f (sorted by y ascending, x strictly
// increasing: each point is cheaper-or-slower than the next) unless a point
// at most as costly is at least as fast; it drops the points p dominates and
// returns p's position and whether it was added.
func insertFrontier(f *[]point, p point) (int, bool) {
	s := *f
	i := sort.Search(len(s), func(i int) bool { return s[i].y > p.y })
	// s[:i] cost ≤ p.y; the fastest of them is s[i-1].
	if i > 0 && s[i-1].x >= p.x {
		return -1, false
	}
	// Points from i on cost more; drop those no faster than p, and an
	// equal-cost predecessor is slower (checked above), so drop it too.
	j := i
	for j < len(s) && s[j].x <= p.x {
		j++
	}
	lo := i
	for lo > 0 && s[lo-1].y == p.y {
		lo--
	}
	s = append(s[:lo], append([]point{p}, s[j:]...)...)
	*f = s
	return lo, true
}

// criterion says in words which rows the Answer ranks.
func (x *answerState[R]) criterion() string {
	cost := x.schema.Columns[x.col.cost].Header()
	if x.bySLO() {
		return fmt.Sprintf("Each GPU's cheapest deployment that meets the SLO (%s), by %s.", x.schema.Columns[x.col.meets].Name, cost)
	}
	ok := "every row"
	if x.col.status >= 0 {
		ok = fmt.Sprintf("rows with %s = %s", x.schema.Columns[x.col.status].Name, x.opts.OK)
	}
	return fmt.Sprintf("Each GPU's cheapest row that runs (%s), by %s. This grid has no SLO column, so latency is not checked: read TTFT and TPOT before buying.", ok, cost)
}

// whyNot explains a GPU without a ranked row.
func (x *answerState[R]) whyNot(g *gpuState[R]) string {
	top := func(m map[string]int64) (string, int64) {
		var best string
		var n int64 = -1
		for k, v := range m {
			if v > n || (v == n && k < best) {
				best, n = k, v
			}
		}
		return best, n
	}
	switch {
	case g.runs == 0:
		why, n := top(g.reasons)
		if why == "" {
			why = "does not run"
		}
		return fmt.Sprintf("no row runs: %s (%s of %s rows)", why, thousands(n), thousands(g.rows))
	case g.qualify == 0:
		why, n := top(g.bindings)
		s := fmt.Sprintf("no deployment meets the SLO (%s of %s rows run)", thousands(g.runs), thousands(g.rows))
		if why != "" {
			s += fmt.Sprintf("; most often missed: %s (%s rows)", why, thousands(n))
		}
		return s
	case g.noPerf > 0 && g.missingPrice == 0:
		why, _ := top(g.reasons)
		return fmt.Sprintf("no cost: %s (%s rows run but have no performance estimate)", why, thousands(g.noPerf))
	}
	return "price missing"
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	return string(b)
}

// ranked returns a model's GPUs with a priced answer by cost, then those
// with a qualifying row but no price, then the rest.
func (m *modelState[R]) ranked() (priced, unpriced, none []*gpuState[R]) {
	for _, g := range m.order {
		switch {
		case g.priced:
			priced = append(priced, g)
		case g.unpriced:
			unpriced = append(unpriced, g)
		default:
			none = append(none, g)
		}
	}
	sort.SliceStable(priced, func(i, j int) bool { return priced[i].bestCost < priced[j].bestCost })
	return
}

// modelFrontier is the frontier over all of a model's GPUs (or the marked
// points when the schema has a Pareto column), sorted by x, with each point
// labelled by its GPU.
func (x *answerState[R]) modelFrontier(m *modelState[R]) []point {
	var f []point
	for _, g := range m.order {
		src := g.frontier
		if x.col.pareto >= 0 {
			src = g.marked
		}
		for _, p := range src {
			p.label = g.name + ": " + p.label
			if x.col.pareto >= 0 {
				f = append(f, p)
			} else {
				insertFrontier(&f, p)
			}
		}
	}
	sort.SliceStable(f, func(i, j int) bool { return f[i].x < f[j].x })
	return f
}

// thin keeps at most n points of ps, evenly spaced, ends included.
func thin(ps []point, n int) []point {
	if len(ps) <= n || n < 2 {
		return ps
	}
	out := make([]point, 0, n)
	for i := range n {
		out = append(out, ps[int(math.Round(float64(i)*float64(len(ps)-1)/float64(n-1)))])
	}
	return out
}

// MaxChartSeries caps the GPUs drawn in a model's scatter chart; its table
// still lists the frontier over all of them.
const MaxChartSeries = 12
