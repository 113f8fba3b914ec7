package planner

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// ErrInvalidConfig is returned when a config.json cannot describe a model.
var ErrInvalidConfig = errors.New("invalid model config")

// ModelConfig holds the architecture facts the planner needs, read from a
// Hugging Face config.json.
type ModelConfig struct {
	ID                    string `json:"id,omitempty"`
	ModelType             string `json:"model_type,omitempty"`
	Architecture          string `json:"architecture,omitempty"`
	NumLayers             int    `json:"num_layers"`
	HiddenSize            int    `json:"hidden_size"`
	NumHeads              int    `json:"num_attention_heads"`
	NumKVHeads            int    `json:"num_kv_heads"`
	HeadDim               int    `json:"head_dim"`
	HeadDimExplicit       bool   `json:"head_dim_explicit,omitempty"`
	VocabSize             int    `json:"vocab_size"`
	MaxPositionEmbeddings int    `json:"max_position_embeddings"`
	IntermediateSize      int    `json:"intermediate_size"`
	TieEmbeddings         bool   `json:"tie_word_embeddings"`
	TorchDtype            string `json:"torch_dtype,omitempty"`
	// SlidingWindow is the local-attention window in tokens (0 = none).
	SlidingWindow int `json:"sliding_window,omitempty"`
	// SlidingLayers marks the layers that use SlidingWindow (layer_types,
	// Gemma's alternation, Qwen2's max_window_layers); nil with a window
	// means every layer is local (Mistral v0.1, Phi-3).
	SlidingLayers []bool `json:"sliding_layers,omitempty"`
	// KVHeadsPerLayer holds per-layer KV heads when the config lists them
	// (nil = NumKVHeads on every layer).
	KVHeadsPerLayer []int `json:"kv_heads_per_layer,omitempty"`
	// NativeQuantization is the checkpoint's own weight format
	// (quantization_config.quant_method: fp8 for DeepSeek-V3, mxfp4 for gpt-oss).
	NativeQuantization string `json:"native_quantization,omitempty"`

	// Mixture of experts.
	NumExperts                   int `json:"num_experts,omitempty"`
	ExpertsPerToken              int `json:"experts_per_token,omitempty"`
	MoEIntermediateSize          int `json:"moe_intermediate_size,omitempty"`
	SharedExperts                int `json:"shared_experts,omitempty"`
	SharedExpertIntermediateSize int `json:"shared_expert_intermediate_size,omitempty"`
	FirstDenseLayers             int `json:"first_dense_layers,omitempty"`
	MoELayerFreq                 int `json:"moe_layer_freq,omitempty"`

	// Multi-head latent attention (DeepSeek-V2/V3).
	QLoraRank     int `json:"q_lora_rank,omitempty"`
	KVLoraRank    int `json:"kv_lora_rank,omitempty"`
	QKRopeHeadDim int `json:"qk_rope_head_dim,omitempty"`
	QKNopeHeadDim int `json:"qk_nope_head_dim,omitempty"`
	VHeadDim      int `json:"v_head_dim,omitempty"`

	// ParamsB and ActiveParamsB are parameter counts in billions: computed
	// from the architecture unless overridden.
	ParamsB       float64 `json:"params_b"`
	ActiveParamsB float64 `json:"active_params_b"`
	// ParamsOverridden is true when ParamsB came from the user, not the
	// architecture.
	ParamsOverridden bool `json:"params_overridden,omitempty"`
}

// IsMoE reports whether the model routes tokens through experts.
func (m *ModelConfig) IsMoE() bool { return m.NumExperts > 1 && m.ExpertsPerToken > 0 }

// IsMLA reports whether the model uses multi-head latent attention.
func (m *ModelConfig) IsMLA() bool { return m.KVLoraRank > 0 }

// ParseConfig parses a Hugging Face config.json. Configs that nest the
// language model under text_config (multimodal models) are read from there.
// The parameter counts are computed from the architecture.
func ParseConfig(data []byte) (ModelConfig, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return ModelConfig{}, fmt.Errorf("%w: parse json: %w", ErrInvalidConfig, err)
	}
	return parseConfigMap(raw)
}

func parseConfigMap(raw map[string]json.RawMessage) (ModelConfig, error) {
	var m ModelConfig
	top := raw
	if tc, ok := raw["text_config"]; ok && string(tc) != "null" {
		var inner map[string]json.RawMessage
		if err := json.Unmarshal(tc, &inner); err != nil {
			return m, fmt.Errorf("%w: text_config: %w", ErrInvalidConfig, err)
		}
		// Keys of the language model win; the outer file fills gaps.
		merged := make(map[string]json.RawMessage, len(inner)+len(raw))
		for k, v := range raw {
			if k != "text_config" {
				merged[k] = v
			}
		}
		for k, v := range inner {
			merged[k] = v
		}
		raw = merged
	}
	r := reader{raw: raw}
	m.ModelType = r.str("model_type")
	rt := reader{raw: top}
	if tt := rt.str("model_type"); tt != "" && m.ModelType == "" {
		m.ModelType = tt
	}
	if archs := r.strs("architectures"); len(archs) > 0 {
		m.Architecture = archs[0]
	} else if archs := rt.strs("architectures"); len(archs) > 0 {
		m.Architecture = archs[0]
	}
	m.NumLayers = r.int("num_hidden_layers", "n_layer", "num_layers", "n_layers")
	m.HiddenSize = r.int("hidden_size", "n_embd", "d_model", "model_dim")
	m.NumHeads = r.int("num_attention_heads", "n_head", "num_heads", "n_heads")
	m.NumKVHeads = r.int("num_key_value_heads", "num_kv_heads", "n_head_kv", "num_kv")
	if m.NumKVHeads == 0 && r.bool("multi_query") {
		m.NumKVHeads = 1
	}
	if m.NumKVHeads == 0 {
		m.NumKVHeads = m.NumHeads
	}
	m.HeadDim = r.int("head_dim", "attention_head_dim")
	m.HeadDimExplicit = m.HeadDim > 0
	if m.HeadDim == 0 && m.NumHeads > 0 {
		m.HeadDim = m.HiddenSize / m.NumHeads
	}
	m.VocabSize = r.int("vocab_size", "padded_vocab_size")
	m.MaxPositionEmbeddings = r.int("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length", "n_ctx", "max_seq_len")
	m.IntermediateSize = r.int("intermediate_size", "ffn_hidden_size", "n_inner", "ffn_dim")
	if m.IntermediateSize == 0 && m.HiddenSize > 0 {
		m.IntermediateSize = 4 * m.HiddenSize // GPT-2/Falcon convention
	}
	if v, ok := r.optBool("tie_word_embeddings"); ok {
		m.TieEmbeddings = v
	} else {
		// transformers' PretrainedConfig default.
		m.TieEmbeddings = true
	}
	m.TorchDtype = r.str("torch_dtype", "dtype")
	m.SlidingWindow = r.int("sliding_window")
	if v, ok := r.optBool("use_sliding_window"); ok && !v {
		m.SlidingWindow = 0
	}
	if qc, _, ok := r.lookup("quantization_config"); ok {
		nq, err := parseQuantConfig(qc)
		if err != nil {
			return ModelConfig{}, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		m.NativeQuantization = nq
	}
	m.SlidingLayers, m.KVHeadsPerLayer = r.layerAttention(&m)
	if r.err == nil && m.SlidingWindow < 0 {
		r.err = fmt.Errorf("sliding_window: want ≥ 0, got %d", m.SlidingWindow)
	}

	m.NumExperts = r.int("num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts")
	m.ExpertsPerToken = r.int("num_experts_per_tok", "experts_per_token", "num_experts_per_token", "moe_top_k")
	m.MoEIntermediateSize = r.int("moe_intermediate_size")
	m.SharedExperts = r.int("n_shared_experts", "num_shared_experts")
	m.SharedExpertIntermediateSize = r.int("shared_expert_intermediate_size")
	m.FirstDenseLayers = r.int("first_k_dense_replace")
	m.MoELayerFreq = r.int("moe_layer_freq", "decoder_sparse_step")

	m.QLoraRank = r.int("q_lora_rank")
	m.KVLoraRank = r.int("kv_lora_rank")
	m.QKRopeHeadDim = r.int("qk_rope_head_dim")
	m.QKNopeHeadDim = r.int("qk_nope_head_dim")
	m.VHeadDim = r.int("v_head_dim")

	if r.err != nil {
		return ModelConfig{}, fmt.Errorf("%w: %w", ErrInvalidConfig, r.err)
	}
	// Some published configs leave fields to transformers' class defaults.
	if d, ok := modelTypeDefaults[m.ModelType]; ok {
		if m.VocabSize == 0 {
			m.VocabSize = d.vocab
		}
		if m.MaxPositionEmbeddings == 0 {
			m.MaxPositionEmbeddings = d.maxPos
		}
	}
	if err := m.validate(); err != nil {
		return ModelConfig{}, err
	}
	m.ParamsB, m.ActiveParamsB = m.ParamCount()
	return m, nil
}

// modelTypeDefaults are transformers' config-class defaults for fields that
// published configs of these families omit.
var modelTypeDefaults = map[string]struct{ vocab, maxPos int }{
	"gemma3_text": {262208, 131072}, // Gemma3TextConfig
	"gemma3":      {262208, 131072},
	"gemma2":      {256000, 8192}, // Gemma2Config
	"llama":       {32000, 2048},  // LlamaConfig
	"mistral":     {32000, 131072},
}

// validate checks that the fields the planner needs are present.
func (m *ModelConfig) validate() error {
	var missing []string
	if m.NumLayers <= 0 {
		missing = append(missing, "num_hidden_layers (or n_layer)")
	}
	if m.HiddenSize <= 0 {
		missing = append(missing, "hidden_size (or n_embd)")
	}
	if m.NumHeads <= 0 {
		missing = append(missing, "num_attention_heads (or n_head)")
	}
	if m.VocabSize <= 0 {
		missing = append(missing, "vocab_size")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: missing %s; pass a complete config.json or --params-b with a catalog model", ErrInvalidConfig, strings.Join(missing, ", "))
	}
	const maxDim = 1 << 24
	for _, v := range []struct {
		name string
		v    int
	}{{"num_hidden_layers", m.NumLayers}, {"hidden_size", m.HiddenSize}, {"num_attention_heads", m.NumHeads},
		{"num_key_value_heads", m.NumKVHeads}, {"head_dim", m.HeadDim}, {"vocab_size", m.VocabSize},
		{"intermediate_size", m.IntermediateSize}, {"num_experts", m.NumExperts}, {"moe_intermediate_size", m.MoEIntermediateSize}} {
		if v.v < 0 || v.v > maxDim {
			return fmt.Errorf("%w: %s = %d is out of range", ErrInvalidConfig, v.name, v.v)
		}
	}
	if m.NumKVHeads <= 0 || m.NumKVHeads > m.NumHeads {
		return fmt.Errorf("%w: num_key_value_heads = %d must be between 1 and num_attention_heads = %d", ErrInvalidConfig, m.NumKVHeads, m.NumHeads)
	}
	if m.HeadDim <= 0 {
		return fmt.Errorf("%w: head_dim is 0 (hidden_size %d / heads %d)", ErrInvalidConfig, m.HiddenSize, m.NumHeads)
	}
	if m.MaxPositionEmbeddings < 0 {
		return fmt.Errorf("%w: max_position_embeddings = %d must be > 0", ErrInvalidConfig, m.MaxPositionEmbeddings)
	}
	if m.ExpertsPerToken > m.NumExperts && m.NumExperts > 0 {
		return fmt.Errorf("%w: num_experts_per_tok = %d exceeds the %d experts", ErrInvalidConfig, m.ExpertsPerToken, m.NumExperts)
	}
	return nil
}

// ParamCount computes total and active parameters (billions) from the
// architecture: embeddings (+ an untied LM head), attention, MLP or experts,
// and norms. Active counts only the routed experts a token uses.
func (m *ModelConfig) ParamCount() (totalB, activeB float64) {
	h := float64(m.HiddenSize)
	L := float64(m.NumLayers)
	embed := float64(m.VocabSize) * h
	if !m.TieEmbeddings {
		embed *= 2
	}
	var attn float64
	if m.IsMLA() {
		nope, rope, v := float64(m.QKNopeHeadDim), float64(m.QKRopeHeadDim), float64(m.VHeadDim)
		heads := float64(m.NumHeads)
		qk := nope + rope
		if m.QLoraRank > 0 {
			q := float64(m.QLoraRank)
			attn += h*q + q + q*heads*qk // q_a, q_a_norm, q_b
		} else {
			attn += h * heads * qk
		}
		kv := float64(m.KVLoraRank)
		attn += h*(kv+rope) + kv + kv*heads*(nope+v) // kv_a (with rope), norm, kv_b
		attn += heads * v * h                        // o_proj
	} else {
		hd := float64(m.HeadDim)
		q := float64(m.NumHeads) * hd
		kv := float64(m.NumKVHeads) * hd
		attn = h*q + 2*h*kv + q*h
	}
	norms := 2 * h
	dense := 3 * h * float64(m.IntermediateSize)
	if m.ModelType == "gpt2" || m.ModelType == "falcon" || m.ModelType == "gpt_bigcode" || m.ModelType == "gpt_neox" {
		dense = 2 * h * float64(m.IntermediateSize) // up + down, no gate
	}
	total, active := 0.0, 0.0
	if m.IsMoE() {
		mi := float64(m.MoEIntermediateSize)
		if mi == 0 {
			mi = float64(m.IntermediateSize)
		}
		expert := 3 * h * mi
		shared := 0.0
		if m.SharedExperts > 0 {
			shared = float64(m.SharedExperts) * expert
		}
		if m.SharedExpertIntermediateSize > 0 {
			shared = 3*h*float64(m.SharedExpertIntermediateSize) + h // shared expert + its gate
		}
		router := h * float64(m.NumExperts)
		moeLayers := L - float64(m.FirstDenseLayers)
		if m.MoELayerFreq > 1 {
			moeLayers = math.Floor(moeLayers / float64(m.MoELayerFreq))
		}
		denseLayers := L - moeLayers
		perMoE := float64(m.NumExperts)*expert + shared + router
		perMoEActive := float64(m.ExpertsPerToken)*expert + shared + router
		total = L*(attn+norms) + denseLayers*dense + moeLayers*perMoE
		active = L*(attn+norms) + denseLayers*dense + moeLayers*perMoEActive
	} else {
		total = L * (attn + norms + dense)
		active = total
	}
	total += embed + h
	active += embed + h
	return total / 1e9, active / 1e9
}

// KVHeadsPerGPU returns the KV heads each GPU stores under tensor
// parallelism: heads are split evenly, and when tp exceeds the KV heads each
// GPU holds one replicated head.
func (m *ModelConfig) KVHeadsPerGPU(tp int) int { return kvHeadsPerGPU(m.NumKVHeads, tp) }

func kvHeadsPerGPU(heads, tp int) int {
	if tp <= 1 {
		return heads
	}
	if tp >= heads {
		return 1
	}
	return (heads + tp - 1) / tp
}

// KVBytesPerToken is the KV cache one token occupies on one GPU in every
// attention layer (full and sliding alike; the pool's unit): 2 (K and V) ×
// KV heads on the GPU × head_dim × bytes per element, summed over layers;
// for MLA models (kv_lora_rank + qk_rope_head_dim) × layers × bytes,
// replicated on every GPU.
func (m *ModelConfig) KVBytesPerToken(bytesPerElem float64, tp int) float64 {
	l := m.kvLayout(bytesPerElem, tp)
	return l.full + l.slide
}

// kvLayout is the per-token KV bytes on one GPU split into full-attention
// layers and the sliding-window layers (window tokens each).
type kvLayout struct {
	full, slide float64
	window      int
}

func (m *ModelConfig) kvLayout(elem float64, tp int) kvLayout {
	if m.IsMLA() {
		return kvLayout{full: float64(m.KVLoraRank+m.QKRopeHeadDim) * float64(m.NumLayers) * elem}
	}
	var l kvLayout
	lastH, b := -1, 0.0 // a layer's bytes, recomputed when its KV heads change
	for i := 0; i < m.NumLayers; i++ {
		h := m.NumKVHeads
		if i < len(m.KVHeadsPerLayer) {
			h = m.KVHeadsPerLayer[i]
		}
		if h != lastH {
			lastH, b = h, 2*float64(kvHeadsPerGPU(h, tp))*float64(m.HeadDim)*elem
		}
		local := m.SlidingWindow > 0 && (m.SlidingLayers == nil || i < len(m.SlidingLayers) && m.SlidingLayers[i])
		if local {
			l.slide += b
		} else {
			l.full += b
		}
	}
	if l.slide > 0 {
		l.window = m.SlidingWindow
	}
	return l
}

// SlidingLayerCount is the number of layers that hold window-sized KV.
func (m *ModelConfig) SlidingLayerCount() int {
	if m.SlidingWindow <= 0 || m.IsMLA() {
		return 0
	}
	if m.SlidingLayers == nil {
		return m.NumLayers
	}
	n := 0
	for _, s := range m.SlidingLayers {
		if s {
			n++
		}
	}
	return n
}

// ValidTP reports whether tp splits the model's heads evenly: attention heads
// must divide by tp, and KV heads must divide by tp or tp by KV heads.
func (m *ModelConfig) ValidTP(tp int) bool {
	if tp < 1 {
		return false
	}
	if m.NumHeads%tp != 0 {
		return false
	}
	if m.IsMLA() {
		return true
	}
	return m.NumKVHeads%tp == 0 || tp%m.NumKVHeads == 0
}

// reader reads config keys with aliases, accepting ints written as floats.
type reader struct {
	raw map[string]json.RawMessage
	err error
}

func (r *reader) lookup(keys ...string) (json.RawMessage, string, bool) {
	for _, k := range keys {
		if v, ok := r.raw[k]; ok && string(v) != "null" {
			return v, k, true
		}
	}
	return nil, "", false
}

func (r *reader) int(keys ...string) int {
	v, k, ok := r.lookup(keys...)
	if !ok {
		return 0
	}
	var f float64
	if err := json.Unmarshal(v, &f); err != nil {
		// Some configs hold lists (per-layer values): not an error, just unknown.
		if len(v) > 0 && (v[0] == '[' || v[0] == '{') {
			return 0
		}
		if r.err == nil {
			r.err = fmt.Errorf("%s: want a number, got %s", k, truncate(string(v), 40))
		}
		return 0
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<40 {
		if r.err == nil {
			r.err = fmt.Errorf("%s: want an integer, got %v", k, f)
		}
		return 0
	}
	return int(f)
}

func (r *reader) str(keys ...string) string {
	v, _, ok := r.lookup(keys...)
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return ""
	}
	return s
}

func (r *reader) strs(key string) []string {
	v, _, ok := r.lookup(key)
	if !ok {
		return nil
	}
	var s []string
	if json.Unmarshal(v, &s) != nil {
		return nil
	}
	return s
}

func (r *reader) optBool(key string) (bool, bool) {
	v, _, ok := r.lookup(key)
	if !ok {
		return false, false
	}
	var b bool
	if json.Unmarshal(v, &b) != nil {
		return false, false
	}
	return b, true
}

func (r *reader) bool(key string) bool { b, _ := r.optBool(key); return b }

// layerAttention reads which layers use the sliding window and any
// per-layer KV head counts, following transformers' config classes:
// layer_types when present; Gemma 2 alternates (even layers local); Gemma 3
// makes every sliding_window_pattern-th layer global; Qwen2's
// max_window_layers keeps the first layers global.
func (r *reader) layerAttention(m *ModelConfig) ([]bool, []int) {
	var heads []int
	if v, _, ok := r.lookup("num_key_value_heads"); ok && len(v) > 0 && v[0] == '[' {
		if json.Unmarshal(v, &heads) != nil || len(heads) != m.NumLayers {
			heads = nil
		}
		for _, h := range heads {
			if h <= 0 || h > m.NumHeads {
				heads = nil
				break
			}
		}
		if heads != nil {
			m.NumKVHeads = heads[0]
			for _, h := range heads {
				m.NumKVHeads = max(m.NumKVHeads, h)
			}
		}
	}
	if m.SlidingWindow <= 0 || m.NumLayers <= 0 || m.NumLayers > 1<<16 {
		return nil, heads
	}
	n := m.NumLayers
	sl := make([]bool, n)
	if lt := r.strs("layer_types"); len(lt) == n {
		any := false
		for i, t := range lt {
			sl[i] = strings.Contains(t, "sliding") || t == "local_attention"
			any = any || sl[i]
		}
		if !any {
			m.SlidingWindow = 0
			return nil, heads
		}
		return sl, heads
	}
	switch {
	case m.ModelType == "gemma2":
		for i := range sl {
			sl[i] = i%2 == 0
		}
	case strings.HasPrefix(m.ModelType, "gemma3"):
		p := r.int("sliding_window_pattern")
		if p <= 0 {
			p = 6 // Gemma3TextConfig default
		}
		for i := range sl {
			sl[i] = (i+1)%p != 0
		}
	case r.int("max_window_layers") > 0 && strings.HasPrefix(m.ModelType, "qwen"):
		mw := r.int("max_window_layers")
		for i := range sl {
			sl[i] = i >= mw
		}
	default:
		return nil, heads
	}
	return sl, heads
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// OverrideParams sets the parameter count to paramsB billions (> 0), as
// the user gave it, scaling the active parameters in proportion.
func (m *ModelConfig) OverrideParams(paramsB float64) {
	ratio := paramsB / m.ParamsB
	m.ParamsB = paramsB
	m.ActiveParamsB *= ratio
	m.ParamsOverridden = true
}
