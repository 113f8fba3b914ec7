package console

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// ModelRow is one row of `vllm-wizard models` (its JSON is the --json shape).
type ModelRow struct {
	ID                 string   `json:"id"`
	ModelType          string   `json:"model_type"`
	ParamsB            float64  `json:"params_b"`
	ActiveParamsB      float64  `json:"active_params_b"`
	Layers             int      `json:"num_layers"`
	KVHeads            int      `json:"num_kv_heads"`
	HeadDim            int      `json:"head_dim"`
	MaxPosition        int      `json:"max_position_embeddings"`
	SlidingWindow      int      `json:"sliding_window,omitempty"`
	SlidingLayers      int      `json:"sliding_layers,omitempty"`
	MLA                bool     `json:"mla,omitempty"`
	NativeQuantization string   `json:"native_quantization,omitempty"`
	KVBytesPerToken    float64  `json:"kv_bytes_per_token_bf16"`
	Aliases            []string `json:"aliases,omitempty"`
}

// ModelRows lists the model catalog, one row per entry.
func ModelRows() ([]ModelRow, error) {
	var rows []ModelRow
	for _, e := range planner.Models() {
		m, err := planner.LookupModel(e.ID)
		if err != nil {
			return nil, fmt.Errorf("catalog model %s: %w", e.ID, err)
		}
		rows = append(rows, ModelRow{ID: e.ID, ModelType: m.ModelType, ParamsB: m.ParamsB, ActiveParamsB: m.ActiveParamsB,
			Layers: m.NumLayers, KVHeads: m.NumKVHeads, HeadDim: m.HeadDim, MaxPosition: m.MaxPositionEmbeddings,
			SlidingWindow: m.SlidingWindow, SlidingLayers: m.SlidingLayerCount(), MLA: m.IsMLA(),
			NativeQuantization: m.NativeQuantization, KVBytesPerToken: m.KVBytesPerToken(2, 1), Aliases: e.Aliases})
	}
	return rows, nil
}

// WriteModels prints the model catalog as a table.
func WriteModels(w io.Writer, rows []ModelRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tTYPE\tPARAMS (B)\tLAYERS\tKV HEADS\tMAX LEN\tSLIDING\tWEIGHTS")
	for _, r := range rows {
		sl, q := "-", "bf16"
		if r.SlidingLayers > 0 {
			sl = fmt.Sprintf("%d of %d layers, %d tokens", r.SlidingLayers, r.Layers, r.SlidingWindow)
		}
		if r.NativeQuantization != "" {
			q = r.NativeQuantization
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%d\t%d\t%d\t%s\t%s\n", r.ID, r.ModelType, r.ParamsB, r.Layers, r.KVHeads, r.MaxPosition, sl, q)
	}
	return tw.Flush()
}

// WriteGPUs prints the GPU catalog as a table.
func WriteGPUs(w io.Writer, gs []planner.GPU) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "GPU\tVENDOR\tMEMORY (GiB)\tBANDWIDTH (GB/s)\tBF16 TFLOPS\tFP8\tvLLM STACK")
	for _, g := range gs {
		stack := map[string]string{planner.VendorNVIDIA: "CUDA", planner.VendorAMD: "ROCm", planner.VendorIntel: "vllm-gaudi (not generated)"}[g.VendorKind()]
		fp8 := "no"
		if g.SupportsFP8() {
			fp8 = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.0f\t%.0f\t%s\t%s\n", g.Name, g.Vendor, g.MemoryGiB, g.MemBWGBs, g.BF16TFLOPS, fp8, stack)
	}
	return tw.Flush()
}
