package calibrate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/vllm-wizard/vllm-wizard/reports"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrVLLMNotFound is returned by Launch when the vllm executable is missing.
var ErrVLLMNotFound = errors.New("vllm not found on PATH; install vLLM (pip install vllm) or use --endpoint URL to benchmark a running server")

// ErrServerExited is wrapped when the server exits before it is ready.
var ErrServerExited = errors.New("vllm server exited")

// LaunchConfig configures Launch.
type LaunchConfig struct {
	// Bin is the vllm executable, looked up on PATH when it has no slash;
	// empty means "vllm".
	Bin string
	// Model is the model to serve.
	Model string
	// TP is the tensor-parallel size (default 1).
	TP int
	// Host is the address to bind and call (default 127.0.0.1).
	Host string
	// Port is the port; 0 picks a free one.
	Port int
	// Serve holds the serving options that also label the measurements;
	// each set one becomes its `vllm serve` flag.
	Serve ServeOptions
	// ExtraArgs are passed to `vllm serve` after the generated ones.
	ExtraArgs []string
	// Env adds "KEY=value" entries to the child's environment.
	Env []string
	// HealthTimeout bounds the wait for /health (default 20 minutes; big
	// models take long to load).
	HealthTimeout time.Duration
	// StopGrace is how long Stop waits after SIGINT before SIGKILL (default 30s).
	StopGrace time.Duration
	// LogLines is how many output lines are kept for error messages (default 50).
	LogLines int
	// Log, if set, also receives every output line of the server.
	Log io.Writer
}

// Launch defaults.
const (
	DefaultHealthTimeout = 20 * time.Minute
	DefaultStopGrace     = 30 * time.Second
)

// Server is a vllm serve child process.
type Server struct {
	// URL is the server root, e.g. "http://127.0.0.1:8123".
	URL string
	// Args is the full command line.
	Args []string

	cmd      *exec.Cmd
	logs     *ringBuffer
	exited   chan struct{}
	waitErr  error
	grace    time.Duration
	stopOnce sync.Once
	stopErr  error
	stopCtx  chan struct{}
}

// Command returns the command line as a shell would take it.
func (s *Server) Command() string { return reports.ShellJoin(s.Args) }

// Pid returns the child's process id (also its process group id).
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Logs returns the last lines the server printed.
func (s *Server) Logs() []string { return s.logs.Lines() }

// Exited is closed when the child process has exited.
func (s *Server) Exited() <-chan struct{} { return s.exited }

// Launch starts `vllm serve MODEL --tensor-parallel-size N --port P ...` in
// its own process group and waits until /health answers 200. On failure the
// child is stopped and the error carries its last output lines. When ctx is
// cancelled the server is stopped (also after Launch returned).
func Launch(ctx context.Context, cfg LaunchConfig) (*Server, error) {
	path, args, url, err := cfg.command()
	if err != nil {
		return nil, err
	}
	lines := cfg.LogLines
	if lines <= 0 {
		lines = 50
	}
	s := &Server{
		URL:     url,
		Args:    append([]string{path}, args...),
		logs:    newRingBuffer(lines),
		exited:  make(chan struct{}),
		grace:   cfg.StopGrace,
		stopCtx: make(chan struct{}),
	}
	if s.grace <= 0 {
		s.grace = DefaultStopGrace
	}
	if err := s.start(ctx, cfg.Env, cfg.Log); err != nil {
		return nil, err
	}
	timeout := cfg.HealthTimeout
	if timeout <= 0 {
		timeout = DefaultHealthTimeout
	}
	if err := s.waitHealthy(ctx, timeout); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// command resolves the executable and builds the `vllm serve` arguments
// and the server's URL (a free port when none is given).
func (cfg *LaunchConfig) command() (path string, args []string, url string, err error) {
	bin := cfg.Bin
	if bin == "" {
		bin = "vllm"
	}
	if path, err = exec.LookPath(bin); err != nil {
		if cfg.Bin == "" || cfg.Bin == "vllm" {
			return "", nil, "", ErrVLLMNotFound
		}
		return "", nil, "", fmt.Errorf("vllm executable %q: %w", bin, err)
	}
	if cfg.Model == "" {
		return "", nil, "", errors.New("launch vllm: no model given")
	}
	host := cfg.Host
	if host == "" {
		host = "127.0.0.1"
	}
	port := cfg.Port
	if port == 0 {
		if port, err = freePort(host); err != nil {
			return "", nil, "", err
		}
	}
	args = []string{"serve", cfg.Model, "--tensor-parallel-size", strconv.Itoa(max(cfg.TP, 1))}
	args = append(args, cfg.Serve.Args()...)
	args = append(args, "--host", host, "--port", strconv.Itoa(port))
	args = append(args, cfg.ExtraArgs...)
	return path, args, "http://" + net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// start runs s.Args in its own process group with env added, keeps its
// output lines (and copies them to log when set), and stops it when ctx
// ends before Stop is called.
func (s *Server) start(ctx context.Context, env []string, log io.Writer) error {
	// Not exec.CommandContext: cancellation must go through Stop's SIGINT.
	s.cmd = exec.Command(s.Args[0], s.Args[1:]...)
	s.cmd.Env = append(s.cmd.Environ(), env...)
	setProcessGroup(s.cmd)
	pr, pw := io.Pipe()
	s.cmd.Stdout, s.cmd.Stderr = pw, pw
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.Args[0], err)
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 0, 4096), 1<<20)
		for sc.Scan() {
			s.logs.Add(sc.Text())
			if log != nil {
				fmt.Fprintln(log, sc.Text())
			}
		}
		io.Copy(io.Discard, pr)
	}()
	go func() {
		s.waitErr = s.cmd.Wait()
		pw.Close()
		<-copied
		close(s.exited)
	}()
	go func() {
		select {
		case <-ctx.Done():
			s.Stop()
		case <-s.stopCtx:
		case <-s.exited:
		}
	}()
	return nil
}

// waitHealthy polls /health until it answers 200, the child exits, the
// timeout passes or ctx ends.
func (s *Server) waitHealthy(ctx context.Context, timeout time.Duration) error {
	client := NewClient(s.URL)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := client.Health(hctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for vllm server: %w", ctx.Err())
		case <-s.exited:
			return fmt.Errorf("%w before it was ready (%s)%s", ErrServerExited, exitText(s.waitErr), s.logTail())
		case <-deadline.C:
			return fmt.Errorf("vllm server not ready after %v (last /health: %v); raise --health-timeout if the model is still loading%s", timeout, err, s.logTail())
		case <-tick.C:
		}
	}
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// logTail formats the last output lines for an error message.
func (s *Server) logTail() string {
	lines := s.logs.Lines()
	if len(lines) == 0 {
		return "; it printed nothing"
	}
	return "; last output:\n    " + strings.Join(lines, "\n    ")
}

// Stop sends SIGINT to the server's process group, then SIGKILL after the
// grace period, and waits for the child to exit. It is safe to call more
// than once and concurrently.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		close(s.stopCtx)
		select {
		case <-s.exited:
		default:
			interruptGroup(s.cmd)
			t := time.NewTimer(s.grace)
			select {
			case <-s.exited:
				t.Stop()
			case <-t.C:
				s.stopErr = fmt.Errorf("vllm server still running %v after SIGINT; killed it", s.grace)
			}
		}
		// Kill what is left of the group (workers the server started, or the
		// server itself when it ignored SIGINT).
		killGroup(s.cmd)
		<-s.exited
		// Give the group's workers the moment SIGKILL takes, so none is
		// alive when Stop returns. A group that lingers (zombies an init
		// that does not reap) is not an error of the benchmark.
		waitGroupGone(s.cmd, s.grace)
	})
	return s.stopErr
}

// freePort asks the kernel for an unused port.
func freePort(host string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// ringBuffer keeps the last n lines.
type ringBuffer struct {
	mu    sync.Mutex
	lines []string
	next  int
	full  bool
}

func newRingBuffer(n int) *ringBuffer { return &ringBuffer{lines: make([]string, n)} }

// Add appends a line, dropping the oldest when full.
func (b *ringBuffer) Add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines[b.next] = line
	b.next = (b.next + 1) % len(b.lines)
	if b.next == 0 {
		b.full = true
	}
}

// Lines returns the kept lines, oldest first.
func (b *ringBuffer) Lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.full {
		return append([]string(nil), b.lines[:b.next]...)
	}
	return append(append([]string(nil), b.lines[b.next:]...), b.lines[:b.next]...)
}
