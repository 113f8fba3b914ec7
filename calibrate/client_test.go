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

func TestClientComplete(t *testing.T) {
	fake := vllmfake.NewVirtual(vllmfake.Config{Noise: -1, MaxTokensPerChunk: 4, DecodeTokS7B: 1000})
	c := virtualClient(fake)
	res, err := c.Complete(context.Background(), CompletionRequest{Model: "fake/llama-7b", Prompt: "a b c", MaxTokens: 100})
	if err != nil {
		t.Fatal(err)
	}
	// The fake packs up to 4 tokens per chunk: counts come from usage, not chunks.
	if res.PromptTokens != 4 || res.OutputTokens != 100 || len(res.ITLs) >= 99 {
		t.Errorf("prompt %d, output %d, %d gaps; want 4, 100 and fewer than 99 gaps", res.PromptTokens, res.OutputTokens, len(res.ITLs))
	}
	// 1000 tok/s without noise: TPOT exactly 1 ms on the virtual timeline.
	if tpot, _ := res.TPOT(); tpot != time.Millisecond {
		t.Errorf("TPOT %v, want 1ms", tpot)
	}
	if res.Attempts != 1 {
		t.Errorf("attempts %d", res.Attempts)
	}
}

func TestClientErrors(t *testing.T) {
	fake := vllmfake.Start(vllmfake.Config{})
	defer fake.Close()
	c := NewClient(fake.URL)
	c.RetryDelay = time.Millisecond

	_, err := c.Complete(context.Background(), CompletionRequest{Model: "nope", Prompt: "a", MaxTokens: 2})
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 404 || !strings.Contains(err.Error(), "does not exist") || Retryable(err) {
		t.Errorf("unknown model: %v; want a non-retryable 404 quoting the body", err)
	}
	_, err = c.Complete(context.Background(), CompletionRequest{Model: "fake/llama-7b", Prompt: "a", MaxTokens: 9000})
	if !errors.As(err, &he) || he.StatusCode != 400 || !strings.Contains(err.Error(), "maximum context length") {
		t.Errorf("too long: %v", err)
	}
	if _, err := c.Model(context.Background(), "nope"); !errors.Is(err, ErrNoModel) {
		t.Errorf("Model(nope) = %v", err)
	}

	// A server that never answers trips the request timeout, not a hang.
	stop := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer hang.Close()
	defer close(stop)
	hc := &Client{BaseURL: hang.URL, RequestTimeout: 100 * time.Millisecond, Retries: 1}
	// (No timing window: a hang would show as the test's own timeout.)
	_, err = hc.Complete(context.Background(), CompletionRequest{Model: "m", Prompt: "a", MaxTokens: 2})
	if !errors.Is(err, ErrRequestTimeout) || !strings.Contains(err.Error(), "2 attempts") {
		t.Errorf("hanging server: %v", err)
	}

	// A cancelled context is not retried.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Complete(ctx, CompletionRequest{Model: "fake/llama-7b", Prompt: "a", MaxTokens: 2}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"5xx", &HTTPError{StatusCode: 503}, true},
		{"429", &HTTPError{StatusCode: 429}, true},
		{"400", &HTTPError{StatusCode: 400}, false},
		{"stall", ErrStalled, true},
		{"cut stream", ErrIncomplete, true},
		{"malformed", ErrMalformed, false},
		{"no usage", ErrNoUsage, false},
		{"cancel", context.Canceled, false},
	}
	for _, tc := range tests {
		if got := Retryable(tc.err); got != tc.want {
			t.Errorf("%s: Retryable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPromptCacheHitsTarget(t *testing.T) {
	fake := vllmfake.Start(vllmfake.Config{})
	defer fake.Close()
	c := NewClient(fake.URL)
	p := NewPromptCache()
	probes := 0
	probe := func(ctx context.Context, prompt string) (int, error) {
		probes++
		res, err := c.Complete(ctx, CompletionRequest{Model: "fake/llama-7b", Prompt: prompt, MaxTokens: 1})
		return res.PromptTokens, err
	}
	for range 2 {
		if err := p.Calibrate(context.Background(), "fake/llama-7b", probe); err != nil {
			t.Fatal(err)
		}
	}
	if probes != 2 {
		t.Errorf("%d probes, want 2 (cached afterwards)", probes)
	}
	for _, target := range []int{16, 128, 2048} {
		s, _ := p.Prompt("fake/llama-7b", target)
		if got := vllmfake.Tokens(s); got < target*97/100 || got > target*103/100 {
			t.Errorf("target %d: prompt has %d tokens", target, got)
		}
	}
	a, _ := p.Prompt("fake/llama-7b", 64)
	b, _ := p.Prompt("fake/llama-7b", 64)
	if strings.Fields(a)[0] == strings.Fields(b)[0] {
		t.Error("two prompts start alike: the prefix cache would serve the second")
	}
}
