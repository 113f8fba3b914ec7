package calibrate

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vllm-wizard/vllm-wizard/calibrate/vllmfake"
)

// pacedConfig is the fake with known pacing: TTFT 200 ms, 20 ms per later
// token, 4 tokens per chunk after the first, no noise, no batch slowdown.
func pacedConfig() vllmfake.Config {
	return vllmfake.Config{TTFT: 200 * time.Millisecond, TPOT: 20 * time.Millisecond, Noise: -1, TokensPerChunk: 4}
}

// virtualClient is a client of a fake on its own virtual timeline.
func virtualClient(fake *vllmfake.Server) *Client {
	c := NewClient(fake.URL)
	c.HTTP, c.Clock = fake.HTTPClient(), fake.Clock()
	c.RetryDelay = 0
	return c
}

func TestClientTimingsOnVirtualTimeline(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(*vllmfake.Config)
		endpoint string
		// chunks with choices: the first token alone, then 255 in 4s (64),
		// plus chat's role chunk and closing finish chunk.
		wantChunks int
	}{
		{"completions", func(*vllmfake.Config) {}, EndpointCompletions, 65},
		// Before: an empty first chunk aborted the run ("no chunk had text")
		// and an empty later one stretched TTFT or skipped an ITL.
		{"empty-text chunks are token events", func(c *vllmfake.Config) { c.EmptyFirstChunk, c.EmptyTextEvery = true, 3 }, EndpointCompletions, 65},
		{"continuous usage stats on every chunk", func(c *vllmfake.Config) { c.ForceContinuousUsage = true }, EndpointCompletions, 65},
		// vllm bench takes TTFT at chat's first chunk, the role delta.
		{"chat opens with a role chunk", func(*vllmfake.Config) {}, EndpointChat, 67},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := pacedConfig()
			tc.mutate(&cfg)
			fake := vllmfake.NewVirtual(cfg)
			c := virtualClient(fake)
			c.EndpointType = tc.endpoint
			res, err := c.Complete(context.Background(), CompletionRequest{Model: "fake/llama-7b", Prompt: "a b c", MaxTokens: 256})
			if err != nil {
				t.Fatal(err)
			}
			// Exact on the shared timeline: TTFT 200 ms; the last token at
			// 200 + 255 × 20 = 5300 ms, so TPOT = 5100 / 255 = 20 ms.
			tpot, _ := res.TPOT()
			if res.TTFT != 200*time.Millisecond || res.Latency != 5300*time.Millisecond || tpot != 20*time.Millisecond {
				t.Errorf("TTFT %v latency %v TPOT %v; want 200ms, 5.3s, 20ms", res.TTFT, res.Latency, tpot)
			}
			if res.PromptTokens != 4 || res.OutputTokens != 256 || res.Chunks != tc.wantChunks {
				t.Errorf("prompt %d output %d chunks %d; want 4, 256, %d", res.PromptTokens, res.OutputTokens, res.Chunks, tc.wantChunks)
			}
		})
	}
}

func TestClientSendsWhatVLLMBenchSends(t *testing.T) {
	for _, ep := range []string{EndpointCompletions, EndpointChat} {
		t.Run(ep, func(t *testing.T) {
			fake := vllmfake.NewVirtual(pacedConfig())
			c := virtualClient(fake)
			c.EndpointType = ep
			if _, err := c.Complete(context.Background(), CompletionRequest{Model: "fake/llama-7b", Prompt: "x y", MaxTokens: 3}); err != nil {
				t.Fatal(err)
			}
			req := fake.Requests()[0]
			b := req.Body
			so, _ := b["stream_options"].(map[string]any)
			if b["temperature"] != 0.0 || b["repetition_penalty"] != 1.0 || b["ignore_eos"] != true || b["stream"] != true || so["include_usage"] != true {
				t.Errorf("body %v: want temperature 0, repetition_penalty 1, ignore_eos, stream, include_usage", b)
			}
			wantPath, maxKey := "/v1/completions", "max_tokens"
			if ep == EndpointChat {
				wantPath, maxKey = "/v1/chat/completions", "max_completion_tokens"
			}
			if req.Path != wantPath || b[maxKey] != 3.0 {
				t.Errorf("path %s body %v; want %s with %s 3", req.Path, b, wantPath, maxKey)
			}
		})
	}
}

func TestClientUsageChecks(t *testing.T) {
	tests := []struct {
		name  string
		fault vllmfake.Fault
		want  error
	}{
		{"10^12 tokens", vllmfake.FaultAbsurdUsage, ErrAbsurdUsage},
		{"negative tokens", vllmfake.FaultNegativeUsage, ErrAbsurdUsage},
		{"error event mid-stream", vllmfake.FaultErrorMidStream, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := vllmfake.NewVirtual(pacedConfig())
			fake.SetFault(func(int) vllmfake.Fault { return tc.fault })
			_, err := virtualClient(fake).Complete(context.Background(), CompletionRequest{Model: "fake/llama-7b", Prompt: "a", MaxTokens: 16})
			if !errors.Is(err, tc.want) || Retryable(err) {
				t.Errorf("err = %v, want non-retryable %v", err, tc.want)
			}
		})
	}
}

func TestClientAPIKey(t *testing.T) {
	cfg := pacedConfig()
	cfg.APIKey = "sk-secret"
	fake := vllmfake.NewVirtual(cfg)
	c := virtualClient(fake)
	if _, err := c.Models(context.Background()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("without key: %v, want 401", err)
	}
	c.APIKey = "sk-secret"
	if _, err := c.Complete(context.Background(), CompletionRequest{Model: "fake/llama-7b", Prompt: "a", MaxTokens: 2}); err != nil {
		t.Fatalf("with key: %v", err)
	}
	if got := fake.Requests()[0].Authorization; got != "Bearer sk-secret" {
		t.Errorf("Authorization %q", got)
	}

	// A redirect to another origin (another port of the same host, which
	// Go's own rule would trust) must not carry the key.
	var leaked, kept string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = r.Header.Get("Authorization")
		w.Write([]byte(`{"version":"0.9.0"}`))
	}))
	defer other.Close()
	var home *httptest.Server
	home = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/version":
			http.Redirect(w, r, other.URL+"/version", http.StatusFound)
		case "/v1/models":
			http.Redirect(w, r, home.URL+"/v1/models2", http.StatusFound)
		default:
			kept = r.Header.Get("Authorization")
			w.Write([]byte(`{"data":[{"id":"m"}]}`))
		}
	}))
	defer home.Close()
	hc := &Client{BaseURL: home.URL, APIKey: "sk-secret"}
	if v, err := hc.Version(context.Background()); err != nil || v != "0.9.0" {
		t.Fatalf("Version = %q, %v", v, err)
	}
	if leaked != "" {
		t.Errorf("key sent to another origin after a redirect: %q", leaked)
	}
	if _, err := hc.Models(context.Background()); err != nil || kept != "Bearer sk-secret" {
		t.Errorf("same-origin redirect: %v, Authorization %q; want the key kept", err, kept)
	}
}

func TestHealthFallsBackToModels(t *testing.T) {
	cfg := pacedConfig()
	cfg.NoHealth = true
	fake := vllmfake.NewVirtual(cfg)
	if err := virtualClient(fake).Health(context.Background()); err != nil {
		t.Errorf("Health on a server without /health = %v, want nil via /v1/models", err)
	}
}

func TestPromptsAreUniquePerRun(t *testing.T) {
	a, b := NewPromptCache(), NewPromptCache()
	if a.Words(50) == b.Words(50) {
		t.Error("two runs produced the same first prompt: the server's prefix cache would serve the second")
	}
	s1, s2 := NewSeededPromptCache(7), NewSeededPromptCache(7)
	if s1.Words(50) != s2.Words(50) {
		t.Error("the same --seed gave different prompts")
	}
}

func TestConnectionReuse(t *testing.T) {
	// Real TCP: the fake counts the connections it accepts.
	fake := vllmfake.Start(vllmfake.Config{DecodeTokS7B: 20000, PrefillTokS7B: 1e6})
	defer fake.Close()
	cfg := testRunConfig(fake.URL)
	cfg.Budget = 2 * time.Second
	cfg.DecodeRuns, cfg.PrefillRuns = 3, 1
	cfg.PrefillPromptTokens = []int{256}
	cfg.ConcurrencyLadder = []int{1, 4, 8}
	cfg.LadderOutputTokens = 8
	sum, err := Run(context.Background(), cfg, func(Measurement) error { return nil }, nil)
	if err != nil || len(sum.Errors) > 0 {
		t.Fatalf("Run: %v %v", err, sum.Errors)
	}
	// Before: http.DefaultClient kept 2 idle connections per host and the
	// body was closed before EOF, so most requests dialled anew.
	// Go's transport may dial while a finished stream's connection is still
	// on its way back to the pool, so allow up to twice the top concurrency.
	n, reqs := fake.NewConnections(), fake.Completions()
	t.Logf("%d new TCP connections for %d requests", n, reqs)
	if n > 16 || reqs < 50 {
		t.Errorf("%d new TCP connections for %d requests; want at most 16 (top concurrency 8)", n, reqs)
	}
}
