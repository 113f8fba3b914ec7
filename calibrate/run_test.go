package calibrate

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vllm-wizard/vllm-wizard/calibrate/vllmfake"
)

// testRunConfig is a short protocol against the fake.
func testRunConfig(url string) RunConfig {
	cfg := DefaultRunConfig
	cfg.BaseURL = url
	cfg.Hardware = Hardware{GPU: "H100 SXM", GPUCount: 1, TP: 1, Interconnect: "nvlink", Quantization: "none", KVCacheDtype: "auto", ParamsB: Some(7)}
	cfg.Budget = 3 * time.Second
	cfg.DecodeRuns = 3
	cfg.PrefillPromptTokens = []int{1024, 4096}
	cfg.PrefillRuns = 1
	cfg.ConcurrencyLadder = []int{1, 4, 16}
	cfg.RequestTimeout = time.Minute
	// Wall-clock guards: generous, so a loaded machine never trips them in
	// a run on the virtual timeline (where no real wait is legitimate).
	cfg.StallTimeout = 10 * time.Second
	return cfg
}

type collector struct {
	mu    sync.Mutex
	ms    []Measurement
	at    []time.Time
	clock Clock
}

func (c *collector) sink(m Measurement) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ms = append(c.ms, m)
	clock := c.clock
	if clock == nil {
		clock = WallClock
	}
	c.at = append(c.at, clock.Now())
	return nil
}

// virtualRun points cfg at a fake on its own virtual timeline.
func virtualRun(fcfg vllmfake.Config) (*vllmfake.Server, RunConfig) {
	fake := vllmfake.NewVirtual(fcfg)
	cfg := testRunConfig(fake.URL)
	cfg.HTTPClient, cfg.Clock = fake.HTTPClient(), fake.Clock()
	return fake, cfg
}

func (c *collector) bySource(kind string) []Measurement {
	var out []Measurement
	for _, m := range c.ms {
		if strings.Contains(m.Source, ": "+kind) {
			out = append(out, m)
		}
	}
	return out
}

func within(got, want, frac float64) bool { return math.Abs(got-want) <= frac*want }

func TestRunAgainstFake(t *testing.T) {
	fcfg := vllmfake.DefaultConfig
	fcfg.Models = []vllmfake.Model{{ID: "fake/qwen-14b", ParamsB: 14, MaxModelLen: 3000}}
	// Slow prefill so the fixed cost of a request (a few ms on a loaded
	// machine) stays small next to the TTFT: 1024 tokens take 205 ms.
	fcfg.PrefillTokS7B = 10000
	fake, cfg := virtualRun(fcfg)
	cfg.Budget = 4 * time.Second
	cfg.ConcurrencyLadder = []int{1, 4}
	c := collector{clock: cfg.Clock}
	var lines []string
	start := cfg.Clock.Now()
	sum, err := Run(context.Background(), cfg, c.sink, func(e Event) { lines = append(lines, e.String()) })
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	elapsed := cfg.Clock.Now().Sub(start)
	if len(sum.Errors) > 0 {
		t.Fatalf("errors: %v", sum.Errors)
	}
	// Before, Elapsed was always 0 (set after the result was copied).
	if sum.Elapsed != elapsed || elapsed <= 0 || elapsed > cfg.Budget+cfg.Budget/4 {
		t.Errorf("run took %v (summary says %v), budget %v", elapsed, sum.Elapsed, cfg.Budget)
	}
	_ = fake
	if sum.Model != "fake/qwen-14b" || sum.VLLMVersion != "0.6.3" || sum.MaxModelLen != 3000 {
		t.Errorf("summary = %+v", sum)
	}
	if sum.Measurements != len(c.ms) {
		t.Errorf("summary counts %d measurements, sink got %d", sum.Measurements, len(c.ms))
	}
	// 14B at exponent 1: 2000 × 7/14 = 1000 tok/s per stream at concurrency 1.
	wantDecode := fcfg.DecodeTokS(14, 1)
	decode := c.bySource("decode")
	if len(decode) != 3 {
		t.Fatalf("got %d decode rows, want 3", len(decode))
	}
	for _, m := range decode {
		if !within(m.DecodeTokS.V, wantDecode, 0.05) {
			t.Errorf("decode_tok_s = %v, want %v ± 5%%", m.DecodeTokS.V, wantDecode)
		}
		if m.OutputTokens.V != 256 || !within(m.PromptTokens.V, 128, 0.05) {
			t.Errorf("decode tokens prompt %v output %v, want ≈128 and 256", m.PromptTokens.V, m.OutputTokens.V)
		}
		if m.Concurrency != 1 || m.GPU != "H100 SXM" || m.VLLMVersion != "0.6.3" || m.MeasuredAt == "" || !m.ITLms.Valid || !m.TTFTms.Valid {
			t.Errorf("decode row %+v", m)
		}
	}
	// Prefill: 4096 is capped at 95% of max_model_len 3000 − 1.
	prefill := c.bySource("prefill")
	if len(prefill) != 2 {
		t.Fatalf("got %d prefill rows, want 2", len(prefill))
	}
	wantPrefill := fcfg.PrefillTokS(14) // 10000 × 7/14 = 5000 tok/s
	for i, want := range []float64{1024, 2849} {
		m := prefill[i]
		if !within(m.PromptTokens.V, want, 0.03) {
			t.Errorf("prefill %d: prompt_tokens %v, want %v ± 3%%", i, m.PromptTokens.V, want)
		}
		if !within(m.PrefillTokS.V, wantPrefill, 0.1) {
			t.Errorf("prefill %d: prefill_tok_s %v, want %v ± 10%%", i, m.PrefillTokS.V, wantPrefill)
		}
	}
	if !strings.Contains(strings.Join(sum.Partial, "\n"), "prefill 4096: capped at 2849") {
		t.Errorf("partial = %q, want the prefill cap", sum.Partial)
	}
	ladder := c.bySource("ladder")
	if len(ladder) != 2 {
		t.Fatalf("got %d ladder rows, want 2: %+v; partial: %q", len(ladder), ladder, sum.Partial)
	}
	for i, conc := range []int{1, 4} {
		m := ladder[i]
		if m.Concurrency != conc {
			t.Errorf("ladder %d: concurrency %d, want %d", i, m.Concurrency, conc)
		}
		// Each stream decodes at the fake's loaded speed; the aggregate is
		// about concurrency × that (less the prefill and gaps between requests).
		perStream := fcfg.DecodeTokS(14, conc)
		if !within(m.DecodeTokS.V, perStream, 0.25) {
			t.Errorf("ladder c=%d: decode_tok_s %v, want %v ± 25%%", conc, m.DecodeTokS.V, perStream)
		}
		if agg := m.OutputTokS.V; agg < 0.5*perStream*float64(conc) || agg > 1.05*perStream*float64(conc) {
			t.Errorf("ladder c=%d: output_tok_s %v, want about %v", conc, agg, perStream*float64(conc))
		}
	}
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "[model 1/1 fake/qwen-14b] ") || !strings.Contains(lines[len(lines)-1], "left") {
		t.Errorf("progress lines %q", lines)
	}
	// Results reach the sink as they exist, not at the end.
	if first := c.at[0].Sub(start); first > elapsed/2 {
		t.Errorf("first measurement arrived after %v of %v", first, elapsed)
	}
}

func TestRunKeepsEarlierResultsOnFailures(t *testing.T) {
	tests := []struct {
		name     string
		fault    vllmfake.Fault
		wantErr  error
		attempts int // retryable failures are tried 1 + Retries times
	}{
		{"http 500 is retried", vllmfake.Fault500, nil, 3},
		{"stall is retried", vllmfake.FaultStall, ErrStalled, 3},
		{"malformed SSE is not retried", vllmfake.FaultMalformed, ErrMalformed, 1},
		{"connection closed mid-stream is retried", vllmfake.FaultCloseMidStream, ErrIncomplete, 3},
		{"missing usage is not retried", vllmfake.FaultNoUsage, ErrNoUsage, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake, cfg := virtualRun(vllmfake.Config{})
			// Requests: 2 probes, 2 warm-ups, decodes 1 and 2 (5th, 6th)
			// succeed, decode 3 fails on every attempt, then normal again.
			fake.SetFault(func(n int) vllmfake.Fault {
				if n >= 7 && n < 7+tc.attempts {
					return tc.fault
				}
				return vllmfake.FaultNone
			})
			cfg.Budget = 2 * time.Second
			if tc.fault == vllmfake.FaultStall {
				// The stall is real silence; the stall timer ends it.
				cfg.StallTimeout = time.Second
			}
			cfg.ConcurrencyLadder = []int{1, 2}
			var c collector
			sum, err := Run(context.Background(), cfg, c.sink, nil)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if len(sum.Errors) != 1 {
				t.Fatalf("errors = %v, want one", sum.Errors)
			}
			pe := sum.Errors[0]
			if pe.Phase != "decode 3/3" {
				t.Errorf("phase %q, want decode 3/3", pe.Phase)
			}
			var he *HTTPError
			if tc.wantErr == nil && !errors.As(pe.Err, &he) {
				t.Errorf("error %v is not an *HTTPError", pe.Err)
			}
			if tc.wantErr != nil && !errors.Is(pe.Err, tc.wantErr) {
				t.Errorf("error %v, want %v", pe.Err, tc.wantErr)
			}
			if retried := strings.Contains(pe.Err.Error(), "3 attempts"); retried != (tc.attempts == 3) {
				t.Errorf("error %q: retried = %v, want %v", pe.Err, retried, tc.attempts == 3)
			}
			if got := len(c.bySource("decode")); got != 2 {
				t.Errorf("%d decode rows kept, want 2 (runs 1 and 2)", got)
			}
			if got := len(c.bySource("ladder")); got != 2 {
				t.Errorf("%d ladder rows, want 2", got)
			}
		})
	}
}

func TestRunServerGone(t *testing.T) {
	fake := vllmfake.Start(vllmfake.Config{})
	cfg := testRunConfig(fake.URL)
	var c collector
	closed := false
	sink := func(m Measurement) error {
		c.sink(m)
		if !closed {
			closed = true
			fake.Close() // the server dies after the first result
		}
		return nil
	}
	sum, err := Run(context.Background(), cfg, sink, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(c.ms) != 1 {
		t.Errorf("%d rows, want the 1 from before the server died", len(c.ms))
	}
	last := sum.Errors[len(sum.Errors)-1]
	if last.Phase != "health" || !strings.Contains(last.Err.Error(), "giving up") {
		t.Errorf("errors %v, want a final health error", sum.Errors)
	}
}

func TestRunUnreachable(t *testing.T) {
	cfg := testRunConfig("http://127.0.0.1:1")
	sum, err := Run(context.Background(), cfg, func(Measurement) error { return nil }, nil)
	if err == nil || !strings.Contains(err.Error(), "not ready") {
		t.Fatalf("err = %v, want not ready", err)
	}
	if len(sum.Errors) != 1 || sum.Errors[0].Phase != "health" {
		t.Errorf("errors %v", sum.Errors)
	}
}

func TestRunModelNotServed(t *testing.T) {
	_, cfg := virtualRun(vllmfake.Config{})
	cfg.Model = "meta-llama/Llama-3.1-8B"
	_, err := Run(context.Background(), cfg, func(Measurement) error { return nil }, nil)
	if !errors.Is(err, ErrNoModel) || !strings.Contains(err.Error(), "fake/llama-7b") {
		t.Fatalf("err = %v, want ErrNoModel naming the served model", err)
	}
}

func TestRunBudgetMarksPartial(t *testing.T) {
	fcfg := vllmfake.Config{DecodeTokS7B: 500} // 2 ms per token
	_, cfg := virtualRun(fcfg)
	cfg.Budget = 1200 * time.Millisecond
	cfg.DecodeRuns = 10 // 10 × 0.5 s would be far over the decode share
	cfg.ConcurrencyLadder = []int{1, 4, 16, 64}
	var c collector
	sum, err := Run(context.Background(), cfg, c.sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	// No request starts after the deadline; those in flight finish (64
	// streams of 128 tokens at 2 ms × 4.15 slowdown ≈ 1.1 s): 1.2 s + 1 s bounds it.
	if sum.Elapsed > cfg.Budget+time.Second {
		t.Errorf("run took %v with budget %v", sum.Elapsed, cfg.Budget)
	}
	p := strings.Join(sum.Partial, "\n")
	if !strings.Contains(p, "decode: ") || !strings.Contains(p, "ladder c=") {
		t.Errorf("partial = %q, want decode and ladder cut", sum.Partial)
	}
	if len(c.bySource("decode")) == 0 {
		t.Error("no decode row at all")
	}
	if len(sum.Errors) > 0 {
		t.Errorf("budget cuts are not errors: %v", sum.Errors)
	}
}

func TestRunCancel(t *testing.T) {
	_, cfg := virtualRun(vllmfake.Config{DecodeTokS7B: 200})
	cfg.Budget = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	var c collector
	sink := func(m Measurement) error {
		c.sink(m)
		cancel()
		return nil
	}
	_, err := Run(ctx, cfg, sink, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(c.ms) != 1 {
		t.Errorf("%d rows, want 1", len(c.ms))
	}
}

func TestRunSinkError(t *testing.T) {
	_, cfg := virtualRun(vllmfake.Config{})
	boom := errors.New("disk full")
	_, err := Run(context.Background(), cfg, func(Measurement) error { return boom }, nil)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the sink's error", err)
	}
}

func TestRunConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*RunConfig)
		want   string
	}{
		{"default with url and gpu is valid", func(*RunConfig) {}, ""},
		{"no url", func(c *RunConfig) { c.BaseURL = "" }, "BaseURL"},
		{"no gpu", func(c *RunConfig) { c.Hardware.GPU = "" }, "GPU"},
		{"zero budget", func(c *RunConfig) { c.Budget = 0 }, "Budget"},
		{"bad ladder", func(c *RunConfig) { c.ConcurrencyLadder = []int{1, 0} }, "concurrency 0"},
		{"one output token cannot give TPOT", func(c *RunConfig) { c.DecodeOutputTokens = 1 }, "DecodeOutputTokens"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testRunConfig("http://x")
			tc.mutate(&cfg)
			err := cfg.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}
