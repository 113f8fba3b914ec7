package fit

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/planner"
)

// quantSuffix matches checkpoint-name parts that name a quantization, not an
// architecture ("-FP8", "-AWQ", "-GPTQ-Int4", "-FP8-KV", " FP8").
var quantSuffix = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)[-_ ](fp8(-kv)?|awq|gptq(-int[48])?|int[48]|w8a8|w4a16|bnb-4bit)$`)
})

var familyRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]+`) })

// MapModel finds the catalog model a measured model id stands for, in this
// order: the catalog's own lookup (id or alias, ignoring the organisation
// and an instruct/chat suffix); the same after dropping quantization
// suffixes and "-Instruct" ("neuralmagic/Meta-Llama-3.1-8B-FP8" →
// Llama-3.1-8B); else the catalog model of the same family (leading letters
// of the name, "meta-" dropped) whose parameter count is within 10 % of
// paramsB — e.g. Qwen2-7B → Qwen2.5-7B and Qwen2-72B → Qwen2.5-72B, which
// share layer counts, widths and KV heads. The second result says how.
func MapModel(id string, paramsB float64) (planner.ModelConfig, string, error) {
	if m, err := planner.LookupModel(id); err == nil {
		return m, "catalog", nil
	}
	n := strings.ToLower(strings.TrimSpace(id))
	if i := strings.LastIndex(n, "/"); i >= 0 {
		n = n[i+1:]
	}
	for {
		t := quantSuffix().ReplaceAllString(n, "")
		if t == n {
			break
		}
		n = t
	}
	n = strings.ReplaceAll(n, "-instruct", "")
	n = strings.ReplaceAll(n, " ", "-")
	if m, err := planner.LookupModel(n); err == nil {
		return m, "catalog after dropping quantization/instruct parts: " + n, nil
	}
	fam := family(n)
	if fam == "" || paramsB <= 0 {
		return planner.ModelConfig{}, "", fmt.Errorf("model %q is not in the catalog and has no family and size to match", id)
	}
	best, bestD := "", math.Inf(1)
	for _, cm := range planner.Models() {
		if family(strings.ToLower(shortModel(cm.ID))) != fam {
			continue
		}
		if cm.PublishedActiveParamsB > 0 && cm.PublishedActiveParamsB != cm.PublishedParamsB {
			continue // never stand a mixture of experts in for a dense model
		}
		d := math.Abs(cm.PublishedParamsB-paramsB) / paramsB
		if d <= 0.10 && d < bestD {
			best, bestD = cm.ID, d
		}
	}
	if best == "" {
		return planner.ModelConfig{}, "", fmt.Errorf("model %q (%.2fB) is not in the catalog and no %s model within 10 %% of its size is", id, paramsB, fam)
	}
	m, err := planner.LookupModel(best)
	if err != nil {
		return planner.ModelConfig{}, "", fmt.Errorf("map model %q: %w", id, err)
	}
	return m, fmt.Sprintf("same family and size: %s", best), nil
}

func family(n string) string {
	n = strings.TrimPrefix(n, "meta-")
	f := familyRe().FindString(n)
	if f == "qwq" {
		// QwQ-32B is a Qwen2.5-32B fine-tune (same config.json shape).
		return "qwen"
	}
	return f
}

// probeBaselines are any valid baselines: memory feasibility does not
// depend on them.
var probeBaselines = sync.OnceValue(func() *planner.Baselines {
	s, err := baselines.Embedded("seed")
	if err != nil {
		panic(err) // the baselines package tests that its embedded sets load
	}
	return &s.Baselines
})
