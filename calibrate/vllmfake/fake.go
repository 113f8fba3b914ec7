package vllmfake

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fault is a misbehaviour of one completion request.
type Fault int

// Faults.
const (
	// FaultNone answers normally.
	FaultNone Fault = iota
	// Fault500 answers HTTP 500 with a vLLM-style error body.
	Fault500
	// FaultStall sends the first chunk, then nothing until the client leaves
	// (or Config.StallFor passes).
	FaultStall
	// FaultMalformed sends a chunk that is not JSON.
	FaultMalformed
	// FaultCloseMidStream cuts the connection after a few chunks.
	FaultCloseMidStream
	// FaultNoUsage omits the usage chunk even when it was asked for.
	FaultNoUsage
)

// Model is a served model.
type Model struct {
	// ID is the served model name.
	ID string `json:"id"`
	// ParamsB is the size in billions of parameters; it sets the speed.
	ParamsB float64 `json:"params_b"`
	// MaxModelLen is the context length reported by /v1/models and enforced.
	MaxModelLen int `json:"max_model_len"`
}

// Config sets the fake's models and speeds. Zero fields take the defaults of
// DefaultConfig.
type Config struct {
	// Models are the served models.
	Models []Model `json:"models"`
	// Version is what /version reports.
	Version string `json:"version"`
	// DecodeTokS7B is the decode speed of one stream of a 7B model, tokens/s.
	DecodeTokS7B float64 `json:"decode_tok_s_7b"`
	// PrefillTokS7B is the prompt-processing speed of a 7B model, tokens/s.
	PrefillTokS7B float64 `json:"prefill_tok_s_7b"`
	// SizeExponent makes speeds scale as (7 / params_b)^SizeExponent.
	SizeExponent float64 `json:"size_exponent"`
	// BatchSlowdown stretches each token's time by 1 + BatchSlowdown×(n−1)
	// when n requests are in flight.
	BatchSlowdown float64 `json:"batch_slowdown"`
	// Noise is the relative jitter of each token's time (uniform ±Noise);
	// negative means none.
	Noise float64 `json:"noise"`
	// Seed seeds the noise and the chunk packing.
	Seed int64 `json:"seed"`
	// MaxTokensPerChunk is the most tokens one streamed chunk carries (vLLM
	// packs several when it runs ahead of the client); 1 means never pack.
	MaxTokensPerChunk int `json:"max_tokens_per_chunk"`
	// StallFor bounds FaultStall's silence.
	StallFor time.Duration `json:"stall_for"`
	// ReadyAfter keeps /health at 503 for this long after the fake starts.
	ReadyAfter time.Duration `json:"ready_after"`
}

// DefaultConfig is a fast fake: a 7B model decoding 2000 tokens/s per stream
// (0.5 ms per token), so a full calibration run takes a few seconds.
var DefaultConfig = Config{
	Models:            []Model{{ID: "fake/llama-7b", ParamsB: 7, MaxModelLen: 8192}},
	Version:           "0.6.3",
	DecodeTokS7B:      2000,
	PrefillTokS7B:     100000,
	SizeExponent:      1,
	BatchSlowdown:     0.05,
	Noise:             0.05,
	Seed:              1,
	MaxTokensPerChunk: 3,
	StallFor:          30 * time.Second,
}

func (c Config) withDefaults() Config {
	d := DefaultConfig
	if len(c.Models) == 0 {
		c.Models = d.Models
	}
	for i := range c.Models {
		if c.Models[i].ParamsB <= 0 {
			c.Models[i].ParamsB = 7
		}
		if c.Models[i].MaxModelLen <= 0 {
			c.Models[i].MaxModelLen = 8192
		}
	}
	if c.Version == "" {
		c.Version = d.Version
	}
	if c.DecodeTokS7B <= 0 {
		c.DecodeTokS7B = d.DecodeTokS7B
	}
	if c.PrefillTokS7B <= 0 {
		c.PrefillTokS7B = d.PrefillTokS7B
	}
	if c.SizeExponent == 0 {
		c.SizeExponent = d.SizeExponent
	}
	if c.BatchSlowdown < 0 {
		c.BatchSlowdown = 0
	}
	if c.Noise == 0 {
		c.Noise = d.Noise
	}
	if c.Noise < 0 {
		c.Noise = 0
	}
	if c.MaxTokensPerChunk <= 0 {
		c.MaxTokensPerChunk = d.MaxTokensPerChunk
	}
	if c.StallFor <= 0 {
		c.StallFor = d.StallFor
	}
	return c
}

// DecodeTokS is the configured per-stream decode speed of a model of
// paramsB billion parameters with concurrency requests in flight.
func (c Config) DecodeTokS(paramsB float64, concurrency int) float64 {
	c = c.withDefaults()
	return c.DecodeTokS7B * math.Pow(7/paramsB, c.SizeExponent) / (1 + c.BatchSlowdown*float64(max(concurrency, 1)-1))
}

// PrefillTokS is the configured prompt-processing speed of a model of
// paramsB billion parameters.
func (c Config) PrefillTokS(paramsB float64) float64 {
	c = c.withDefaults()
	return c.PrefillTokS7B * math.Pow(7/paramsB, c.SizeExponent)
}

// Tokens is the fake's tokeniser: one token per whitespace-separated word
// plus one for the beginning of the sequence.
func Tokens(prompt string) int { return len(strings.Fields(prompt)) + 1 }

// Server is a running fake.
type Server struct {
	cfg     Config
	started time.Time
	// URL is the base URL when started with Start.
	URL string
	ts  *httptest.Server

	mu    sync.Mutex
	rng   *rand.Rand
	fault func(n int) Fault

	completions atomic.Int64
	active      atomic.Int64
}

// New returns a fake that is not listening; serve its Handler.
func New(cfg Config) *Server {
	cfg = cfg.withDefaults()
	return &Server{cfg: cfg, started: time.Now(), rng: rand.New(rand.NewSource(cfg.Seed))}
}

// Start returns a fake listening on a local port; Close it when done.
func Start(cfg Config) *Server {
	s := New(cfg)
	s.ts = httptest.NewServer(s.Handler())
	s.URL = s.ts.URL
	return s
}

// Close stops a fake started with Start, cutting open streams.
func (s *Server) Close() {
	if s.ts != nil {
		s.ts.CloseClientConnections()
		s.ts.Close()
	}
}

// Config returns the fake's configuration with defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// SetFault makes the n-th completion request (1-based, counting every
// attempt) misbehave as f(n) says; nil restores normal answers.
func (s *Server) SetFault(f func(n int) Fault) {
	s.mu.Lock()
	s.fault = f
	s.mu.Unlock()
}

// Completions returns how many completion requests arrived.
func (s *Server) Completions() int { return int(s.completions.Load()) }

// Handler serves the fake's API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		if time.Since(s.started) < s.cfg.ReadyAfter {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"version": s.cfg.Version})
	})
	mux.HandleFunc("GET /v1/models", s.models)
	mux.HandleFunc("POST /v1/completions", s.complete)
	return mux
}

func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	type entry struct {
		ID          string `json:"id"`
		Object      string `json:"object"`
		Created     int64  `json:"created"`
		OwnedBy     string `json:"owned_by"`
		Root        string `json:"root"`
		Parent      *int   `json:"parent"`
		MaxModelLen int    `json:"max_model_len"`
	}
	var data []entry
	for _, m := range s.cfg.Models {
		data = append(data, entry{ID: m.ID, Object: "model", Created: s.started.Unix(), OwnedBy: "vllm", Root: m.ID, MaxModelLen: m.MaxModelLen})
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}

// vllmError writes an error body in vLLM's format.
func vllmError(w http.ResponseWriter, code int, typ, msg string) {
	writeJSON(w, code, map[string]any{"object": "error", "message": msg, "type": typ, "param": nil, "code": code})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

type completionRequest struct {
	Model         string `json:"model"`
	Prompt        string `json:"prompt"`
	MaxTokens     *int   `json:"max_tokens"`
	Stream        bool   `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

func (s *Server) complete(w http.ResponseWriter, r *http.Request) {
	n := int(s.completions.Add(1))
	s.mu.Lock()
	fault := FaultNone
	if s.fault != nil {
		fault = s.fault(n)
	}
	s.mu.Unlock()

	var req completionRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		vllmError(w, http.StatusBadRequest, "BadRequestError", "invalid JSON body: "+err.Error())
		return
	}
	var model *Model
	for i := range s.cfg.Models {
		if s.cfg.Models[i].ID == req.Model {
			model = &s.cfg.Models[i]
		}
	}
	if model == nil {
		vllmError(w, http.StatusNotFound, "NotFoundError", fmt.Sprintf("The model `%s` does not exist.", req.Model))
		return
	}
	maxTokens := 16
	if req.MaxTokens != nil {
		maxTokens = *req.MaxTokens
	}
	if maxTokens < 1 {
		vllmError(w, http.StatusBadRequest, "BadRequestError", "max_tokens must be at least 1")
		return
	}
	promptTokens := Tokens(req.Prompt)
	if promptTokens+maxTokens > model.MaxModelLen {
		vllmError(w, http.StatusBadRequest, "BadRequestError", fmt.Sprintf(
			"This model's maximum context length is %d tokens. However, you requested %d tokens (%d in the messages, %d in the completion). Please reduce the length of the messages or completion.",
			model.MaxModelLen, promptTokens+maxTokens, promptTokens, maxTokens))
		return
	}
	if fault == Fault500 {
		vllmError(w, http.StatusInternalServerError, "InternalServerError", "fake engine failure (injected)")
		return
	}

	s.active.Add(1)
	defer s.active.Add(-1)
	start := time.Now()
	decodeRate := s.cfg.DecodeTokS7B * math.Pow(7/model.ParamsB, s.cfg.SizeExponent)
	prefill := time.Duration(float64(promptTokens) / s.cfg.PrefillTokS(model.ParamsB) * float64(time.Second))
	id := fmt.Sprintf("cmpl-fake-%d", n)
	created := start.Unix()

	if !req.Stream {
		deadline := start.Add(prefill)
		for i := 1; i < maxTokens; i++ {
			deadline = deadline.Add(s.tokenTime(decodeRate))
		}
		if !sleepUntil(r, deadline) {
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"id": id, "object": "text_completion", "created": created, "model": model.ID,
			"choices": []any{map[string]any{"index": 0, "text": strings.Repeat(" tok", maxTokens), "logprobs": nil, "finish_reason": "length", "stop_reason": nil}},
			"usage":   map[string]int{"prompt_tokens": promptTokens, "completion_tokens": maxTokens, "total_tokens": promptTokens + maxTokens},
		})
		return
	}

	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	send := func(v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	chunk := func(text string, finish any) map[string]any {
		return map[string]any{
			"id": id, "object": "text_completion", "created": created, "model": model.ID,
			"choices": []any{map[string]any{"index": 0, "text": text, "logprobs": nil, "finish_reason": finish, "stop_reason": nil}},
		}
	}

	deadline := start.Add(prefill)
	sent, chunks := 0, 0
	for sent < maxTokens {
		k := 1
		if sent > 0 {
			k = s.packing()
		}
		k = min(k, maxTokens-sent)
		for i := 0; i < k; i++ {
			if sent+i > 0 {
				deadline = deadline.Add(s.tokenTime(decodeRate))
			}
		}
		if !sleepUntil(r, deadline) {
			return
		}
		sent += k
		chunks++
		var finish any
		if sent == maxTokens {
			finish = "length"
		}
		send(chunk(strings.Repeat(" tok", k), finish))
		switch {
		case fault == FaultStall && chunks == 1:
			select {
			case <-r.Context().Done():
			case <-time.After(s.cfg.StallFor):
			}
			return
		case fault == FaultMalformed && chunks == 2:
			fmt.Fprintf(w, "data: {\"id\": \"%s\", \"choices\": [{\"text\": \"oops\"\n\n", id)
			if flusher != nil {
				flusher.Flush()
			}
			return
		case fault == FaultCloseMidStream && chunks == 2:
			panic(http.ErrAbortHandler) // closes the connection without ending the chunked body
		}
	}
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage && fault != FaultNoUsage {
		send(map[string]any{
			"id": id, "object": "text_completion", "created": created, "model": model.ID,
			"choices": []any{},
			"usage":   map[string]int{"prompt_tokens": promptTokens, "completion_tokens": maxTokens, "total_tokens": promptTokens + maxTokens},
		})
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	if flusher != nil {
		flusher.Flush()
	}
}

// tokenTime is the time of one decode step with the current load and noise.
func (s *Server) tokenTime(rate float64) time.Duration {
	s.mu.Lock()
	jitter := 1 + s.cfg.Noise*(2*s.rng.Float64()-1)
	s.mu.Unlock()
	slow := 1 + s.cfg.BatchSlowdown*float64(max(s.active.Load(), 1)-1)
	return time.Duration(slow * jitter / rate * float64(time.Second))
}

// packing picks how many tokens the next chunk carries: one most of the time.
func (s *Server) packing() int {
	if s.cfg.MaxTokensPerChunk <= 1 {
		return 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rng.Float64() < 0.7 {
		return 1
	}
	return 2 + s.rng.Intn(s.cfg.MaxTokensPerChunk-1)
}

// sleepUntil waits for t; false when the client went away first.
func sleepUntil(r *http.Request, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return r.Context().Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-r.Context().Done():
		return false
	case <-timer.C:
		return true
	}
}
