package vllmfake

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"net"
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
	// FaultErrorMidStream sends vLLM's in-stream error event after two
	// chunks, then [DONE] (serving_completion.py's exception path).
	FaultErrorMidStream
	// FaultAbsurdUsage reports 10¹² completion tokens in the usage chunk.
	FaultAbsurdUsage
	// FaultNegativeUsage reports −1 completion tokens in the usage chunk.
	FaultNegativeUsage
)

// Model is a served model.
type Model struct {
	// ID is the served model name.
	ID string `json:"id"`
	// Root is the checkpoint /v1/models reports as root (default: ID).
	Root string `json:"root"`
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
	// TTFT and TPOT, when positive, fix the time to the first token and the
	// time per later token of every request (before batch slowdown and
	// noise), overriding the speeds.
	TTFT time.Duration `json:"ttft"`
	TPOT time.Duration `json:"tpot"`
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
	// TokensPerChunk, when positive, packs exactly this many tokens into
	// every chunk after the first (vLLM's stream interval), instead of the
	// random packing bounded by MaxTokensPerChunk.
	TokensPerChunk int `json:"tokens_per_chunk"`
	// EmptyTextEvery makes every n-th token chunk carry empty text (a
	// byte-fallback piece or a skipped special token still costs a token);
	// EmptyFirstChunk makes the first one empty.
	EmptyTextEvery  int  `json:"empty_text_every"`
	EmptyFirstChunk bool `json:"empty_first_chunk"`
	// StopAfter, when positive, ends every generation after this many tokens
	// with finish_reason "stop", as a server that ignores ignore_eos does.
	StopAfter int `json:"stop_after"`
	// TruncatePromptTo, when positive, cuts longer prompts to this many
	// tokens (usage reports the cut length) instead of refusing them.
	TruncatePromptTo int `json:"truncate_prompt_to"`
	// NoHealth serves no /health route (404), like some OpenAI-compatible
	// servers; /v1/models still answers.
	NoHealth bool `json:"no_health"`
	// ForceContinuousUsage attaches cumulative usage to every chunk, as
	// stream_options.continuous_usage_stats (or vllm serve
	// --enable-force-include-usage) makes vLLM do.
	ForceContinuousUsage bool `json:"force_continuous_usage"`
	// APIKey, when set, makes every /v1 route demand "Authorization: Bearer
	// APIKey" (vllm serve --api-key).
	APIKey string `json:"api_key"`
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
	c.Models = append([]Model(nil), c.Models...)
	for i := range c.Models {
		if c.Models[i].ParamsB <= 0 {
			c.Models[i].ParamsB = 7
		}
		if c.Models[i].MaxModelLen <= 0 {
			c.Models[i].MaxModelLen = 8192
		}
		if c.Models[i].Root == "" {
			c.Models[i].Root = c.Models[i].ID
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
	return c.decodeRate(paramsB) / (1 + c.BatchSlowdown*float64(max(concurrency, 1)-1))
}

func (c Config) decodeRate(paramsB float64) float64 {
	if c.TPOT > 0 {
		return float64(time.Second) / float64(c.TPOT)
	}
	return c.DecodeTokS7B * math.Pow(7/paramsB, c.SizeExponent)
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
	clock   Clock
	vclock  *VirtualClock
	started time.Time
	// URL is the base URL when started with Start or NewVirtual.
	URL string
	ts  *httptest.Server

	mu    sync.Mutex
	rng   *rand.Rand
	fault func(n int) Fault
	reqs  []Request

	completions atomic.Int64
	active      atomic.Int64
	conns       atomic.Int64
}

// Request is what the fake saw of one completion request.
type Request struct {
	// Path is the route, /v1/completions or /v1/chat/completions.
	Path string
	// Authorization is the header as received.
	Authorization string
	// Body is the decoded JSON body.
	Body map[string]any
}

// New returns a fake on the wall clock that is not listening; serve its Handler.
func New(cfg Config) *Server {
	cfg = cfg.withDefaults()
	return &Server{cfg: cfg, clock: wallClock{}, started: time.Now(), rng: rand.New(rand.NewSource(cfg.Seed))}
}

// Start returns a fake listening on a local port; Close it when done.
func Start(cfg Config) *Server {
	s := New(cfg)
	s.ts = httptest.NewUnstartedServer(s.Handler())
	s.ts.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.ts.Start()
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

// NewConnections returns how many TCP connections a fake from Start accepted.
func (s *Server) NewConnections() int { return int(s.conns.Load()) }

// Requests returns the completion requests seen so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Handler serves the fake's API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	if !s.cfg.NoHealth {
		mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
			if s.clock.Now().Sub(s.started) < s.cfg.ReadyAfter {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusOK)
		})
	}
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"version": s.cfg.Version})
	})
	mux.HandleFunc("GET /v1/models", s.auth(s.models))
	mux.HandleFunc("POST /v1/completions", s.auth(s.complete))
	mux.HandleFunc("POST /v1/chat/completions", s.auth(s.complete))
	return mux
}

// auth checks the bearer token like vllm serve --api-key (which guards /v1).
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.APIKey != "" && r.Header.Get("Authorization") != "Bearer "+s.cfg.APIKey {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Unauthorized"})
			return
		}
		h(w, r)
	}
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
		data = append(data, entry{ID: m.ID, Object: "model", Created: s.started.Unix(), OwnedBy: "vllm", Root: m.Root, MaxModelLen: m.MaxModelLen})
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
	Model    string `json:"model"`
	Prompt   string `json:"prompt"`
	Messages []struct {
		Role    string `json:"role"`
		Content any    `json:"content"`
	} `json:"messages"`
	MaxTokens           *int `json:"max_tokens"`
	MaxCompletionTokens *int `json:"max_completion_tokens"`
	Stream              bool `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage         bool `json:"include_usage"`
		ContinuousUsageStats bool `json:"continuous_usage_stats"`
	} `json:"stream_options"`
}

// promptText is the prompt of a completion, or the text of a chat's messages.
func (req completionRequest) promptText() string {
	if len(req.Messages) == 0 {
		return req.Prompt
	}
	var b strings.Builder
	for _, m := range req.Messages {
		switch c := m.Content.(type) {
		case string:
			b.WriteString(c + " ")
		case []any:
			for _, part := range c {
				if p, ok := part.(map[string]any); ok {
					if t, ok := p["text"].(string); ok {
						b.WriteString(t + " ")
					}
				}
			}
		}
	}
	return b.String()
}

// stream is one request being answered.
type stream struct {
	s       *Server
	w       http.ResponseWriter
	flusher http.Flusher
	chat    bool
	id      string
	model   string
	created int64
	prompt  int
	usage   bool
	cont    bool
}

func (st *stream) send(v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintf(st.w, "data: %s\n\n", b)
	if st.flusher != nil {
		st.flusher.Flush()
	}
}

func (st *stream) usageOf(completion int) map[string]int {
	return map[string]int{"prompt_tokens": st.prompt, "completion_tokens": completion, "total_tokens": st.prompt + completion}
}

// chunk is one streamed event, in serving_completion.py's or
// serving_chat.py's shape; usage is attached with continuous_usage_stats.
func (st *stream) chunk(text string, finish any, sofar int) map[string]any {
	var choice map[string]any
	obj := "text_completion"
	if st.chat {
		obj = "chat.completion.chunk"
		delta := map[string]any{"content": text}
		if finish != nil && text == "" {
			delta = map[string]any{}
		}
		choice = map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}
	} else {
		choice = map[string]any{"index": 0, "text": text, "logprobs": nil, "finish_reason": finish, "stop_reason": nil}
	}
	c := map[string]any{"id": st.id, "object": obj, "created": st.created, "model": st.model, "choices": []any{choice}}
	if st.cont {
		c["usage"] = st.usageOf(sofar)
	}
	return c
}

func (s *Server) complete(w http.ResponseWriter, r *http.Request) {
	n := int(s.completions.Add(1))
	s.mu.Lock()
	fault := FaultNone
	if s.fault != nil {
		fault = s.fault(n)
	}
	s.mu.Unlock()

	req, model, maxTokens, promptTokens, ok := s.parseCompletion(w, r)
	if !ok {
		return
	}
	if fault == Fault500 {
		vllmError(w, http.StatusInternalServerError, "InternalServerError", "fake engine failure (injected)")
		return
	}
	generate := maxTokens
	if s.cfg.StopAfter > 0 && generate > s.cfg.StopAfter {
		generate = s.cfg.StopAfter
	}

	s.active.Add(1)
	defer s.active.Add(-1)
	start := s.clock.Now()
	decodeRate := s.cfg.decodeRate(model.ParamsB)
	prefill := time.Duration(float64(promptTokens) / s.cfg.PrefillTokS(model.ParamsB) * float64(time.Second))
	if s.cfg.TTFT > 0 {
		prefill = s.cfg.TTFT
	}
	st := &stream{s: s, w: w, chat: strings.HasSuffix(r.URL.Path, "/chat/completions"), model: model.ID,
		created: start.Unix(), prompt: promptTokens}
	st.id = fmt.Sprintf("cmpl-fake-%d", n)
	if st.chat {
		st.id = fmt.Sprintf("chatcmpl-fake-%d", n)
	}
	finishReason := "length"
	if generate < maxTokens {
		finishReason = "stop"
	}

	if !req.Stream {
		deadline := start.Add(prefill)
		for i := 1; i < generate; i++ {
			deadline = deadline.Add(s.tokenTime(decodeRate))
		}
		if !s.clock.SleepUntil(r.Context(), deadline) {
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"id": st.id, "object": "text_completion", "created": st.created, "model": model.ID,
			"choices": []any{map[string]any{"index": 0, "text": strings.Repeat(" tok", generate), "logprobs": nil, "finish_reason": finishReason, "stop_reason": nil}},
			"usage":   st.usageOf(generate),
		})
		return
	}

	st.flusher, _ = w.(http.Flusher)
	st.usage = req.StreamOptions != nil && req.StreamOptions.IncludeUsage && fault != FaultNoUsage
	st.cont = st.usage && (req.StreamOptions.ContinuousUsageStats || s.cfg.ForceContinuousUsage)
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	s.stream(r.Context(), st, fault, start.Add(prefill), decodeRate, generate, finishReason)
}

// parseCompletion decodes and checks a completion request as vLLM's
// OpenAI server does, answering its errors; ok is false when it did.
func (s *Server) parseCompletion(w http.ResponseWriter, r *http.Request) (req completionRequest, model *Model, maxTokens, promptTokens int, ok bool) {
	var raw map[string]any
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&raw); err != nil {
		vllmError(w, http.StatusBadRequest, "BadRequestError", "invalid JSON body: "+err.Error())
		return req, nil, 0, 0, false
	}
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &req); err != nil {
		vllmError(w, http.StatusBadRequest, "BadRequestError", "invalid request: "+err.Error())
		return req, nil, 0, 0, false
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{Path: r.URL.Path, Authorization: r.Header.Get("Authorization"), Body: raw})
	s.mu.Unlock()
	for i := range s.cfg.Models {
		if s.cfg.Models[i].ID == req.Model {
			model = &s.cfg.Models[i]
		}
	}
	if model == nil {
		vllmError(w, http.StatusNotFound, "NotFoundError", fmt.Sprintf("The model `%s` does not exist.", req.Model))
		return req, nil, 0, 0, false
	}
	maxTokens = 16
	if req.MaxTokens != nil {
		maxTokens = *req.MaxTokens
	}
	if req.MaxCompletionTokens != nil {
		maxTokens = *req.MaxCompletionTokens
	}
	if maxTokens < 1 {
		vllmError(w, http.StatusBadRequest, "BadRequestError", "max_tokens must be at least 1")
		return req, nil, 0, 0, false
	}
	promptTokens = Tokens(req.promptText())
	if s.cfg.TruncatePromptTo > 0 && promptTokens > s.cfg.TruncatePromptTo {
		promptTokens = s.cfg.TruncatePromptTo
	}
	if promptTokens+maxTokens > model.MaxModelLen {
		vllmError(w, http.StatusBadRequest, "BadRequestError", fmt.Sprintf(
			"This model's maximum context length is %d tokens. However, you requested %d tokens (%d in the messages, %d in the completion). Please reduce the length of the messages or completion.",
			model.MaxModelLen, promptTokens+maxTokens, promptTokens, maxTokens))
		return req, nil, 0, 0, false
	}
	return req, model, maxTokens, promptTokens, true
}

// stream paces and writes the chunks of one streamed answer: the first
// token alone after the prefill, later ones packed, then (as vLLM does) a
// usage-only chunk with empty choices and [DONE].
func (s *Server) stream(ctx context.Context, st *stream, fault Fault, deadline time.Time, rate float64, generate int, finish string) {
	sent, chunks := 0, 0
	for sent < generate {
		k := 1
		if sent > 0 {
			k = s.packing()
		}
		k = min(k, generate-sent)
		for i := 0; i < k; i++ {
			if sent+i > 0 {
				deadline = deadline.Add(s.tokenTime(rate))
			}
		}
		if !s.clock.SleepUntil(ctx, deadline) {
			return
		}
		if st.chat && sent == 0 {
			// serving_chat.py opens every choice with a role-only delta.
			role := st.chunk("", nil, 0)
			role["choices"].([]any)[0].(map[string]any)["delta"] = map[string]any{"role": "assistant", "content": ""}
			st.send(role)
		}
		sent += k
		chunks++
		text := strings.Repeat(" tok", k)
		if (chunks == 1 && s.cfg.EmptyFirstChunk) || (s.cfg.EmptyTextEvery > 0 && chunks%s.cfg.EmptyTextEvery == 0) {
			text = ""
		}
		var fin any
		if sent == generate && !st.chat {
			fin = finish
		}
		st.send(st.chunk(text, fin, sent))
		switch {
		case fault == FaultStall && chunks == 1:
			// A hung engine: silence on the wall clock (on a virtual timeline
			// too, which stands still meanwhile), so the client's stall timer
			// is what ends it.
			t := time.NewTimer(s.cfg.StallFor)
			defer t.Stop()
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			return
		case fault == FaultMalformed && chunks == 2:
			fmt.Fprintf(st.w, "data: {\"id\": \"%s\", \"choices\": [{\"text\": \"oops\"\n\n", st.id)
			if st.flusher != nil {
				st.flusher.Flush()
			}
			return
		case fault == FaultCloseMidStream && chunks == 2:
			panic(http.ErrAbortHandler) // closes the connection without ending the chunked body
		case fault == FaultErrorMidStream && chunks == 2:
			st.send(map[string]any{"error": map[string]any{"object": "error", "message": "fake engine error mid-stream (injected)",
				"type": "InternalServerError", "param": nil, "code": 500}})
			fmt.Fprint(st.w, "data: [DONE]\n\n")
			return
		}
	}
	if st.chat {
		st.send(st.chunk("", finish, sent))
	}
	if st.usage {
		u := st.usageOf(generate)
		switch fault {
		case FaultAbsurdUsage:
			u["completion_tokens"] = 1_000_000_000_000
		case FaultNegativeUsage:
			u["completion_tokens"] = -1
		}
		obj := "text_completion"
		if st.chat {
			obj = "chat.completion.chunk"
		}
		st.send(map[string]any{"id": st.id, "object": obj, "created": st.created, "model": st.model, "choices": []any{}, "usage": u})
	}
	fmt.Fprint(st.w, "data: [DONE]\n\n")
	if st.flusher != nil {
		st.flusher.Flush()
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

// packing picks how many tokens the next chunk carries: TokensPerChunk when
// set, else one most of the time.
func (s *Server) packing() int {
	if s.cfg.TokensPerChunk > 0 {
		return s.cfg.TokensPerChunk
	}
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
