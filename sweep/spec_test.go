package sweep_test

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/vllm-wizard/vllm-wizard/sweep"
)

func seq(lo, hi, step int) []int {
	var out []int
	for v := lo; v <= hi; v += step {
		out = append(out, v)
	}
	return out
}

// TestCompactSpec: long axes are stored as ranges or summaries, never value
// by value, and the spec stays under MaxSpecBytes.
func TestCompactSpec(t *testing.T) {
	base := sweep.Grid{Models: []string{"meta-llama/Llama-3.1-8B-Instruct"}, GPUs: []string{"H100 SXM"}, TP: []int{1, 2, 4, 8}}
	many := make([]string, 100000)
	for i := range many {
		many[i] = strings.Repeat("x", 40) + string(rune('a'+i%26))
	}
	for _, tc := range []struct {
		name   string
		edit   func(g *sweep.Grid)
		key    string
		want   any // the decoded value of key
		within int // bytes
	}{
		{"a 1,000,000-value axis is one range", func(g *sweep.Grid) { g.Concurrency = seq(1, 1000000, 1) }, "concurrency", []any{"1-1000000"}, 1 << 10},
		{"short runs stay values, long runs become ranges", func(g *sweep.Grid) { g.Concurrency = []int{1, 2, 8, 9, 10, 11, 64} }, "concurrency", []any{1, 2, "8-11", 64}, 1 << 10},
		{"a short axis is unchanged", func(g *sweep.Grid) {}, "tp", []any{1, 2, 4, 8}, 1 << 10},
		{"tokens axes too", func(g *sweep.Grid) {
			for v := 1; v <= 5000; v++ {
				g.PromptTokens = append(g.PromptTokens, sweep.Tokens(v))
			}
		}, "prompt_tokens", []any{"1-5000"}, 1 << 10},
		{"500,000 values without runs are summarised", func(g *sweep.Grid) { g.Concurrency = seq(2, 1000000, 2) }, "concurrency", nil, sweep.MaxSpecBytes},
		{"100,000 model names are summarised", func(g *sweep.Grid) { g.Models = many }, "models", nil, sweep.MaxSpecBytes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := base
			tc.edit(&g)
			out, err := sweep.CompactSpec(g)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) > tc.within {
				t.Errorf("%d bytes, want at most %d", len(out), tc.within)
			}
			var m map[string]any
			if err := yaml.Unmarshal(out, &m); err != nil {
				t.Fatalf("not YAML: %v\n%s", err, out)
			}
			got := m[tc.key]
			if tc.want == nil {
				s, ok := got.(string)
				if !ok || !strings.Contains(s, "values") || !strings.Contains(s, "sha256:") {
					t.Errorf("%s = %v, want a summary", tc.key, got)
				}
				return
			}
			if gotS, wantS := yamlString(t, got), yamlString(t, tc.want); gotS != wantS {
				t.Errorf("%s = %s, want %s", tc.key, gotS, wantS)
			}
			if models := yamlString(t, m["models"]); !strings.Contains(models, "Llama-3.1-8B") {
				t.Errorf("models = %s", models)
			}
		})
	}
}

func yamlString(t *testing.T, v any) string {
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
