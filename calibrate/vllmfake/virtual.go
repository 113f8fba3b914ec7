package vllmfake

import (
	"bytes"
	"container/heap"
	"context"
	"io"
	"net/http"
	"sync"
	"time"
)

// Clock paces the fake: Now stamps requests and SleepUntil waits for the
// moment a chunk is due (false when ctx ended first).
type Clock interface {
	Now() time.Time
	SleepUntil(ctx context.Context, t time.Time) bool
}

// wallClock is the real clock.
type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) SleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// VirtualClock is a timeline shared by the fake's pacing and a client's
// measurements (it has the Now method calibrate.Clock asks for). Time stands
// still while any participant is busy — a handler computing or writing, a
// client that has not yet come back for more bytes — and jumps to the next
// wake-up once every handler sleeps and every client waits for data. A
// request served through Server.Transport therefore sees exactly the pacing
// the fake computed, however loaded the machine is. Clients between
// requests are not participants: with several concurrent streams a new
// request may start a little later on the timeline than on a wall clock,
// but every request's own timings stay exact.
type VirtualClock struct {
	mu       sync.Mutex
	now      time.Time
	busy     int
	sleepers sleeperHeap
}

// Epoch is where virtual timelines start.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// NewVirtualClock returns a virtual clock standing at start.
func NewVirtualClock(start time.Time) *VirtualClock { return &VirtualClock{now: start} }

// Now returns the virtual time.
func (c *VirtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// SleepUntil blocks a busy participant until the timeline reaches t.
func (c *VirtualClock) SleepUntil(ctx context.Context, t time.Time) bool {
	c.mu.Lock()
	if !t.After(c.now) {
		c.mu.Unlock()
		return ctx.Err() == nil
	}
	s := &sleeper{at: t, wake: make(chan struct{})}
	heap.Push(&c.sleepers, s)
	c.busy--
	c.advanceLocked()
	c.mu.Unlock()
	select {
	case <-s.wake:
		return ctx.Err() == nil
	case <-ctx.Done():
		c.mu.Lock()
		if !s.woken {
			heap.Remove(&c.sleepers, s.index)
			c.busy++
		}
		c.mu.Unlock()
		return false
	}
}

// Hold marks a busy participant (a client goroutine between requests)
// until release runs; it implements calibrate.Holder.
func (c *VirtualClock) Hold() (release func()) {
	c.enter()
	var once sync.Once
	return func() { once.Do(c.leave) }
}

// enter marks one more busy participant.
func (c *VirtualClock) enter() {
	c.mu.Lock()
	c.busy++
	c.mu.Unlock()
}

// leave marks one busy participant idle and lets time move on.
func (c *VirtualClock) leave() {
	c.mu.Lock()
	c.busy--
	c.advanceLocked()
	c.mu.Unlock()
}

func (c *VirtualClock) advanceLocked() {
	if c.busy > 0 || len(c.sleepers) == 0 {
		return
	}
	if at := c.sleepers[0].at; at.After(c.now) {
		c.now = at
	}
	for len(c.sleepers) > 0 && !c.sleepers[0].at.After(c.now) {
		s := heap.Pop(&c.sleepers).(*sleeper)
		s.woken = true
		c.busy++
		close(s.wake)
	}
}

type sleeper struct {
	at    time.Time
	wake  chan struct{}
	woken bool
	index int
}

type sleeperHeap []*sleeper

func (h sleeperHeap) Len() int           { return len(h) }
func (h sleeperHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h sleeperHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *sleeperHeap) Push(x any) {
	s := x.(*sleeper)
	s.index = len(*h)
	*h = append(*h, s)
}
func (h *sleeperHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h = old[:len(old)-1]
	return s
}

// NewVirtual returns a fake on its own virtual timeline, served in memory:
// give clients HTTPClient (or Transport) and Clock. URL is a placeholder host.
func NewVirtual(cfg Config) *Server {
	s := New(cfg)
	vc := NewVirtualClock(Epoch)
	s.clock, s.vclock = vc, vc
	s.started = vc.Now()
	s.URL = "http://vllmfake.invalid"
	return s
}

// Clock returns the fake's clock: the virtual one of NewVirtual, else nil.
func (s *Server) Clock() *VirtualClock { return s.vclock }

// HTTPClient returns a client whose requests the fake serves in memory.
func (s *Server) HTTPClient() *http.Client { return &http.Client{Transport: s.Transport()} }

// Transport returns a RoundTripper that runs the fake's handler in memory,
// with the virtual clock's bookkeeping when the fake has one.
func (s *Server) Transport() http.RoundTripper { return memTransport{s: s, h: s.Handler()} }

type memTransport struct {
	s *Server
	h http.Handler
}

func (t memTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	vc := t.s.vclock
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	ctx := req.Context()
	pr, pw := io.Pipe()
	mb := &memBody{pr: pr, vc: vc}
	rw := &memWriter{header: http.Header{}, pw: pw, body: mb, ready: make(chan struct{})}
	r2 := req.Clone(ctx)
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.RemoteAddr = "192.0.2.1:1234"
	r2.RequestURI = req.URL.RequestURI()
	if vc != nil {
		vc.enter()
	}
	go func() {
		defer func() {
			if vc != nil {
				vc.leave()
			}
		}()
		defer func() {
			if p := recover(); p != nil {
				rw.markReady()
				pw.CloseWithError(io.ErrUnexpectedEOF)
				return
			}
			rw.markReady()
			pw.Close()
		}()
		t.h.ServeHTTP(rw, r2)
	}()
	select {
	case <-rw.ready:
	case <-ctx.Done():
		pr.CloseWithError(ctx.Err())
		return nil, ctx.Err()
	}
	mb.stop = context.AfterFunc(ctx, func() { pr.CloseWithError(ctx.Err()) })
	return &http.Response{Status: http.StatusText(rw.status), StatusCode: rw.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: rw.header.Clone(), Body: mb, ContentLength: -1, Request: req}, nil
}

// memWriter is the handler's side of an in-memory response.
type memWriter struct {
	header  http.Header
	pw      *io.PipeWriter
	body    *memBody
	status  int
	once    sync.Once
	ready   chan struct{}
	written bool
}

func (w *memWriter) Header() http.Header { return w.header }

func (w *memWriter) WriteHeader(code int) {
	if w.written {
		return
	}
	w.written, w.status = true, code
	w.markReady()
}

func (w *memWriter) markReady() {
	w.once.Do(func() {
		if w.status == 0 {
			w.status = http.StatusOK
		}
		close(w.ready)
	})
}

func (w *memWriter) Write(b []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	w.body.sent(len(b))
	return w.pw.Write(b)
}

func (w *memWriter) Flush() {}

// memBody is the client's side: bytes written and not yet taken back up by
// the client keep the virtual clock from moving.
type memBody struct {
	pr   *io.PipeReader
	vc   *VirtualClock
	stop func() bool

	mu       sync.Mutex
	written  int
	returned int
	hold     bool
	closed   bool
}

func (b *memBody) sent(n int) {
	if b.vc == nil || n == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.written += n
	if !b.hold {
		b.hold = true
		b.vc.enter()
	}
}

func (b *memBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	if b.hold && b.returned == b.written {
		b.hold = false
		b.vc.leave()
	}
	b.mu.Unlock()
	n, err := b.pr.Read(p)
	b.mu.Lock()
	b.returned += n
	b.mu.Unlock()
	return n, err
}

func (b *memBody) Close() error {
	b.mu.Lock()
	if b.hold {
		b.hold = false
		b.vc.leave()
	}
	b.closed = true
	b.mu.Unlock()
	if b.stop != nil {
		b.stop()
	}
	return b.pr.Close()
}
