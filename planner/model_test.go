package planner

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func loadTestConfig(t testing.TB, dir string) ModelConfig {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "configs", dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseConfig(data)
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	return m
}

// Published counts from the model cards; the architecture count must land
// within 2 %.
func TestParamCountMatchesPublished(t *testing.T) {
	tests := []struct {
		dir           string
		total, active float64
		why           string
	}{
		{"llama-3.1-8b", 8.03, 8.03, "dense GQA, untied 128k vocab"},
		{"llama-3.1-70b", 70.6, 70.6, "dense GQA, 80 layers"},
		{"mistral-7b-v0.1", 7.24, 7.24, "dense GQA with sliding window"},
		{"qwen2.5-7b", 7.62, 7.62, "dense GQA, 152k vocab"},
		{"mixtral-8x7b", 46.7, 12.9, "MoE: 8 experts, 2 per token"},
		{"deepseek-v3", 671, 37, "MoE with MLA, shared expert, 3 dense layers"},
		{"qwen3-30b-a3b", 30.5, 3.3, "MoE: 128 experts, 8 per token, explicit head_dim"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			m := loadTestConfig(t, tt.dir)
			if d := math.Abs(m.ParamsB-tt.total) / tt.total; d > 0.02 {
				t.Errorf("total %.3fB, published %.2fB (%.1f%% off; %s)", m.ParamsB, tt.total, 100*d, tt.why)
			}
			if d := math.Abs(m.ActiveParamsB-tt.active) / tt.active; d > 0.02 {
				t.Errorf("active %.3fB, published %.2fB (%.1f%% off; %s)", m.ActiveParamsB, tt.active, 100*d, tt.why)
			}
		})
	}
}

func TestParseConfigFields(t *testing.T) {
	tests := []struct {
		name string
		dir  string
		want func(m ModelConfig) string
	}{
		{"explicit head_dim wins over hidden/heads", "qwen3-30b-a3b", func(m ModelConfig) string {
			if m.HeadDim != 128 || !m.HeadDimExplicit || m.HiddenSize/m.NumHeads == 128 {
				return "want explicit head_dim 128 differing from hidden/heads"
			}
			return ""
		}},
		{"text_config nesting is read", "gemma-3-27b", func(m ModelConfig) string {
			if m.NumLayers != 62 || m.HiddenSize != 5376 || m.HeadDim != 128 {
				return "want 62 layers, hidden 5376, head_dim 128 from text_config"
			}
			return ""
		}},
		{"MLA fields", "deepseek-v3", func(m ModelConfig) string {
			if !m.IsMLA() || m.KVLoraRank != 512 || m.QKRopeHeadDim != 64 || m.NativeQuantization != QuantFP8 {
				return "want MLA 512+64 and native fp8"
			}
			return ""
		}},
		{"GPT-2 aliases n_layer/n_embd/n_head", "gpt2", func(m ModelConfig) string {
			if m.NumLayers != 12 || m.HiddenSize != 768 || m.NumHeads != 12 || m.NumKVHeads != 12 || m.MaxPositionEmbeddings != 1024 {
				return "want 12/768/12/12/1024"
			}
			return ""
		}},
		{"Falcon multi-query or kv aliases", "falcon-7b", func(m ModelConfig) string {
			if m.NumKVHeads != 1 || m.NumLayers != 32 {
				return "want 1 KV head, 32 layers"
			}
			return ""
		}},
		{"MoE fields", "mixtral-8x7b", func(m ModelConfig) string {
			if m.NumExperts != 8 || m.ExpertsPerToken != 2 || !m.IsMoE() {
				return "want 8 experts, 2 per token"
			}
			return ""
		}},
		{"sliding window", "mistral-7b-v0.1", func(m ModelConfig) string {
			if m.SlidingWindow != 4096 {
				return "want sliding_window 4096"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := loadTestConfig(t, tt.dir)
			if msg := tt.want(m); msg != "" {
				t.Errorf("%s: %+v", msg, m)
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name, json, wantIn string
	}{
		{"not json", `{`, "parse json"},
		{"missing layers and hidden", `{"num_attention_heads": 8, "vocab_size": 10}`, "num_hidden_layers"},
		{"string where a number belongs", `{"num_hidden_layers": "32", "hidden_size": 4096, "num_attention_heads": 32, "vocab_size": 1}`, "want a number"},
		{"fractional layers", `{"num_hidden_layers": 1.5, "hidden_size": 4096, "num_attention_heads": 32, "vocab_size": 1}`, "integer"},
		{"more kv heads than heads", `{"num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 8, "vocab_size": 1}`, "num_key_value_heads"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.json))
			if !errors.Is(err, ErrInvalidConfig) || !contains(err.Error(), tt.wantIn) {
				t.Fatalf("err = %v, want ErrInvalidConfig mentioning %q", err, tt.wantIn)
			}
		})
	}
}

// Llama-3.1-8B KV per token = 2 × 8 heads × 128 dims × 32 layers × 2 bytes
// = 131072 B; DeepSeek-V3 MLA = (512 + 64) × 61 layers × 2 bytes = 70272 B.
func TestKVBytesPerToken(t *testing.T) {
	llama := loadTestConfig(t, "llama-3.1-8b")
	ds := loadTestConfig(t, "deepseek-v3")
	tests := []struct {
		name string
		m    ModelConfig
		tp   int
		want float64
	}{
		{"llama 8B tp1", llama, 1, 131072},
		{"llama 8B tp2 splits the 8 KV heads", llama, 2, 65536},
		{"llama 8B tp16 replicates one head per GPU", llama, 16, 2 * 1 * 128 * 32 * 2},
		{"deepseek MLA is not split by tp", ds, 8, 70272},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.KVBytesPerToken(2, tt.tp); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidTP(t *testing.T) {
	llama := loadTestConfig(t, "llama-3.1-8b") // 32 heads, 8 KV heads
	for tp, want := range map[int]bool{1: true, 2: true, 3: false, 4: true, 8: true, 16: true, 32: true, 64: false, 0: false} {
		if got := llama.ValidTP(tp); got != want {
			t.Errorf("ValidTP(%d) = %v, want %v", tp, got, want)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	dirs, _ := os.ReadDir(filepath.Join("testdata", "configs"))
	for _, d := range dirs {
		if data, err := os.ReadFile(filepath.Join("testdata", "configs", d.Name(), "config.json")); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"text_config": {"num_hidden_layers": 1e30}}`))
	f.Add([]byte(`{"num_hidden_layers": 2, "hidden_size": 8, "num_attention_heads": 2, "vocab_size": 3, "num_local_experts": 4, "num_experts_per_tok": 9}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseConfig(data)
		if err != nil {
			return
		}
		if m.NumLayers <= 0 || m.HeadDim <= 0 || m.NumKVHeads <= 0 || m.NumKVHeads > m.NumHeads {
			t.Fatalf("accepted an unusable config: %+v", m)
		}
		if math.IsNaN(m.ParamsB) || m.ParamsB < 0 || m.ActiveParamsB > m.ParamsB*1.0000001 {
			t.Fatalf("bad parameter counts %v / %v", m.ParamsB, m.ActiveParamsB)
		}
	})
}

func contains(s, sub string) bool { return len(sub) == 0 || indexOf(s, sub) >= 0 }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestOverrideParams(t *testing.T) {
	// Mixtral-8x7B-like: 46.7 B total, 12.9 B active. Overriding to 93.4 B
	// doubles both: 12.9 × 93.4 / 46.7 = 25.8 B active.
	m := ModelConfig{ParamsB: 46.7, ActiveParamsB: 12.9}
	m.OverrideParams(93.4)
	if m.ParamsB != 93.4 || math.Abs(m.ActiveParamsB-25.8) > 1e-9 || !m.ParamsOverridden {
		t.Errorf("got %v B, %v B active, overridden %v; want 93.4, 25.8, true", m.ParamsB, m.ActiveParamsB, m.ParamsOverridden)
	}
}
