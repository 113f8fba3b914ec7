package main

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

var closestRe = regexp.MustCompile(`closest known: ([^;\n]*)`)

// closestIn returns the names after "closest known:" in s.
func closestIn(s string) []string {
	m := closestRe.FindStringSubmatch(s)
	if m == nil {
		return nil
	}
	return strings.Split(strings.TrimSpace(m[1]), ", ")
}

// One typo, one answer: every command that takes a model, GPU, interconnect
// or KV cache dtype name gives the same suggestions for the same typo,
// because each asks planner (LookupModel, LookupGPU, NormalizeInterconnect,
// NormalizeKVCacheDtype). The GPU and interconnect rows cover plan,
// generate, sweep and calibrate import; the model rows plan, generate and
// sweep, since calibrate import keeps measured model ids as given (a
// benchmarked model need not be in the catalog).
func TestSameTypoSameSuggestions(t *testing.T) {
	const model = "meta-llama/Llama-3.1-8B-Instruct"
	bench := filepath.Join("testdata", "calibrate", "bench-serve.json")
	type cmdArgs func(dir string) []string
	plan := func(extra ...string) cmdArgs {
		return func(string) []string { return append([]string{"plan"}, extra...) }
	}
	generate := func(extra ...string) cmdArgs {
		return func(dir string) []string {
			return append([]string{"generate", "--output-dir", filepath.Join(dir, "gen")}, extra...)
		}
	}
	sweep := func(extra ...string) cmdArgs {
		return func(string) []string {
			return append([]string{"sweep", "--tp", "1", "--contexts", "4k", "--dry-run"}, extra...)
		}
	}
	importBench := func(extra ...string) cmdArgs {
		return func(dir string) []string {
			return append([]string{"calibrate", "import", bench, "--out", filepath.Join(dir, "m.jsonl")}, extra...)
		}
	}
	gpuCmds := func(gpu string) map[string]cmdArgs {
		return map[string]cmdArgs{
			"plan":             plan("-m", model, "--gpu", gpu),
			"generate":         generate("-m", model, "--gpu", gpu),
			"sweep":            sweep("--models", model, "--gpus", gpu),
			"calibrate import": importBench("--gpu", gpu),
		}
	}
	tests := []struct {
		name string
		typo string
		// want is what every command must list (names after "closest
		// known:"), or the did-you-mean phrase it must print.
		want       []string
		didYouMean string
		cmds       map[string]cmdArgs
	}{
		{name: "GPU with transposed letters", typo: "H100 SMX", want: planner.SuggestGPUs("H100 SMX", planner.SuggestCount), cmds: gpuCmds("H100 SMX")},
		{name: "GPU with a digit too many", typo: "H1000", want: planner.SuggestGPUs("H1000", planner.SuggestCount), cmds: gpuCmds("H1000")},
		{
			name: "bare model id", typo: "llama-3.1-8c",
			want: planner.SuggestModels("llama-3.1-8c", planner.SuggestCount),
			cmds: map[string]cmdArgs{
				"plan":     plan("-m", "llama-3.1-8c", "--gpu", "L4"),
				"generate": generate("-m", "llama-3.1-8c", "--gpu", "L4"),
				"sweep":    sweep("--models", "llama-3.1-8c", "--gpus", "L4"),
			},
		},
		{
			// plan and generate try the Hub for an org/name id; offline with
			// an empty cache that fails, and the error still lists the
			// catalog's closest ids.
			name: "model id with organisation, offline", typo: "meta-llama/Llama-3.1-8C-Instruct",
			want: planner.SuggestModels("meta-llama/Llama-3.1-8C-Instruct", planner.SuggestCount),
			cmds: map[string]cmdArgs{
				"plan":     plan("-m", "meta-llama/Llama-3.1-8C-Instruct", "--gpu", "L4", "--offline"),
				"generate": generate("-m", "meta-llama/Llama-3.1-8C-Instruct", "--gpu", "L4", "--offline"),
				"sweep":    sweep("--models", "meta-llama/Llama-3.1-8C-Instruct", "--gpus", "L4"),
			},
		},
		{
			name: "interconnect", typo: "nvlnk", didYouMean: `unknown interconnect "nvlnk" (did you mean "nvlink"?)`,
			cmds: map[string]cmdArgs{
				"plan":             plan("-m", model, "--gpu", "L4", "--interconnect", "nvlnk"),
				"generate":         generate("-m", model, "--gpu", "L4", "--interconnect", "nvlnk"),
				"sweep":            sweep("--models", model, "--gpus", "L4", "--interconnect", "nvlnk"),
				"calibrate import": importBench("--gpu", "L4", "--interconnect", "nvlnk"),
			},
		},
		{
			name: "KV cache dtype", typo: "fp8_e4m2", didYouMean: `unknown kv cache dtype "fp8_e4m2" (did you mean "fp8_e4m3"?)`,
			cmds: map[string]cmdArgs{
				"plan":             plan("-m", model, "--gpu", "L4", "--kv-cache-dtype", "fp8_e4m2"),
				"generate":         generate("-m", model, "--gpu", "L4", "--kv-cache-dtype", "fp8_e4m2"),
				"sweep":            sweep("--models", model, "--gpus", "L4", "--kv-cache-dtypes", "fp8_e4m2"),
				"calibrate import": importBench("--gpu", "L4", "--kv-cache-dtype", "fp8_e4m2"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.didYouMean == "" && (len(tt.want) != planner.SuggestCount || slices.Contains(tt.want, "")) {
				t.Fatalf("planner suggests %q for %q", tt.want, tt.typo)
			}
			for name, args := range tt.cmds {
				dir, cache := t.TempDir(), t.TempDir()
				env := map[string]string{"VLLM_WIZARD_CACHE": cache, "HF_ENDPOINT": "http://127.0.0.1:1"}
				_, stderr, code := cliApp(t, func(a *app) { a.getenv = func(k string) string { return env[k] } }, args(dir)...)
				if !strings.Contains(stderr, tt.typo) {
					t.Errorf("%s: stderr does not name %q:\n%s", name, tt.typo, stderr)
				}
				if tt.didYouMean != "" {
					if code == exitOK || !strings.Contains(stderr, tt.didYouMean) {
						t.Errorf("%s: exit %d, stderr lacks %q:\n%s", name, code, tt.didYouMean, stderr)
					}
					continue
				}
				if got := closestIn(stderr); !slices.Equal(got, tt.want) {
					t.Errorf("%s: suggests %q, want %q (exit %d):\n%s", name, got, tt.want, code, stderr)
				}
			}
		})
	}
}
