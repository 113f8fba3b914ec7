package calibrate

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vllm-wizard/vllm-wizard/calibrate/vllmfake"
)

// childPID finds the worker pid the fake server logs.
func childPID(t *testing.T, s *Server) int {
	t.Helper()
	re := regexp.MustCompile(`child pid (\d+)`)
	for _, l := range s.Logs() {
		if m := re.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n
		}
	}
	t.Fatalf("no child pid in logs %q", s.Logs())
	return 0
}

func installFake(t *testing.T, env ...string) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := vllmfake.InstallFakeVLLM(dir, env...); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return dir
}

func TestLaunchAndStop(t *testing.T) {
	tests := []struct {
		name      string
		env       []string
		cancelCtx bool // stop by cancelling the context instead of Stop
		grace     time.Duration
		wantErr   string
	}{
		// A race-instrumented fake can take a while to exit, hence 5s of grace.
		{"stop", []string{vllmfake.EnvSpawnChild + "=1"}, false, 5 * time.Second, ""},
		{"context cancelled", []string{vllmfake.EnvSpawnChild + "=1"}, true, 5 * time.Second, ""},
		{"server ignores SIGINT and is killed", []string{vllmfake.EnvIgnoreSIGINT + "=1"}, false, 300 * time.Millisecond, "killed it"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			installFake(t, tc.env...)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			srv, err := Launch(ctx, LaunchConfig{Model: "org/m-7b", TP: 2, HealthTimeout: 20 * time.Second, StopGrace: tc.grace, ExtraArgs: []string{"--max-model-len", "2048"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(srv.Args[1:6], " "); got != "serve org/m-7b --tensor-parallel-size 2 --host" {
				t.Errorf("args %q", srv.Args)
			}
			m, err := NewClient(srv.URL).Model(ctx, "org/m-7b")
			if err != nil || m.MaxModelLen != 2048 {
				t.Fatalf("served model %+v, %v; want max_model_len 2048 from the pass-through args", m, err)
			}
			pids := []int{srv.Pid()}
			if strings.Contains(strings.Join(tc.env, " "), vllmfake.EnvSpawnChild) {
				pids = append(pids, childPID(t, srv))
			}
			if tc.cancelCtx {
				cancel()
				<-srv.Exited() // a server that outlives ctx fails by the test timeout
			}
			err = srv.Stop()
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Stop() = %v, want %q", err, tc.wantErr)
			}
			// The worker ignores SIGINT; only the group SIGKILL ends it, and
			// the kernel may take a moment to carry that out (it is init's
			// child now): wait for its exit, by a pidfd, not by the clock.
			for _, pid := range pids {
				if !vllmfake.WaitGone(pid, time.Minute) {
					t.Errorf("process %d still running a minute after Stop", pid)
				}
			}
		})
	}
}

func TestLaunchFailures(t *testing.T) {
	t.Run("exits early", func(t *testing.T) {
		installFake(t, vllmfake.EnvExitEarly+"=ValueError: bfloat16 is not supported on this GPU")
		_, err := Launch(context.Background(), LaunchConfig{Model: "m", HealthTimeout: 20 * time.Second})
		if !errors.Is(err, ErrServerExited) || !strings.Contains(err.Error(), "bfloat16 is not supported") {
			t.Errorf("err = %v; want ErrServerExited with the last log lines", err)
		}
	})
	t.Run("health timeout", func(t *testing.T) {
		cfg, _ := jsonConfig(vllmfake.Config{ReadyAfter: time.Hour})
		installFake(t, vllmfake.EnvConfig+"="+cfg)
		_, err := Launch(context.Background(), LaunchConfig{Model: "m", HealthTimeout: 700 * time.Millisecond, StopGrace: time.Second})
		// The log tail is there whether or not a loaded machine got the
		// server as far as printing within 700 ms: no timing window.
		if err == nil || !strings.Contains(err.Error(), "not ready after 700ms") ||
			!(strings.Contains(err.Error(), "last output:") || strings.Contains(err.Error(), "it printed nothing")) {
			t.Errorf("err = %v; want a health timeout with the log", err)
		}
	})
	t.Run("not on PATH", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		_, err := Launch(context.Background(), LaunchConfig{Model: "m"})
		if !errors.Is(err, ErrVLLMNotFound) || !strings.Contains(err.Error(), "--endpoint") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestRingBuffer(t *testing.T) {
	b := newRingBuffer(3)
	for i := 1; i <= 5; i++ {
		b.Add(strconv.Itoa(i))
	}
	if got := strings.Join(b.Lines(), ","); got != "3,4,5" {
		t.Errorf("lines %q, want 3,4,5", got)
	}
}

func jsonConfig(c vllmfake.Config) (string, error) {
	b, err := json.Marshal(c)
	return string(b), err
}

func TestLaunchPassesLabellingOptions(t *testing.T) {
	// Before: --quantization fp8 --kv-cache-dtype fp8 labelled the rows but
	// vllm serve started with only TP, host and port.
	installFake(t)
	opts := ServeOptions{Quantization: "fp8", KVCacheDtype: "fp8", Dtype: "bfloat16", MaxModelLen: 4096, PP: 2,
		EnforceEager: true, GPUMemoryUtilization: 0.85, MaxNumSeqs: 64, MaxNumBatchedTokens: 8192}
	srv, err := Launch(context.Background(), LaunchConfig{Model: "org/m-7b", TP: 2, Serve: opts, HealthTimeout: 20 * time.Second,
		ExtraArgs: []string{"--seed", "3"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	want := "serve org/m-7b --tensor-parallel-size 2 --quantization fp8 --kv-cache-dtype fp8 --dtype bfloat16 --max-model-len 4096 " +
		"--pipeline-parallel-size 2 --enforce-eager --gpu-memory-utilization 0.85 --max-num-seqs 64 --max-num-batched-tokens 8192 --host"
	if got := strings.Join(srv.Args[1:], " "); !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "--seed 3") {
		t.Errorf("args %q\nwant prefix %q and the pass-through last", got, want)
	}
	// The server saw them: the fake logs its arguments and honours --max-model-len.
	if logs := strings.Join(srv.Logs(), "\n"); !strings.Contains(logs, "--kv-cache-dtype fp8") {
		t.Errorf("server logs %q lack the options", logs)
	}
	if m, err := NewClient(srv.URL).Model(context.Background(), ""); err != nil || m.MaxModelLen != 4096 {
		t.Errorf("served %+v, %v; want max_model_len 4096", m, err)
	}
	if c := srv.Command(); !strings.Contains(c, " serve org/m-7b --tensor-parallel-size 2 --quantization fp8") {
		t.Errorf("Command() = %q", c)
	}
}

func TestMergeServeArgs(t *testing.T) {
	tests := []struct {
		name     string
		opts     ServeOptions
		extra    []string
		want     ServeOptions
		wantRest []string
		wantErr  string
	}{
		{"pass-through labels the run", ServeOptions{}, []string{"--quantization", "awq", "--kv-cache-dtype=fp8", "--enforce-eager", "--seed", "1"},
			ServeOptions{Quantization: "awq", KVCacheDtype: "fp8", EnforceEager: true}, []string{"--seed", "1"}, ""},
		{"same value twice is fine", ServeOptions{MaxModelLen: 4096}, []string{"--max-model-len", "4096"}, ServeOptions{MaxModelLen: 4096}, nil, ""},
		{"contradiction is refused", ServeOptions{Quantization: "fp8"}, []string{"-q", "awq"}, ServeOptions{}, nil, "contradicts"},
		{"TP belongs to --tp", ServeOptions{}, []string{"--tensor-parallel-size", "2"}, ServeOptions{}, nil, "--tp"},
		{"missing value", ServeOptions{}, []string{"--dtype"}, ServeOptions{}, nil, "no value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, rest, err := MergeServeArgs(tc.opts, tc.extra)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want || strings.Join(rest, " ") != strings.Join(tc.wantRest, " ") {
				t.Errorf("got %+v %q %v; want %+v %q", got, rest, err, tc.want, tc.wantRest)
			}
		})
	}
}

func TestServeLabels(t *testing.T) {
	tests := []struct {
		name             string
		serve            ServeOptions
		quant, kv        string
		launched         bool
		wantQuant, wantK string
	}{
		{name: "what vllm serve is given wins", serve: ServeOptions{Quantization: "fp8", KVCacheDtype: "fp8"}, quant: "awq", kv: "auto", wantQuant: "fp8", wantK: "fp8"},
		{name: "else the flags", quant: "awq", kv: "auto", wantQuant: "awq", wantK: "auto"},
		{name: "a launched server without one loads the checkpoint as it is", launched: true, kv: "auto", wantQuant: "none", wantK: "auto"},
		{name: "a running server's is unknown", kv: "auto", wantQuant: "", wantK: "auto"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, kv := tc.serve.Labels(tc.quant, tc.kv, tc.launched)
			if q != tc.wantQuant || kv != tc.wantK {
				t.Errorf("Labels = %q, %q; want %q, %q", q, kv, tc.wantQuant, tc.wantK)
			}
		})
	}
}
