package calibrate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Hardware describes what the server runs on; it is copied into every
// measurement.
type Hardware struct {
	// GPU is the GPU's catalog name, e.g. "H100 SXM".
	GPU string
	// GPUCount is the number of GPUs the server uses.
	GPUCount int
	// TP is the tensor-parallel size.
	TP int
	// Interconnect is nvlink, pcie or unknown.
	Interconnect string
	// ParamsB is the model size in billions of parameters, if known.
	ParamsB Opt
	// Quantization is the weight quantization (none, awq, gptq, int8, fp8, …).
	Quantization string
	// KVCacheDtype is the KV-cache dtype (auto, fp8, …).
	KVCacheDtype string
}

// RunConfig configures Run.
type RunConfig struct {
	// BaseURL is the server root, e.g. "http://127.0.0.1:8000".
	BaseURL string
	// Model is the served model to benchmark; empty means the first served.
	Model string
	// Hardware describes the machine.
	Hardware Hardware
	// VLLMVersion overrides what /version reports.
	VLLMVersion string
	// Budget bounds the whole run: phases share it and no new work starts
	// once it is spent.
	Budget time.Duration
	// Warmup is the number of short requests sent before measuring.
	Warmup int
	// DecodeRuns is the number of single-stream decode requests.
	DecodeRuns int
	// DecodePromptTokens and DecodeOutputTokens shape each decode request.
	DecodePromptTokens, DecodeOutputTokens int
	// PrefillPromptTokens are the prompt lengths of the prefill runs (capped
	// by the model's max_model_len).
	PrefillPromptTokens []int
	// PrefillRuns is the number of requests per prefill length.
	PrefillRuns int
	// ConcurrencyLadder lists the numbers of concurrent streams to measure.
	ConcurrencyLadder []int
	// LadderPromptTokens and LadderOutputTokens shape each ladder request.
	LadderPromptTokens, LadderOutputTokens int
	// RequestTimeout bounds one request; StallTimeout the silence mid-stream.
	RequestTimeout, StallTimeout time.Duration
	// Retries is the number of extra attempts for a retryable failure.
	Retries int
	// HTTPClient is used for every request; nil means a client whose
	// transport keeps as many connections alive as the ladder's top level.
	HTTPClient *http.Client
	// Clock times requests and the budget; nil means the wall clock.
	Clock Clock
	// APIKey is sent as a bearer token (never printed).
	APIKey string
	// EndpointType is EndpointCompletions (default) or EndpointChat.
	EndpointType string
	// LaunchCommand is the exact command line that started the server, if
	// this run launched it; it is recorded in every measurement.
	LaunchCommand string
	// Prompts caches tokens per word across runs; nil means a fresh cache.
	Prompts *PromptCache
	// Source starts the source column of every measurement.
	Source string
	// ModelIndex and ModelCount (1-based) label the progress lines.
	ModelIndex, ModelCount int
}

// DefaultRunConfig is the protocol run on a newly arrived GPU: about two
// minutes per model and TP size.
var DefaultRunConfig = RunConfig{
	Budget:              2 * time.Minute,
	Warmup:              2,
	DecodeRuns:          5,
	DecodePromptTokens:  128,
	DecodeOutputTokens:  256,
	PrefillPromptTokens: []int{2048, 8192},
	PrefillRuns:         2,
	ConcurrencyLadder:   []int{1, 4, 16, 64},
	LadderPromptTokens:  128,
	LadderOutputTokens:  128,
	RequestTimeout:      DefaultRequestTimeout,
	StallTimeout:        DefaultStallTimeout,
	Retries:             DefaultRetries,
	Source:              "vllm-wizard calibrate",
	ModelIndex:          1,
	ModelCount:          1,
}

// Validate reports the first problem with c.
func (c RunConfig) Validate() error {
	var errs []string
	if c.BaseURL == "" {
		errs = append(errs, "BaseURL is empty")
	}
	if c.Hardware.GPU == "" {
		errs = append(errs, "Hardware.GPU is empty")
	}
	if c.Hardware.TP < 1 || c.Hardware.GPUCount < 1 {
		errs = append(errs, "Hardware.TP and Hardware.GPUCount must be ≥ 1")
	}
	if c.Budget <= 0 {
		errs = append(errs, "Budget must be positive")
	}
	if c.Warmup < 0 || c.DecodeRuns < 0 || c.PrefillRuns < 0 {
		errs = append(errs, "Warmup, DecodeRuns and PrefillRuns must not be negative")
	}
	if c.DecodeRuns > 0 && (c.DecodePromptTokens < 1 || c.DecodeOutputTokens < 2) {
		errs = append(errs, "DecodePromptTokens must be ≥ 1 and DecodeOutputTokens ≥ 2")
	}
	if len(c.ConcurrencyLadder) > 0 && (c.LadderPromptTokens < 1 || c.LadderOutputTokens < 2) {
		errs = append(errs, "LadderPromptTokens must be ≥ 1 and LadderOutputTokens ≥ 2")
	}
	for _, n := range c.PrefillPromptTokens {
		if n < 1 {
			errs = append(errs, fmt.Sprintf("prefill prompt length %d is not ≥ 1", n))
		}
	}
	for _, n := range c.ConcurrencyLadder {
		if n < 1 {
			errs = append(errs, fmt.Sprintf("concurrency %d is not ≥ 1", n))
		}
	}
	if c.RequestTimeout < 0 || c.StallTimeout < 0 {
		errs = append(errs, "timeouts must not be negative")
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid run config: %s", strings.Join(errs, "; "))
	}
	return nil
}

// PhaseError is a failure of one phase of a run; the run goes on.
type PhaseError struct {
	// Model is the benchmarked model.
	Model string
	// Phase names the step, e.g. "decode 3/5" or "ladder c=16".
	Phase string
	// Err is what went wrong.
	Err error
}

// Error says which phase failed and why.
func (e PhaseError) Error() string { return fmt.Sprintf("%s: %s: %v", e.Model, e.Phase, e.Err) }

// Unwrap returns the cause.
func (e PhaseError) Unwrap() error { return e.Err }

// Summary is what a run did.
type Summary struct {
	// Model is the benchmarked model; VLLMVersion and MaxModelLen what the server said.
	Model       string
	VLLMVersion string
	MaxModelLen int
	// Measurements is how many records went to the sink.
	Measurements int
	// Errors lists failed phases; earlier results are kept.
	Errors []PhaseError
	// Partial lists work cut short or skipped, with the reason.
	Partial []string
	// Elapsed is the run's time on its clock.
	Elapsed time.Duration
}

// Event is one progress report of a run or a campaign.
type Event struct {
	// Label says which job, e.g. "[model 1/2 Qwen/Qwen2.5-7B-Instruct]".
	Label string
	// Model and TP identify the job.
	Model string
	TP    int
	// Kind is "phase" (a step starts), "failed" (a step failed; Err says
	// why), "launch", "stopped" or "summary".
	Kind string
	// Message describes the step.
	Message string
	// Left is the budget left, when the run has one.
	Left time.Duration
	// Err is the failure of a "failed" event.
	Err error
}

// String renders the event as one progress line.
func (e Event) String() string {
	msg := e.Message
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Label != "" {
		msg = e.Label + " " + msg
	}
	if e.Kind == "phase" || e.Kind == "failed" {
		msg += fmt.Sprintf(" · %s left", e.Left.Round(time.Second))
	}
	return msg
}

// Phase shares of the budget left after warm-up; time a phase does not use
// passes to the next.
const (
	shareDecode  = 0.3
	sharePrefill = 0.2
	shareLadder  = 0.5
)

type runner struct {
	cfg      RunConfig
	client   *Client
	sink     func(Measurement) error
	progress func(Event)
	clock    Clock
	prompts  *PromptCache
	sum      *Summary
	start    time.Time
	deadline time.Time
	model    ModelInfo
	version  string
	label    string
}

// Run benchmarks one model on a running vLLM server: warm-up, single-stream
// decode runs, prefill runs and a concurrency ladder, all within
// cfg.Budget. Each measurement goes to sink as soon as it exists; progress
// (may be nil) receives structured status updates. Phase failures are
// recorded in Summary.Errors and the run goes on; Run returns an error only
// when the server cannot be used at all, the sink fails or ctx is cancelled.
func Run(ctx context.Context, cfg RunConfig, sink func(Measurement) error, progress func(Event)) (sum Summary, err error) {
	sum = Summary{Model: cfg.Model}
	if err := cfg.Validate(); err != nil {
		return sum, err
	}
	if progress == nil {
		progress = func(Event) {}
	}
	clock := cfg.Clock
	if clock == nil {
		clock = WallClock
	}
	r := &runner{cfg: cfg, sink: sink, progress: progress, sum: &sum, clock: clock, start: clock.Now()}
	r.deadline = r.start.Add(cfg.Budget)
	// A named result: the deferred assignment reaches the caller.
	defer func() { sum.Elapsed = r.clock.Now().Sub(r.start) }()
	r.prompts = cfg.Prompts
	if r.prompts == nil {
		r.prompts = NewPromptCache()
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = NewHTTPClient(slices.Max(append([]int{1}, cfg.ConcurrencyLadder...)))
	}
	r.client = &Client{BaseURL: cfg.BaseURL, HTTP: hc, RequestTimeout: cfg.RequestTimeout,
		StallTimeout: cfg.StallTimeout, Retries: cfg.Retries, RetryDelay: 100 * time.Millisecond,
		Clock: clock, APIKey: cfg.APIKey, EndpointType: cfg.EndpointType}
	// In-flight requests may finish a little after the budget; then they are
	// cut. The cut is a wall-clock deadline, so it applies to runs on the
	// wall clock only: on a virtual timeline the budget is checked between
	// requests and real time says nothing about it.
	if clock == WallClock {
		grace := min(max(cfg.Budget/4, time.Second), time.Minute)
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadlineCause(ctx, time.Now().Add(cfg.Budget+grace), errBudgetSpent)
		defer cancel()
	}

	if err := r.setup(ctx); err != nil {
		return sum, err
	}
	steps := []struct {
		share float64
		run   func(context.Context, time.Time) error
	}{
		{shareDecode, r.decode},
		{sharePrefill, r.prefill},
		{shareLadder, r.ladder},
	}
	left := shareDecode + sharePrefill + shareLadder
	for _, st := range steps {
		now := r.clock.Now()
		end := now.Add(time.Duration(float64(r.deadline.Sub(now)) * st.share / left))
		left -= st.share
		if err := st.run(ctx, end); err != nil {
			if errors.Is(err, errServerDown) {
				return sum, nil
			}
			return sum, err
		}
	}
	return sum, nil
}

// ErrSink is wrapped when the sink refuses a measurement.
var ErrSink = errors.New("store measurement")

var (
	errBudgetSpent = errors.New("budget spent")
	errServerDown  = errors.New("server is down")
)

// setup checks the server, reads the model and version, calibrates prompt
// lengths and warms up.
func (r *runner) setup(ctx context.Context) error {
	fail := func(phase string, err error) error {
		if e := r.interrupted(ctx); e != nil {
			return e
		}
		r.sum.Errors = append(r.sum.Errors, PhaseError{Model: r.sum.Model, Phase: phase, Err: err})
		return fmt.Errorf("%s: %w", phase, err)
	}
	if err := r.client.Health(ctx); err != nil {
		return fail("health", fmt.Errorf("server at %s is not ready: %w", r.cfg.BaseURL, err))
	}
	m, err := r.client.Model(ctx, r.cfg.Model)
	if err != nil {
		return fail("models", err)
	}
	r.model = m
	r.sum.Model, r.sum.MaxModelLen = m.ID, m.MaxModelLen
	quant, err := CheckQuantizationLabel(r.cfg.Hardware.Quantization, m)
	if err != nil {
		return fail("models", err)
	}
	r.cfg.Hardware.Quantization = quant
	r.label = fmt.Sprintf("[model %d/%d %s]", max(r.cfg.ModelIndex, 1), max(r.cfg.ModelCount, 1), m.ID)
	r.version = r.cfg.VLLMVersion
	if r.version == "" {
		v, err := r.client.Version(ctx)
		if err != nil {
			r.sum.Errors = append(r.sum.Errors, PhaseError{Model: m.ID, Phase: "version", Err: err})
			r.report("could not read /version: %v", err)
		}
		r.version = v
	}
	r.sum.VLLMVersion = r.version
	r.report("prompt-length probe")
	err = r.prompts.Calibrate(ctx, m.ID, func(ctx context.Context, prompt string) (int, error) {
		res, err := r.client.Complete(ctx, CompletionRequest{Model: m.ID, Prompt: prompt, MaxTokens: 1})
		return res.PromptTokens, err
	})
	if err != nil {
		return fail("probe", err)
	}
	for i := 1; i <= r.cfg.Warmup && r.clock.Now().Before(r.deadline); i++ {
		r.report("warm-up %d/%d", i, r.cfg.Warmup)
		if _, err := r.request(ctx, r.cfg.DecodePromptTokens, 16); err != nil {
			if e := r.phaseFailed(ctx, fmt.Sprintf("warm-up %d/%d", i, r.cfg.Warmup), err); e != nil {
				return e
			}
		}
	}
	return nil
}

// report sends a progress event with the label and the budget left.
func (r *runner) report(format string, a ...any) {
	r.progress(Event{Label: r.label, Model: r.model.ID, TP: r.cfg.Hardware.TP, Kind: "phase",
		Message: fmt.Sprintf(format, a...), Left: max(r.deadline.Sub(r.clock.Now()), 0)})
}

// interrupted returns the caller's cancellation, if that is why ctx ended.
func (r *runner) interrupted(ctx context.Context) error {
	if ctx.Err() != nil && !errors.Is(context.Cause(ctx), errBudgetSpent) {
		return fmt.Errorf("calibrate %s: %w", r.sum.Model, context.Cause(ctx))
	}
	return nil
}

// phaseFailed records err for phase. It returns the caller's cancellation,
// or errServerDown when the server stopped answering /health.
func (r *runner) phaseFailed(ctx context.Context, phase string, err error) error {
	if e := r.interrupted(ctx); e != nil {
		return e
	}
	if errors.Is(context.Cause(ctx), errBudgetSpent) {
		r.sum.Partial = append(r.sum.Partial, phase+": cut, budget spent")
		return nil
	}
	r.sum.Errors = append(r.sum.Errors, PhaseError{Model: r.model.ID, Phase: phase, Err: err})
	r.progress(Event{Label: r.label, Model: r.model.ID, TP: r.cfg.Hardware.TP, Kind: "failed",
		Message: phase + " failed", Err: err, Left: max(r.deadline.Sub(r.clock.Now()), 0)})
	if herr := r.client.Health(ctx); herr != nil {
		r.sum.Errors = append(r.sum.Errors, PhaseError{Model: r.model.ID, Phase: "health", Err: fmt.Errorf("server stopped answering after a failure, giving up on this model: %w", herr)})
		return errServerDown
	}
	return nil
}

// request sends one synthetic prompt of about promptTokens tokens and
// checks the answer against usage: a server that stopped before maxTokens
// (ignore_eos not honoured) or counted far fewer prompt tokens than sent
// (it truncated the prompt) measured something else, so the result is
// rejected with the reason.
func (r *runner) request(ctx context.Context, promptTokens, maxTokens int) (CompletionResult, error) {
	prompt, err := r.prompts.Prompt(r.model.ID, promptTokens)
	if err != nil {
		return CompletionResult{}, err
	}
	res, err := r.client.Complete(ctx, CompletionRequest{Model: r.model.ID, Prompt: prompt, MaxTokens: maxTokens})
	if err != nil {
		return res, err
	}
	if res.OutputTokens < maxTokens {
		return res, fmt.Errorf("%w: server generated %d of %d tokens (does it honour ignore_eos?)", ErrShortOutput, res.OutputTokens, maxTokens)
	}
	// The prompt-length fit misses by a few percent; a server-side cut is
	// far more (8192 asked, 4096 served).
	if promptTokens >= 32 && float64(res.PromptTokens) < 0.85*float64(promptTokens) {
		return res, fmt.Errorf("%w: server counted %d prompt tokens for a prompt of about %d (check --max-model-len and prompt truncation)", ErrTruncatedPrompt, res.PromptTokens, promptTokens)
	}
	return res, nil
}

// Errors of a checked request.
var (
	// ErrShortOutput means the server generated fewer tokens than asked.
	ErrShortOutput = errors.New("fewer output tokens than asked")
	// ErrTruncatedPrompt means the server processed a shorter prompt than sent.
	ErrTruncatedPrompt = errors.New("prompt truncated by the server")
)

// emit fills the hardware columns and hands m to the sink.
func (r *runner) emit(m Measurement, what string) error {
	h := r.cfg.Hardware
	m.GPU, m.GPUCount, m.TP, m.Interconnect = h.GPU, h.GPUCount, h.TP, h.Interconnect
	if m.Interconnect == "" {
		m.Interconnect = InterconnectUnknown
	}
	m.Model, m.ParamsB, m.Quantization, m.KVCacheDtype = r.model.ID, h.ParamsB, h.Quantization, h.KVCacheDtype
	m.VLLMVersion = r.version
	m.LaunchCommand = r.cfg.LaunchCommand
	m.Source = r.cfg.Source + ": " + what
	m.MeasuredAt = r.clock.Now().UTC().Format(time.RFC3339)
	if err := r.sink(m); err != nil {
		return fmt.Errorf("%w: %w", ErrSink, err)
	}
	r.sum.Measurements++
	return nil
}

// budgetSpent records that work was skipped and reports whether it was.
func (r *runner) budgetSpent(what string) bool {
	if r.clock.Now().Before(r.deadline) {
		return false
	}
	r.sum.Partial = append(r.sum.Partial, what+": skipped, budget spent")
	return true
}

func (r *runner) decode(ctx context.Context, end time.Time) error {
	n := r.cfg.DecodeRuns
	for i := 1; i <= n; i++ {
		phase := fmt.Sprintf("decode %d/%d", i, n)
		if i > 1 && !r.clock.Now().Before(end) {
			r.sum.Partial = append(r.sum.Partial, fmt.Sprintf("decode: %d of %d runs, phase time spent", i-1, n))
			return nil
		}
		if r.budgetSpent(phase) {
			return nil
		}
		r.report("%s", phase)
		res, err := r.request(ctx, r.cfg.DecodePromptTokens, r.cfg.DecodeOutputTokens)
		if err == nil {
			_, ok := res.TPOT()
			if !ok {
				err = fmt.Errorf("%w: server generated %d tokens, want %d", ErrMalformed, res.OutputTokens, r.cfg.DecodeOutputTokens)
			}
		}
		if err != nil {
			if e := r.phaseFailed(ctx, phase, err); e != nil {
				return e
			}
			continue
		}
		if err := r.emit(single(res, true), "decode"); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) prefill(ctx context.Context, end time.Time) error {
	var targets []int
	limit := math.MaxInt
	if r.model.MaxModelLen > 0 {
		// Leave room for the generated token and a miss of the length fit.
		limit = int(float64(r.model.MaxModelLen-1) * 0.95)
	}
	for _, t := range r.cfg.PrefillPromptTokens {
		if t > limit {
			r.sum.Partial = append(r.sum.Partial, fmt.Sprintf("prefill %d: capped at %d by max_model_len %d", t, limit, r.model.MaxModelLen))
			t = limit
		}
		if !slices.Contains(targets, t) {
			targets = append(targets, t)
		}
	}
	total, done := len(targets)*r.cfg.PrefillRuns, 0
	for _, t := range targets {
		for i := 1; i <= r.cfg.PrefillRuns; i++ {
			done++
			phase := fmt.Sprintf("prefill %d/%d (%d tokens)", done, total, t)
			if done > 1 && !r.clock.Now().Before(end) {
				r.sum.Partial = append(r.sum.Partial, fmt.Sprintf("prefill: %d of %d runs, phase time spent", done-1, total))
				return nil
			}
			if r.budgetSpent(phase) {
				return nil
			}
			r.report("%s", phase)
			res, err := r.request(ctx, t, 1)
			if err == nil && res.TTFT <= 0 {
				err = fmt.Errorf("%w: no token arrived", ErrMalformed)
			}
			if err != nil {
				if e := r.phaseFailed(ctx, phase, err); e != nil {
					return e
				}
				continue
			}
			if err := r.emit(single(res, false), "prefill"); err != nil {
				return err
			}
		}
	}
	return nil
}

// single turns one request into a concurrency-1 measurement; decode says
// whether it was a decode run (else a prefill run with one output token).
func single(res CompletionResult, decode bool) Measurement {
	m := Measurement{
		Concurrency:  1,
		PromptTokens: Some(float64(res.PromptTokens)),
		OutputTokens: Some(float64(res.OutputTokens)),
		TTFTms:       Some(round3(ms(res.TTFT))),
	}
	if decode {
		tpot, _ := res.TPOT()
		m.TPOTms = Some(round3(ms(tpot)))
		m.DecodeTokS = Some(round3(1000 / ms(tpot)))
		if len(res.ITLs) > 0 {
			m.ITLms = Some(round3(ms(median(res.ITLs))))
		}
		m.OutputTokS = Some(round3(float64(res.OutputTokens) / res.Latency.Seconds()))
		m.RequestTokS = m.OutputTokS
	} else {
		m.PrefillTokS = Some(round3(float64(res.PromptTokens) / res.TTFT.Seconds()))
	}
	return m
}

func (r *runner) ladder(ctx context.Context, end time.Time) error {
	levels := r.cfg.ConcurrencyLadder
	for i, c := range levels {
		phase := fmt.Sprintf("ladder c=%d", c)
		if r.budgetSpent(phase) {
			for _, rest := range levels[i+1:] {
				r.sum.Partial = append(r.sum.Partial, fmt.Sprintf("ladder c=%d: skipped, budget spent", rest))
			}
			return nil
		}
		now := r.clock.Now()
		slice := max(end.Sub(now), 0) / time.Duration(len(levels)-i)
		r.report("ladder %d/%d (c=%d, %s)", i+1, len(levels), c, slice.Round(time.Millisecond))
		if err := r.level(ctx, c, now.Add(slice), phase); err != nil {
			return err
		}
	}
	return nil
}

// level runs c streams, each sending requests until sliceEnd (at least one
// each while budget remains), and emits one aggregate measurement.
func (r *runner) level(ctx context.Context, c int, sliceEnd time.Time, phase string) error {
	var (
		mu       sync.Mutex
		results  []CompletionResult
		errs     []error
		lastEnd  time.Time
		noStart  int
		wg       sync.WaitGroup
		levelBeg = r.clock.Now()
	)
	holder, _ := r.clock.(Holder)
	for s := 0; s < c; s++ {
		wg.Add(1)
		ctx := ctx
		var hs *hold
		if holder != nil {
			// Every stream is busy from the start, so a virtual timeline
			// waits until all have sent their first request.
			hs = &hold{h: holder, release: holder.Hold()}
			ctx = withHold(ctx, hs)
		}
		go func() {
			defer wg.Done()
			defer hs.drop()
			for n := 0; ; n++ {
				now := r.clock.Now()
				if (n > 0 && !now.Before(sliceEnd)) || !now.Before(r.deadline) || ctx.Err() != nil {
					if n == 0 {
						mu.Lock()
						noStart++
						mu.Unlock()
					}
					return
				}
				res, err := r.request(ctx, r.cfg.LadderPromptTokens, r.cfg.LadderOutputTokens)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				results = append(results, res)
				if e := res.Start.Add(res.Latency); e.After(lastEnd) {
					lastEnd = e
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if e := r.interrupted(ctx); e != nil {
		return e
	}
	partial, err := r.levelOutcome(ctx, phase, c, errs, noStart, len(results))
	if err != nil || len(results) == 0 {
		return err
	}
	m := aggregate(results, c, lastEnd.Sub(levelBeg))
	what := "ladder"
	if len(partial) > 0 {
		what += " (partial: " + strings.Join(partial, "; ") + ")"
	}
	return r.emit(m, what)
}

// levelOutcome records a level's failed and cut streams; it returns
// errServerDown when nothing came back and the server stopped answering.
func (r *runner) levelOutcome(ctx context.Context, phase string, c int, errs []error, noStart, results int) ([]string, error) {
	var partial []string
	cut := 0
	for _, err := range errs {
		if errors.Is(context.Cause(ctx), errBudgetSpent) && ctx.Err() != nil {
			cut++
			continue
		}
		r.sum.Errors = append(r.sum.Errors, PhaseError{Model: r.model.ID, Phase: phase, Err: err})
	}
	if n := len(errs) - cut; n > 0 {
		partial = append(partial, fmt.Sprintf("%d of %d streams failed", n, c))
		r.progress(Event{Label: r.label, Model: r.model.ID, TP: r.cfg.Hardware.TP, Kind: "failed",
			Message: fmt.Sprintf("%s: %d stream(s) failed", phase, n), Err: errs[0], Left: max(r.deadline.Sub(r.clock.Now()), 0)})
	}
	if cut > 0 {
		partial = append(partial, fmt.Sprintf("%d requests cut, budget spent", cut))
	}
	if noStart > 0 {
		partial = append(partial, fmt.Sprintf("%d of %d streams never started, budget spent", noStart, c))
	}
	if len(partial) > 0 {
		r.sum.Partial = append(r.sum.Partial, phase+": "+strings.Join(partial, "; "))
	}
	if results == 0 && len(errs)-cut > 0 {
		if herr := r.client.Health(ctx); herr != nil && r.interrupted(ctx) == nil && ctx.Err() == nil {
			r.sum.Errors = append(r.sum.Errors, PhaseError{Model: r.model.ID, Phase: "health", Err: fmt.Errorf("server stopped answering, giving up on this model: %w", herr)})
			return partial, errServerDown
		}
	}
	return partial, nil
}

// aggregate summarises one ladder level: means over requests, the median
// ITL over every gap, and output tokens over the level's wall time.
func aggregate(results []CompletionResult, c int, wall time.Duration) Measurement {
	var prompt, out, ttft, tpot, reqTokS float64
	var nTPOT int
	var itls []time.Duration
	for _, res := range results {
		prompt += float64(res.PromptTokens)
		out += float64(res.OutputTokens)
		ttft += ms(res.TTFT)
		if t, ok := res.TPOT(); ok {
			tpot += ms(t)
			nTPOT++
		}
		if res.Latency > 0 {
			reqTokS += float64(res.OutputTokens) / res.Latency.Seconds()
		}
		itls = append(itls, res.ITLs...)
	}
	n := float64(len(results))
	m := Measurement{
		Concurrency:  c,
		PromptTokens: Some(round3(prompt / n)),
		OutputTokens: Some(round3(out / n)),
		TTFTms:       Some(round3(ttft / n)),
		RequestTokS:  Some(round3(reqTokS / n)),
	}
	if wall > 0 {
		m.OutputTokS = Some(round3(out / wall.Seconds()))
	}
	if nTPOT > 0 {
		mean := tpot / float64(nTPOT)
		m.TPOTms = Some(round3(mean))
		m.DecodeTokS = Some(round3(1000 / mean))
	}
	if len(itls) > 0 {
		m.ITLms = Some(round3(ms(median(itls))))
	}
	return m
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// median of ds (which it sorts).
func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	return (ds[n/2-1] + ds[n/2]) / 2
}
