package deploy

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// Binding limits.
const (
	LimitTTFT     = "ttft"
	LimitTPOT     = "tpot"
	LimitE2E      = "e2e"
	LimitTokS     = "tok_s_per_user"
	LimitMemory   = "memory"
	LimitCapacity = "capacity"
)

// GPUsPerNode is how many GPUs of this model one server holds
// (planner's GPU.NodeGPUs, the one rule plan and the sweep share).
func GPUsPerNode(g *planner.GPU) int { return g.NodeGPUs() }

// Layout is a replica's shape.
type Layout struct {
	TP int `json:"tp"`
	PP int `json:"pp"`
}

// ReplicaFunc builds the replica of a layout (MaxNumSeqs left 0: the search
// picks it), or says why the layout cannot exist.
type ReplicaFunc func(l Layout) (Replica, string)

// Params is a deployment search on one GPU type.
type Params struct {
	Workload Workload
	SLO      SLO
	Price    Price
	Cost     CostParams
	// GPUsPerNode bounds TP (TP stays inside a node).
	GPUsPerNode int
	// Layouts to try; empty = every TP ≤ GPUsPerNode that the build
	// accepts × PP 1…8.
	TP []int
	PP []int
	// MaxNumSeqs candidates; empty = 1, 2, 4, … 1024.
	MaxNumSeqs []int
	// MaxGPUs bounds the deployment (default 4096).
	MaxGPUs int
	// judgeOnly: predictions compute only what judging the SLO reads
	// (SizeJudged).
	judgeOnly bool
}

// Deployment is a priced deployment at the workload's load.
type Deployment struct {
	Layout
	Replicas int `json:"replicas"`
	// GPUs is what the deployment rents: replicas × TP × PP, in whole
	// nodes for a replica that spans nodes.
	GPUs        int     `json:"gpus"`
	GPUsPerNode int     `json:"gpus_per_node"`
	Nodes       int     `json:"nodes"`
	MaxNumSeqs  int     `json:"max_num_seqs"`
	KVSeqs      int     `json:"kv_sequences"`
	Latency     Latency `json:"latency"`
	// RequestRate is the deployment's request rate (req/s; solved for a
	// closed loop of users).
	RequestRate float64 `json:"request_rate"`
	TokSPerUser float64 `json:"tok_s_per_user"`
	MeetsSLO    bool    `json:"meets_slo"`
	Binding     string  `json:"binding_limit"`
	Headroom    float64 `json:"slo_headroom"`
	Cost        Cost    `json:"cost"`
}

// Refusal is a layout that cannot serve, and why.
type Refusal struct {
	Layout
	Reason string `json:"reason"`
}

// Answer is the cheapest deployment meeting the SLO, the best of every
// layout that can, and the layouts refused.
type Answer struct {
	Best    *Deployment  `json:"best,omitempty"`
	Layouts []Deployment `json:"layouts"`
	Refused []Refusal    `json:"refused,omitempty"`
	// Reason says why no deployment meets the SLO (empty when one does).
	Reason string `json:"reason,omitempty"`
}

// Evaluate predicts a deployment of replicas copies of rep at the workload.
func Evaluate(rep *Replica, replicas int, p *Params) Deployment {
	d := Deployment{Layout: Layout{TP: max(rep.TP, 1), PP: max(rep.PP, 1)}, Replicas: replicas, MaxNumSeqs: rep.MaxNumSeqs, KVSeqs: rep.KVSeqs}
	d.GPUsPerNode = max(p.GPUsPerNode, 1)
	d.GPUs, d.Nodes = Footprint(replicas, d.TP, d.PP, d.GPUsPerNode)
	w := &p.Workload
	if rep.Slots() < 1 {
		d.Binding = LimitMemory
		d.Cost = costOf(p.Price, &p.Cost, d.GPUs, 0, 0)
		return d
	}
	var judged *SLO
	if p.judgeOnly {
		judged = &p.SLO
	}
	rate := w.RequestRate / float64(replicas)
	if w.Users > 0 {
		// A closed loop: the latencies of the replica with the most users,
		// ⌈users/replicas⌉, from the finite-source model; each user sends
		// as many requests a second as there, so the deployment's rate is
		// users × its per-user rate (rate here is the mean per replica).
		n := (w.Users + replicas - 1) / replicas
		d.Latency = predictClosedFor(rep, w, n, judged)
		rate = d.Latency.RatePerReplica * float64(w.Users) / float64(n*replicas)
		d.Latency.RatePerReplica = rate
	} else {
		d.Latency = predictFor(rep, w, rate, judged)
	}
	d.RequestRate = rate * float64(replicas)
	if d.Latency.Stable && d.Latency.TPOTP50 > 0 {
		d.TokSPerUser = 1000 / d.Latency.TPOT(p.SLO.pct())
	}
	d.MeetsSLO, d.Binding, d.Headroom = judge(&d.Latency, &p.SLO, d.TokSPerUser)
	if w.Users > 0 && d.Latency.Stable && p.SLO.TTFTMs <= 0 && p.SLO.E2EMs <= 0 {
		d.MeetsSLO, d.Binding, d.Headroom = judgeSlots(d.MeetsSLO, d.Binding, d.Headroom, d.Latency.PWait, p.SLO.pct())
	}
	d.Cost = costOf(p.Price, &p.Cost, d.GPUs, d.RequestRate*w.Prompt.Mean, d.RequestRate*w.Output.Mean)
	return d
}

// Footprint is the GPUs and nodes replicas of TP × PP GPUs rent with
// gpusPerNode GPUs a node: replicas packed into nodes, and a replica that
// spans nodes renting them whole.
func Footprint(replicas, tp, pp, gpusPerNode int) (gpus, nodes int) {
	gpn := max(gpusPerNode, 1)
	per := max(tp, 1) * max(pp, 1)
	gpus = replicas * per
	nodes = (gpus + gpn - 1) / gpn
	if per > gpn {
		nodes = replicas * ((per + gpn - 1) / gpn)
		gpus = nodes * gpn
	}
	return gpus, nodes
}

// judge applies the SLO: met, the binding limit (the tightest one when met,
// the most violated otherwise) and the headroom min over limits of
// (limit − predicted)/limit.
func judge(l *Latency, s *SLO, tokS float64) (bool, string, float64) {
	if !l.Stable {
		return false, LimitCapacity, math.Inf(-1)
	}
	pc := s.pct()
	bind, head := "", math.Inf(1)
	try := func(name string, limit, pred float64) {
		if limit <= 0 {
			return
		}
		if h := (limit - pred) / limit; h < head {
			bind, head = name, h
		}
	}
	try(LimitTTFT, s.TTFTMs, l.TTFT(pc))
	try(LimitTPOT, s.TPOTMs, l.TPOT(pc))
	try(LimitE2E, s.E2EMs, l.E2E(pc))
	if s.MinTokSPerUser > 0 {
		// tok/s per user: (speed − minimum)/minimum.
		if h := (tokS - s.MinTokSPerUser) / s.MinTokSPerUser; h < head {
			bind, head = LimitTokS, h
		}
	}
	if bind == "" {
		return true, "", math.NaN()
	}
	return head >= 0, bind, head
}

// judgeSlots adds a closed loop's own limit to the verdict of judge. A
// closed loop always "keeps up": its users wait for one another, so its
// throughput settles at the deployment's capacity whatever its size, and
// the users it cannot serve wait in the queue (one replica with
// max_num_seqs 1 would "meet" a TPOT limit for 500 users, each waiting an
// hour for a first token). An SLO with a TTFT or E2E limit bounds that
// wait; without one, the deployment must hold its users' requests in its
// sequence slots: at the SLO's percentile pct a request finds a free slot,
// pWait ≤ 1 − pct/100, pWait the closed-loop model's chance that an
// arriving request finds every slot of the busiest replica taken (the
// arrival theorem over its n − 1 other users, docs/queueing.md, "Closed
// loop"). The headroom is (allowed − pWait)/allowed; binding "capacity".
func judgeSlots(met bool, bind string, head, pWait float64, pct int) (bool, string, float64) {
	allowed := 1 - float64(pct)/100
	h := (allowed - pWait) / allowed
	if bind == "" || math.IsNaN(head) || h < head {
		// The tightest limit now: met exactly when it holds (h < head, so
		// h ≥ 0 means the others hold too).
		return h >= 0, LimitCapacity, h
	}
	return met, bind, head
}

// fewest is the least number of replicas, up to maxR (which meets the
// SLO), that meets it, and their prediction. Fewer replicas than the rate
// over one replica's capacity are saturated, so the search starts there and
// gallops up (1, 2, 4, … past it) before bisecting the last gap: a row's
// answer is usually within a few replicas of that bound, where a bisection
// over [1, maxR] takes log₂(maxR) predictions.
func fewest(r *Replica, maxR int, p *Params) Deployment {
	lo := 1
	if w := &p.Workload; w.RequestRate > 0 {
		if capy := Capacity(r, w); capy > 0 {
			lo = max(int(w.RequestRate/capy), 1)
		}
	}
	lo = min(lo, maxR)
	// Invariant: every count below lo misses; hi meets.
	hi := maxR
	var atHi *Deployment
	for step := 1; lo < hi; step *= 2 {
		k := min(lo+step-1, hi)
		d := Evaluate(r, k, p)
		if d.MeetsSLO {
			hi, atHi = k, &d
			break
		}
		lo = k + 1
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if d := Evaluate(r, mid, p); d.MeetsSLO {
			hi, atHi = mid, &d
		} else {
			lo = mid + 1
		}
	}
	if atHi != nil && hi == lo {
		return *atHi
	}
	return Evaluate(r, lo, p)
}

func defaultMNS() []int { return []int{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024} }

// Search finds the cheapest deployment on one GPU type meeting the SLO at
// the workload: for each layout and max_num_seqs, the fewest replicas that
// meet it.
func Search(build ReplicaFunc, p *Params) Answer {
	var a Answer
	gpn := max(p.GPUsPerNode, 1)
	tps := p.TP
	if len(tps) == 0 {
		for tp := 1; tp <= gpn; tp++ {
			tps = append(tps, tp)
		}
	}
	pps := p.PP
	if len(pps) == 0 {
		pps = []int{1, 2, 3, 4, 5, 6, 7, 8}
	}
	mns := p.MaxNumSeqs
	if len(mns) == 0 {
		mns = defaultMNS()
	}
	maxGPUs := p.MaxGPUs
	if maxGPUs <= 0 {
		maxGPUs = 4096
	}
	explicitTP := len(p.TP) > 0
	explicitPP := len(p.PP) > 0
	for _, tp := range tps {
		if tp > gpn {
			a.Refused = append(a.Refused, Refusal{Layout{tp, 0}, fmt.Sprintf("tensor parallel %d exceeds the %d GPUs of one node: tensor parallelism stays inside a node's scale-up fabric; span nodes with pipeline parallel (TP %d × PP %d)", tp, gpn, gpn, (tp+gpn-1)/gpn)})
			continue
		}
		seen := map[string]bool{}
		met := 0
		for _, pp := range pps {
			if pp > 1 && tp*pp <= gpn && tp < gpn && !explicitTP {
				// Inside one node a larger TP beats PP; PP is for spanning nodes.
				continue
			}
			if met >= 2 && !explicitPP {
				// More stages only add GPUs per replica once two stage counts
				// serve the load.
				break
			}
			rep, why := build(Layout{tp, pp})
			if why == "" {
				rep.Steps = memoize(rep.Steps)
				var best *Deployment
				if best, why = searchLayout(rep, mns, maxGPUs, p); best != nil {
					a.Layouts = append(a.Layouts, *best)
					met++
					continue
				}
			}
			if !seen[why] {
				seen[why] = true
				a.Refused = append(a.Refused, Refusal{Layout{tp, pp}, why})
			}
		}
	}
	sort.SliceStable(a.Layouts, func(i, j int) bool { return better(&a.Layouts[i], &a.Layouts[j]) })
	for i := range a.Layouts {
		if a.Layouts[i].MeetsSLO {
			b := a.Layouts[i]
			a.Best = &b
			break
		}
	}
	if a.Best == nil {
		a.Reason = noneReason(&a, maxGPUs)
	}
	return a
}

// better orders deployments: meeting the SLO, fewer GPUs (the cost on one
// GPU type), fewer nodes, more headroom, then the faster p90 TPOT (without
// an SLO there is no headroom, and at equal cost the faster layout wins).
func better(x, y *Deployment) bool {
	if x.MeetsSLO != y.MeetsSLO {
		return x.MeetsSLO
	}
	if x.GPUs != y.GPUs {
		return x.GPUs < y.GPUs
	}
	if x.Nodes != y.Nodes {
		return x.Nodes < y.Nodes
	}
	// Without an SLO judge leaves the headroom NaN, which compares unequal
	// and never greater: the faster layout must decide then.
	if x.Headroom != y.Headroom && !math.IsNaN(x.Headroom) && !math.IsNaN(y.Headroom) {
		return x.Headroom > y.Headroom
	}
	return x.Latency.TPOTP90 < y.Latency.TPOTP90
}

func noneReason(a *Answer, maxGPUs int) string {
	if len(a.Layouts) == 0 {
		// The most telling refusal: a layout that fits but misses the SLO,
		// else the largest layout tried.
		for i := len(a.Refused) - 1; i >= 0; i-- {
			if f := a.Refused[i]; strings.HasPrefix(f.Reason, "misses the SLO") {
				return fmt.Sprintf("TP %d × PP %d %s", f.TP, f.PP, f.Reason)
			}
		}
		if n := len(a.Refused); n > 0 {
			f := a.Refused[n-1]
			if f.PP == 0 {
				return fmt.Sprintf("no layout can serve the model; TP %d: %s", f.TP, f.Reason)
			}
			return fmt.Sprintf("no layout can serve the model; the largest tried, TP %d × PP %d: %s", f.TP, f.PP, f.Reason)
		}
		return "no layout to try"
	}
	d := &a.Layouts[0]
	return fmt.Sprintf("no deployment of up to %d GPUs meets the SLO; the closest (TP %d × PP %d × %d replicas) misses on %s", maxGPUs, d.TP, d.PP, d.Replicas, d.Binding)
}

// searchLayout returns the cheapest deployment of one layout over the
// max_num_seqs candidates, or why none meets the SLO.
func searchLayout(rep Replica, mns []int, maxGPUs int, p *Params) (*Deployment, string) {
	var best *Deployment
	per := max(rep.TP, 1) * max(rep.PP, 1)
	maxR := maxGPUs / per
	if maxR < 1 {
		return nil, fmt.Sprintf("one replica needs %d GPUs, more than the %d allowed", per, maxGPUs)
	}
	reason := ""
	var closest *Deployment
	lastSlots := -1
	for _, m := range mns {
		r := rep
		r.MaxNumSeqs = m
		slots := r.Slots()
		if u := p.Workload.Users; u > 0 {
			slots = min(slots, u) // a closed loop never has more in flight
		}
		if slots == lastSlots {
			continue // beyond the KV capacity (or the users) the slots are the same
		}
		lastSlots = slots
		// The latency a single replica gets at (almost) no load: more
		// replicas cannot do better than this.
		floor := Evaluate(&r, maxR, p)
		if !floor.MeetsSLO {
			if closest == nil || floor.Headroom > closest.Headroom {
				c := floor
				closest = &c
			}
			continue
		}
		d := fewest(&r, maxR, p)
		if best == nil || better(&d, best) {
			best = &d
		}
	}
	if best == nil {
		if closest != nil {
			reason = fmt.Sprintf("misses the SLO on %s even lightly loaded (%.0f%% over)", closest.Binding, -100*closest.Headroom)
			if closest.Binding == LimitMemory {
				reason = "no sequence's KV cache fits"
			}
		}
		return nil, reason
	}
	return best, ""
}

// memo caches a step model's decode steps by batch for the one context and
// the shares a search asks for.
type memo struct {
	s     StepModel
	ctx   float64
	share [2]float64
	steps [2][]float64
}

func memoize(s StepModel) StepModel {
	if _, ok := s.(*memo); ok {
		return s
	}
	return &memo{s: s, ctx: -1}
}

func (m *memo) DecodeStepS(b int, ctx, share float64) float64 {
	if m.ctx < 0 {
		m.ctx = ctx
	}
	if ctx != m.ctx || b > 1<<16 {
		return m.s.DecodeStepS(b, ctx, share)
	}
	for i := range m.share {
		if m.share[i] == 0 {
			m.share[i] = share
		}
		if m.share[i] == share {
			for len(m.steps[i]) <= b {
				m.steps[i] = append(m.steps[i], math.NaN())
			}
			if math.IsNaN(m.steps[i][b]) {
				m.steps[i][b] = m.s.DecodeStepS(b, ctx, share)
			}
			return m.steps[i][b]
		}
	}
	return m.s.DecodeStepS(b, ctx, share)
}

func (m *memo) PrefillS(tokens int, share float64) float64 { return m.s.PrefillS(tokens, share) }

// SizeKnown is Size when an earlier call on the same replica and
// parameters gave replicas and ok: the same deployment, from one prediction.
func SizeKnown(rep Replica, p *Params, replicas int, ok bool) Deployment {
	rep.Steps = memoize(rep.Steps)
	if !ok {
		maxGPUs := p.MaxGPUs
		if maxGPUs <= 0 {
			maxGPUs = 4096
		}
		replicas = max(maxGPUs/(max(rep.TP, 1)*max(rep.PP, 1)), 1)
	}
	return Evaluate(&rep, replicas, p)
}

// SizeJudged is Size with every prediction computing only the latency
// figures judging the SLO reads: both TPOT percentiles, and TTFT and E2E at
// the SLO's percentile when it limits them. The other percentiles and
// E2EMean are zero; everything else (ok, replicas, the verdict, binding
// limit, headroom, TokSPerUser, cost) is Size's. For a first pass that
// needs a row's sizing and cost, not its latency columns.
func SizeJudged(rep Replica, p *Params) (d Deployment, ok bool) {
	q := *p
	q.judgeOnly = true
	return Size(rep, &q)
}

// Size returns the fewest replicas of rep (its MaxNumSeqs set) that meet
// the SLO at the workload; ok is false when no deployment of up to MaxGPUs
// does, and d is then the largest one's prediction.
func Size(rep Replica, p *Params) (d Deployment, ok bool) {
	maxGPUs := p.MaxGPUs
	if maxGPUs <= 0 {
		maxGPUs = 4096
	}
	rep.Steps = memoize(rep.Steps)
	if best, _ := searchLayout(rep, []int{rep.MaxNumSeqs}, maxGPUs, p); best != nil {
		return *best, true
	}
	maxR := max(maxGPUs/(max(rep.TP, 1)*max(rep.PP, 1)), 1)
	return Evaluate(&rep, maxR, p), false
}
