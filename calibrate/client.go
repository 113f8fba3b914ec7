package calibrate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Errors of the client; callers branch on them with errors.Is.
var (
	// ErrRequestTimeout means a request ran past Client.RequestTimeout.
	ErrRequestTimeout = errors.New("request timed out")
	// ErrStalled means no data arrived for Client.StallTimeout mid-stream.
	ErrStalled = errors.New("stream stalled")
	// ErrIncomplete means the stream ended before "data: [DONE]".
	ErrIncomplete = errors.New("stream ended before [DONE]")
	// ErrNoUsage means the stream had no usage chunk with token counts.
	ErrNoUsage = errors.New("stream had no usage chunk")
	// ErrNoModel means the server serves no model or not the one asked for.
	ErrNoModel = errors.New("model not served")
	// ErrAbsurdUsage means the usage report is impossible (negative, or more
	// tokens than any context holds).
	ErrAbsurdUsage = errors.New("absurd usage report")
)

// maxUsageTokens bounds a believable usage count: no context is longer.
const maxUsageTokens = 100_000_000

// Clock tells the time of measurements; tests inject a virtual one.
type Clock interface {
	Now() time.Time
}

// Holder is a Clock whose time must stand still while the caller works
// between requests (a virtual timeline, see vllmfake.VirtualClock): Hold
// marks one busy participant until release runs.
type Holder interface {
	Hold() (release func())
}

// hold is a busy mark that one request stream carries in its context; the
// client drops it while it waits for the server and takes it back before
// it lets go of the response, so the timeline never moves while the
// stream's goroutine is between requests.
type hold struct {
	h       Holder
	release func()
}

type holdKey struct{}

func withHold(ctx context.Context, h *hold) context.Context {
	return context.WithValue(ctx, holdKey{}, h)
}

func holdFrom(ctx context.Context) *hold {
	h, _ := ctx.Value(holdKey{}).(*hold)
	return h
}

func (h *hold) take() {
	if h != nil && h.release == nil {
		h.release = h.h.Hold()
	}
}

func (h *hold) drop() {
	if h != nil && h.release != nil {
		h.release()
		h.release = nil
	}
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// WallClock is the real clock.
var WallClock Clock = wallClock{}

// Endpoint types, as vllm bench serve's --endpoint-type names them.
const (
	EndpointCompletions = "completions"
	EndpointChat        = "chat"
)

// HTTPError is a response with a 4xx or 5xx status.
type HTTPError struct {
	// Method and URL of the request.
	Method, URL string
	// StatusCode is the HTTP status.
	StatusCode int
	// Body is the start of the response body.
	Body string
}

// Error says what the server answered.
func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s %s: http %d %s", e.Method, e.URL, e.StatusCode, strings.ToLower(http.StatusText(e.StatusCode)))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Retryable reports whether err is worth another attempt: timeouts, stalls,
// cut connections, 5xx and 429 answers. Bad requests, malformed answers and
// a cancelled context are not.
func Retryable(err error) bool {
	var he *HTTPError
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return false
	case errors.As(err, &he):
		return he.StatusCode >= 500 || he.StatusCode == http.StatusTooManyRequests
	case errors.Is(err, ErrRequestTimeout), errors.Is(err, ErrStalled), errors.Is(err, ErrIncomplete),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	}
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe)
}

// Client talks to a vLLM OpenAI-compatible server.
type Client struct {
	// BaseURL is the server root, e.g. "http://127.0.0.1:8000".
	BaseURL string
	// HTTP is the HTTP client; nil means a client without overall timeout.
	HTTP *http.Client
	// RequestTimeout bounds one completion request; 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// StallTimeout bounds the wait for the next bytes of a stream; 0 means
	// DefaultStallTimeout.
	StallTimeout time.Duration
	// Retries is how many more attempts a retryable failure gets (negative: none).
	Retries int
	// RetryDelay is the pause before the first retry, doubled for each next one.
	RetryDelay time.Duration
	// Clock stamps requests and chunks; nil means the wall clock.
	Clock Clock
	// APIKey, when set, is sent as "Authorization: Bearer …" to BaseURL's
	// origin only (never after a redirect elsewhere).
	APIKey string
	// EndpointType is EndpointCompletions (default) or EndpointChat.
	EndpointType string
}

// Client defaults.
const (
	DefaultRequestTimeout = 5 * time.Minute
	DefaultStallTimeout   = time.Minute
	DefaultRetries        = 2
)

// NewClient returns a Client for baseURL with the default timeouts and retries.
func NewClient(baseURL string) *Client {
	return &Client{BaseURL: baseURL, Retries: DefaultRetries, RetryDelay: 200 * time.Millisecond}
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP()
}

// defaultHTTP is the client of a Client without one, made at first use.
var defaultHTTP = sync.OnceValue(func() *http.Client { return NewHTTPClient(1) })

func (c *Client) now() time.Time {
	if c.Clock == nil {
		return time.Now()
	}
	return c.Clock.Now()
}

// NewHTTPClient returns a client whose transport keeps up to concurrency
// idle connections per host, so a ladder level of that many streams reuses
// its connections from one request to the next, as vllm bench serve's
// aiohttp session does (vllm/benchmarks/serve.py keeps one
// ClientSession with a TCPConnector limited to the concurrency).
func NewHTTPClient(concurrency int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	n := max(concurrency, 1)
	t.MaxIdleConns = max(n, 100)
	t.MaxIdleConnsPerHost = n
	t.IdleConnTimeout = 5 * time.Minute
	return &http.Client{Transport: t}
}

// do sends req with the bearer token when it goes to BaseURL's origin.
func (c *Client) do(req *http.Request) (*http.Response, error) {
	if c.APIKey != "" && sameOrigin(req.URL, c.BaseURL) {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	hc := c.httpClient()
	if c.APIKey != "" {
		// Redirects are followed here, not by hc, so the key never travels
		// to another origin (Go's own rule compares host names only, so it
		// would forward it to another port of the same host).
		cp := *hc
		cp.CheckRedirect = func(next *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			if sameOrigin(next.URL, c.BaseURL) {
				next.Header.Set("Authorization", "Bearer "+c.APIKey)
			} else {
				next.Header.Del("Authorization")
			}
			return nil
		}
		hc = &cp
	}
	return hc.Do(req)
}

// sameOrigin reports whether u has base's scheme, host and port.
func sameOrigin(u *url.URL, base string) bool {
	b, err := url.Parse(base)
	if err != nil {
		return false
	}
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if u.Scheme == "https" {
			return "443"
		}
		return "80"
	}
	return strings.EqualFold(u.Scheme, b.Scheme) && strings.EqualFold(u.Hostname(), b.Hostname()) && port(u) == port(b)
}

func (c *Client) url(path string) string { return strings.TrimRight(c.BaseURL, "/") + path }

// Health reports nil when GET /health answers 200. A server without
// /health (404) is asked for /v1/models instead, as vllm bench's
// ready_checker does for OpenAI-compatible servers.
func (c *Client) Health(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := c.get(ctx, "/health")
	var he *HTTPError
	if errors.As(err, &he) && (he.StatusCode == http.StatusNotFound || he.StatusCode == http.StatusMethodNotAllowed) {
		_, err = c.get(ctx, "/v1/models")
	}
	return err
}

// ModelInfo is one entry of /v1/models.
type ModelInfo struct {
	// ID is the served model name.
	ID string `json:"id"`
	// MaxModelLen is the context length the server allows (0 if not reported).
	MaxModelLen int `json:"max_model_len"`
	// Root is the checkpoint the server loaded (a hub id or a path).
	Root string `json:"root"`
}

// Models lists the served models.
func (c *Client) Models(ctx context.Context) ([]ModelInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	b, err := c.get(ctx, "/v1/models")
	if err != nil {
		return nil, err
	}
	var resp struct {
		Data []ModelInfo `json:"data"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return nil, fmt.Errorf("decode /v1/models: %w: %v", ErrMalformed, err)
	}
	return resp.Data, nil
}

// Model returns the entry of /v1/models for id, or the first served model
// when id is empty.
func (c *Client) Model(ctx context.Context, id string) (ModelInfo, error) {
	models, err := c.Models(ctx)
	if err != nil {
		return ModelInfo{}, err
	}
	if len(models) == 0 {
		return ModelInfo{}, fmt.Errorf("%w: /v1/models lists no model", ErrNoModel)
	}
	if id == "" {
		return models[0], nil
	}
	var ids []string
	for _, m := range models {
		if m.ID == id {
			return m, nil
		}
		ids = append(ids, m.ID)
	}
	return ModelInfo{}, fmt.Errorf("%w: %q; the server serves %s", ErrNoModel, id, strings.Join(ids, ", "))
}

// Version returns the server's vLLM version from /version.
func (c *Client) Version(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	b, err := c.get(ctx, "/version")
	if err != nil {
		return "", err
	}
	var v struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return "", fmt.Errorf("decode /version: %w: %v", ErrMalformed, err)
	}
	return v.Version, nil
}

func (c *Client) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(path), nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", path, cleanURLError(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if resp.StatusCode >= 400 {
		return nil, &HTTPError{Method: "GET", URL: path, StatusCode: resp.StatusCode, Body: excerpt(strings.TrimSpace(string(b)), 200)}
	}
	return b, nil
}

// cleanURLError drops the *url.Error wrapper, whose text repeats the URL.
func cleanURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// CompletionRequest is one streamed completion.
type CompletionRequest struct {
	// Model is the served model id.
	Model string
	// Prompt is the prompt text.
	Prompt string
	// MaxTokens is the exact number of tokens to generate (EOS is ignored).
	MaxTokens int
}

// requestBody is what vllm bench serve sends
// (vllm/benchmarks/lib/endpoint_request_func.py at vllm-project/vllm
// 02cfb534: repetition_penalty 1.0, stream, stream_options.include_usage,
// ignore_eos; max_completion_tokens for chat), plus temperature 0: greedy
// decoding, which serve.py falls back to when no sampling parameter is given
// (recalled, not re-read at that commit).
func (c *Client) requestBody(req CompletionRequest) ([]byte, string, error) {
	body := map[string]any{
		"model":              req.Model,
		"temperature":        0,
		"repetition_penalty": 1.0,
		"ignore_eos":         true,
		"stream":             true,
		"stream_options":     map[string]any{"include_usage": true},
	}
	path := "/v1/completions"
	switch c.EndpointType {
	case "", EndpointCompletions:
		body["prompt"] = req.Prompt
		body["max_tokens"] = req.MaxTokens
	case EndpointChat:
		path = "/v1/chat/completions"
		body["messages"] = []any{map[string]any{"role": "user", "content": req.Prompt}}
		body["max_completion_tokens"] = req.MaxTokens
	default:
		return nil, "", fmt.Errorf("endpoint type %q: want %s or %s", c.EndpointType, EndpointCompletions, EndpointChat)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, "", fmt.Errorf("encode request: %w", err)
	}
	return b, path, nil
}

// CompletionResult is what one streamed completion measured.
type CompletionResult struct {
	// PromptTokens and OutputTokens come from the final usage chunk.
	PromptTokens, OutputTokens int
	// Start is when the request was sent.
	Start time.Time
	// TTFT is the time from Start to the first chunk with choices (text
	// or not: an empty piece is still a token event, as vllm bench counts).
	TTFT time.Duration
	// Latency is the time from Start to the last chunk with choices.
	Latency time.Duration
	// ITLs are the gaps between successive chunks with choices.
	ITLs []time.Duration
	// Chunks is the number of chunks with choices.
	Chunks int
	// Attempts is how many tries the request took.
	Attempts int
}

// TPOT is (Latency − TTFT) / (OutputTokens − 1); false with fewer than 2 tokens.
func (r CompletionResult) TPOT() (time.Duration, bool) {
	if r.OutputTokens < 2 {
		return 0, false
	}
	return (r.Latency - r.TTFT) / time.Duration(r.OutputTokens-1), true
}

// Complete streams one completion, retrying retryable failures up to Retries
// times, and returns its timings.
func (c *Client) Complete(ctx context.Context, req CompletionRequest) (CompletionResult, error) {
	delay := c.RetryDelay
	for attempt := 1; ; attempt++ {
		res, err := c.completeOnce(ctx, req)
		res.Attempts = attempt
		if err == nil {
			return res, nil
		}
		if ctx.Err() != nil {
			return res, fmt.Errorf("completion: %w", ctx.Err())
		}
		if attempt > c.Retries || !Retryable(err) {
			if attempt > 1 {
				return res, fmt.Errorf("completion (%d attempts): %w", attempt, err)
			}
			return res, fmt.Errorf("completion: %w", err)
		}
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return res, fmt.Errorf("completion: %w", ctx.Err())
			case <-t.C:
			}
			delay *= 2
		}
	}
}

// completionChunk is one streamed event of /v1/completions.
type completionChunk struct {
	Choices []json.RawMessage `json:"choices"`
	Usage   *struct {
		PromptTokens     *float64 `json:"prompt_tokens"`
		CompletionTokens *float64 `json:"completion_tokens"`
	} `json:"usage"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
	// Object "error" with a top-level message is the older vLLM shape.
	Object  string `json:"object"`
	Message string `json:"message"`
}

func (c *Client) completeOnce(parent context.Context, req CompletionRequest) (CompletionResult, error) {
	var res CompletionResult
	body, path, err := c.requestBody(req)
	if err != nil {
		return res, err
	}
	timeout := c.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	stall := c.StallTimeout
	if stall <= 0 {
		stall = DefaultStallTimeout
	}
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	ctx, cancelTimeout := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("%w after %v", ErrRequestTimeout, timeout))
	defer cancelTimeout()
	// The stall timer bounds the gaps between streamed chunks; it is armed by
	// the first body bytes (the wait for the first token is prefill and queueing,
	// bounded by the request timeout).
	stallTimer := time.AfterFunc(time.Hour, func() { cancel(fmt.Errorf("%w: no data for %v", ErrStalled, stall)) })
	stallTimer.Stop()
	defer stallTimer.Stop()
	// cause returns why ctx ended, if it did, else err.
	cause := func(err error) error {
		if parent.Err() != nil {
			return parent.Err()
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return err
	}

	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(path), bytes.NewReader(body))
	if err != nil {
		return res, fmt.Errorf("build request: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "text/event-stream")
	res.Start = c.now()
	hs := holdFrom(parent)
	resp, err := c.do(hreq)
	hs.drop()
	if err != nil {
		hs.take()
		return res, cause(cleanURLError(err))
	}
	defer resp.Body.Close()
	defer hs.take() // runs before Close
	if resp.StatusCode >= 400 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return res, &HTTPError{Method: "POST", URL: path, StatusCode: resp.StatusCode, Body: excerpt(strings.TrimSpace(string(b)), 200)}
	}
	sse := NewSSEReader(&stallReader{r: resp.Body, t: stallTimer, d: stall})
	return c.readStream(ctx, sse, resp.Body, res, hs, cause)
}

// readStream reads the events of one streamed completion into res.
func (c *Client) readStream(ctx context.Context, sse *SSEReader, body io.Reader, res CompletionResult, hs *hold, cause func(error) error) (CompletionResult, error) {
	var last time.Time
	var usage *completionChunk
	for {
		data, err := sse.Next()
		now := c.now()
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return res, cause(err)
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
				return res, fmt.Errorf("%w (after %d output chunks)", ErrIncomplete, res.Chunks)
			case errors.Is(err, ErrMalformed):
				return res, err
			}
			return res, fmt.Errorf("read stream: %w", cause(err))
		}
		if bytes.Equal(bytes.TrimSpace(data), []byte("[DONE]")) {
			// Read the body to its end so the transport can reuse the
			// connection (an early Close makes it dial a new one). The
			// stream's busy mark comes back first: reaching the end is not
			// waiting for the server.
			hs.take()
			io.Copy(io.Discard, io.LimitReader(body, 64<<10))
			break
		}
		var ch completionChunk
		if err := json.Unmarshal(data, &ch); err != nil {
			return res, fmt.Errorf("%w: chunk is not JSON (%v): %s", ErrMalformed, err, excerpt(string(data), 80))
		}
		if ch.Error != nil {
			return res, fmt.Errorf("%w: server error in stream: %s", ErrMalformed, excerpt(ch.Error.Message, 200))
		}
		if ch.Object == "error" {
			return res, fmt.Errorf("%w: server error in stream: %s", ErrMalformed, excerpt(ch.Message, 200))
		}
		// As endpoint_request_func.py (vllm 02cfb534) does: every chunk with
		// choices is a token event, whatever its text (byte-fallback pieces
		// and skipped special tokens stream as ""; chat opens with a
		// role-only delta); a chunk without choices may carry usage.
		if len(ch.Choices) > 0 {
			if res.Chunks == 0 {
				res.TTFT = now.Sub(res.Start)
			} else {
				res.ITLs = append(res.ITLs, now.Sub(last))
			}
			res.Chunks++
			last = now
		}
		if ch.Usage != nil && ch.Usage.PromptTokens != nil && ch.Usage.CompletionTokens != nil {
			usage = &ch
		}
	}
	return checkUsage(res, usage, last)
}

// checkUsage takes the token counts from the last usage report, refusing
// impossible ones.
func checkUsage(res CompletionResult, usage *completionChunk, last time.Time) (CompletionResult, error) {
	if usage == nil {
		return res, fmt.Errorf("%w (does the server support stream_options.include_usage?)", ErrNoUsage)
	}
	p, o := *usage.Usage.PromptTokens, *usage.Usage.CompletionTokens
	for _, v := range []struct {
		name string
		n    float64
	}{{"prompt_tokens", p}, {"completion_tokens", o}} {
		if v.n < 0 || v.n > maxUsageTokens || v.n != float64(int(v.n)) {
			return res, fmt.Errorf("%w: %s %v", ErrAbsurdUsage, v.name, v.n)
		}
	}
	res.PromptTokens, res.OutputTokens = int(p), int(o)
	if res.Chunks == 0 && res.OutputTokens > 0 {
		return res, fmt.Errorf("%w: usage reports %d output tokens but no chunk had choices", ErrMalformed, res.OutputTokens)
	}
	res.Latency = last.Sub(res.Start)
	return res, nil
}

// stallReader re-arms the stall timer after every read that returns data.
type stallReader struct {
	r io.Reader
	t *time.Timer
	d time.Duration
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.t.Reset(s.d)
	}
	return n, err
}
