package vllmfake

import (
	"encoding/json"
	"fmt"
	"github.com/vllm-wizard/vllm-wizard/reports"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Environment variables read by ServeMain and RunAsVLLMIfAsked.
const (
	// EnvAsVLLM set to 1 makes RunAsVLLMIfAsked run ServeMain.
	EnvAsVLLM = "VLLMFAKE_AS_VLLM"
	// EnvConfig holds a JSON Config for ServeMain.
	EnvConfig = "VLLMFAKE_CONFIG"
	// EnvIgnoreSIGINT set to 1 makes ServeMain ignore SIGINT (tests SIGKILL escalation).
	EnvIgnoreSIGINT = "VLLMFAKE_IGNORE_SIGINT"
	// EnvExitEarly set to a message makes ServeMain log it and exit 1 before serving.
	EnvExitEarly = "VLLMFAKE_EXIT_EARLY"
	// EnvSpawnChild set to 1 makes ServeMain start a child process in its
	// process group and log "child pid N" (tests that the whole group is stopped).
	EnvSpawnChild = "VLLMFAKE_SPAWN_CHILD"
	// envSleeper marks the spawned child.
	envSleeper = "VLLMFAKE_SLEEPER"
)

// RunAsVLLMIfAsked runs ServeMain and exits when the environment asks this
// binary to play `vllm` (see InstallFakeVLLM); call it first in TestMain.
func RunAsVLLMIfAsked() {
	if os.Getenv(envSleeper) == "1" {
		signal.Ignore(syscall.SIGINT)
		time.Sleep(10 * time.Minute)
		os.Exit(0)
	}
	if os.Getenv(EnvAsVLLM) == "1" {
		os.Exit(ServeMain(os.Args[1:], os.Stdout, os.Stderr))
	}
}

// InstallFakeVLLM writes an executable named vllm into dir that runs the
// current binary (which must call RunAsVLLMIfAsked) as a fake `vllm`, with
// the extra environment assignments env ("KEY=value"). It returns its path.
func InstallFakeVLLM(dir string, env ...string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find test binary: %w", err)
	}
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	for _, kv := range append([]string{EnvAsVLLM + "=1"}, env...) {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "%s=%s; export %s\n", k, reports.ShellQuote(v), k)
	}
	fmt.Fprintf(&b, "exec %s \"$@\"\n", reports.ShellQuote(self))
	p := filepath.Join(dir, "vllm")
	if err := os.WriteFile(p, []byte(b.String()), 0o755); err != nil {
		return "", fmt.Errorf("write fake vllm: %w", err)
	}
	return p, nil
}

// serveArgs are the `vllm serve` arguments the fake heeds.
type serveArgs struct {
	model, host, served string
	port, maxLen        int
}

func parseServeArgs(args []string) serveArgs {
	sa := serveArgs{model: args[1], host: "0.0.0.0", port: 8000}
	for i := 2; i < len(args); i++ {
		name, val, hasVal := strings.Cut(args[i], "=")
		if !hasVal && i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			val = args[i+1]
		}
		switch name {
		case "--port":
			sa.port, _ = strconv.Atoi(val)
		case "--host":
			sa.host = val
		case "--served-model-name":
			sa.served = val
		case "--max-model-len":
			sa.maxLen, _ = strconv.Atoi(val)
		}
	}
	return sa
}

// config is the fake's Config (JSON in env, if any) serving the one model
// the arguments name.
func (sa serveArgs) config(env string) (Config, error) {
	var cfg Config
	if env != "" {
		if err := json.Unmarshal([]byte(env), &cfg); err != nil {
			return cfg, err
		}
	}
	m := Model{ID: sa.model, ParamsB: 7, MaxModelLen: 8192}
	if len(cfg.Models) > 0 {
		m.ParamsB, m.MaxModelLen = cfg.Models[0].ParamsB, cfg.Models[0].MaxModelLen
	}
	if sa.served != "" {
		m.ID = sa.served
	}
	if sa.maxLen > 0 {
		m.MaxModelLen = sa.maxLen
	}
	cfg.Models = []Model{m}
	return cfg, nil
}

// ServeMain acts as `vllm serve MODEL [--tensor-parallel-size N] [--port P]
// [--host H] [--served-model-name NAME] [--max-model-len L] [other flags]`,
// serving the fake until SIGINT or SIGTERM. It returns the exit code.
func ServeMain(args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 || args[0] != "serve" {
		fmt.Fprintln(stderr, "usage: vllm serve MODEL [options]")
		return 2
	}
	sa := parseServeArgs(args)
	if msg := os.Getenv(EnvExitEarly); msg != "" {
		fmt.Fprintln(stderr, "INFO loading model "+sa.model)
		fmt.Fprintln(stderr, "ERROR "+msg)
		return 1
	}
	cfg, err := sa.config(os.Getenv(EnvConfig))
	if err != nil {
		fmt.Fprintf(stderr, "bad %s: %v\n", EnvConfig, err)
		return 2
	}

	sigs := make(chan os.Signal, 2)
	if os.Getenv(EnvIgnoreSIGINT) == "1" {
		signal.Ignore(syscall.SIGINT)
		signal.Notify(sigs, syscall.SIGTERM)
	} else {
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	}
	if os.Getenv(EnvSpawnChild) == "1" {
		self, _ := os.Executable()
		child := exec.Command(self)
		child.Env = append(os.Environ(), envSleeper+"=1", EnvAsVLLM+"=")
		if err := child.Start(); err != nil {
			fmt.Fprintf(stderr, "spawn child: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "INFO child pid %d\n", child.Process.Pid)
	}

	ln, err := net.Listen("tcp", net.JoinHostPort(sa.host, strconv.Itoa(sa.port)))
	if err != nil {
		fmt.Fprintf(stderr, "ERROR [Errno 98] error while attempting to bind on address: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "INFO non-default args: %s\n", strings.Join(args, " "))
	fmt.Fprintf(stdout, "INFO Started server process [%d]\n", os.Getpid())
	fmt.Fprintf(stdout, "INFO Uvicorn running on http://%s (Press CTRL+C to quit)\n", ln.Addr())
	srv := &http.Server{Handler: New(cfg).Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	sig := <-sigs
	fmt.Fprintf(stdout, "INFO Shutting down (%v)\n", sig)
	srv.Close()
	return 0
}
