package sweep

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/planner/deploy"
)

// ErrBadGrid marks a grid the sweep cannot run: a bad value on an axis, an
// unknown key in the grid file, an unknown model or GPU.
var ErrBadGrid = errors.New("bad grid")

// Limits of the axis values, the planner's own.
const (
	MaxTP          = 1024
	MaxPP          = 256
	MaxGPUCount    = 1024
	MaxContext     = 1 << 24
	MaxConcurrency = 1 << 20
	MaxTokens      = 1 << 24
	// MaxPoints bounds a grid's size (about 10¹⁵ points).
	MaxPoints = int64(1) << 50
)

// Grid is a sweep's description: the axes whose cartesian product is the set
// of points, and the settings every point shares. It is what a grid file
// holds; empty optional axes take DefaultGrid's values.
type Grid struct {
	// Models are catalog model ids or aliases.
	Models []string `yaml:"models"`
	// GPUs are catalog GPU names or aliases, or names of CustomGPUs.
	GPUs []string `yaml:"gpus"`
	// TP are tensor-parallel sizes.
	TP []int `yaml:"tp"`
	// PP are pipeline-parallel stage counts (empty = 1): a replica is
	// TP × PP GPUs, TP inside a node, stages across nodes over the
	// workload's scale-out link (planner/deploy).
	PP []int `yaml:"pp"`
	// Contexts are max model lengths ("4k" = 4096).
	Contexts []Tokens `yaml:"contexts"`
	// Quantizations are weight quantizations; "auto" is the checkpoint's own.
	Quantizations []string `yaml:"quantizations"`
	// GPUCounts are the GPUs available per point; empty = each TP's own size.
	GPUCounts []int `yaml:"gpu_counts"`
	// KVCacheDtypes are KV cache dtypes (default auto).
	KVCacheDtypes []string `yaml:"kv_cache_dtypes"`
	// Concurrency are the concurrent sequences per replica (default 1).
	Concurrency []int `yaml:"concurrency"`
	// PromptTokens are prompt lengths (default 512).
	PromptTokens []Tokens `yaml:"prompt_tokens"`
	// GenTokens are generated lengths (default 256).
	GenTokens []Tokens `yaml:"gen_tokens"`
	// Interconnects are nvlink, pcie, unknown or auto (the GPU's usual one).
	Interconnects []string `yaml:"interconnect"`
	// Policy holds the memory policy every point uses.
	Policy PolicySpec `yaml:"policy"`
	// Baselines names an embedded baselines set or a file ("" = default).
	Baselines string `yaml:"baselines"`
	// Prices is a CSV file of GPU prices (gpu,usd_per_gpu_hour).
	Prices string `yaml:"prices"`
	// CustomGPUs describe GPUs that are not in the catalog.
	CustomGPUs []CustomGPU `yaml:"custom_gpus"`
	// Workload, SLO and Target make every row a deployment (sweep/deploy.go).
	Workload *WorkloadSpec `yaml:"workload"`
	SLO      *deploy.SLO   `yaml:"slo"`
	Target   *TargetSpec   `yaml:"target"`
}

// DefaultGrid holds the defaults of the optional axes.
var DefaultGrid = Grid{
	Quantizations: []string{"auto"},
	KVCacheDtypes: []string{"auto"},
	Concurrency:   []int{1},
	PromptTokens:  []Tokens{512},
	GenTokens:     []Tokens{256},
	Interconnects: []string{"auto"},
}

// PolicySpec is the grid file's memory policy; unset fields keep
// planner.DefaultPolicy's values.
type PolicySpec struct {
	GPUMemoryUtilization *float64 `yaml:"gpu_memory_utilization"`
	OverheadGB           *float64 `yaml:"overhead_gb"`
	FragmentationFactor  *float64 `yaml:"fragmentation_factor"`
	HeadroomGB           *float64 `yaml:"headroom_gb"`
}

// Policy returns the planner policy the spec describes.
func (p PolicySpec) Policy() planner.Policy {
	pol := planner.DefaultPolicy
	if p.GPUMemoryUtilization != nil {
		pol.GPUMemoryUtilization = *p.GPUMemoryUtilization
	}
	if p.OverheadGB != nil {
		pol.OverheadGB = *p.OverheadGB
	}
	if p.FragmentationFactor != nil {
		pol.FragmentationFactor = *p.FragmentationFactor
	}
	if p.HeadroomGB != nil {
		pol.HeadroomGB = *p.HeadroomGB
	}
	return pol
}

// CustomGPU describes a GPU that is not in the catalog.
type CustomGPU struct {
	Name       string  `yaml:"name"`
	VRAMGB     float64 `yaml:"vram_gb"`
	MemBWGBs   float64 `yaml:"mem_bw_gb_s"`
	BF16TFLOPS float64 `yaml:"bf16_tflops"`
	USDPerHour float64 `yaml:"usd_per_hour"`
	// PCIeP2P false says its cards cannot reach each other's memory over
	// PCIe (GeForce, some cloud instances); absent means they can.
	PCIeP2P *bool `yaml:"pcie_p2p"`
}

// GPU returns the planner GPU of the description.
func (c CustomGPU) GPU() planner.GPU {
	g := planner.GPU{Name: c.Name, MemoryGiB: c.VRAMGB, MemBWGBs: c.MemBWGBs, BF16TFLOPS: c.BF16TFLOPS, PriceUSDPerHour: c.USDPerHour, Custom: true}
	if c.PCIeP2P != nil {
		g.NoPCIeP2P, g.PCIeP2PSource = !*c.PCIeP2P, "custom_gpus pcie_p2p"
	}
	return g
}

// Tokens is a token count written as a number or with a k (×1024) or m
// (×1024²) suffix: 4k, 32K, 131072, 1m.
type Tokens int

// ParseTokens parses a token count ("4k" = 4096) with planner.ParseSize.
func ParseTokens(s string) (Tokens, error) {
	n, err := planner.ParseSize(s)
	return Tokens(n), err
}

// UnmarshalYAML reads a token count from a YAML scalar.
func (t *Tokens) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a token count like 4096 or 4k", n.Line)
	}
	v, err := ParseTokens(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*t = v
	return nil
}

// ParseGrid reads a grid file (YAML). Unknown keys and values of the wrong
// type are errors that name the key and line.
func ParseGrid(data []byte) (Grid, error) {
	var g Grid
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return Grid{}, fmt.Errorf("%w: the grid file is empty", ErrBadGrid)
		}
		return Grid{}, fmt.Errorf("%w: %w", ErrBadGrid, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Grid{}, fmt.Errorf("%w: the grid file holds more than one YAML document", ErrBadGrid)
	}
	// yaml.v3 truncates 2.7 to 2 when it decodes into an int and accepts
	// .nan and .inf for floats; strictScalars refuses both first.
	if err := strictScalars(&doc, reflect.TypeOf(g), map[*yaml.Node]bool{}); err != nil {
		return Grid{}, fmt.Errorf("%w: %w", ErrBadGrid, err)
	}
	// A yaml.Node cannot decode with KnownFields, so the bytes decode again.
	dec = yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&g); err != nil {
		return Grid{}, fmt.Errorf("%w: %w", ErrBadGrid, err)
	}
	return g, nil
}

// strictScalars walks n alongside the Go type it decodes into and refuses a
// non-integer scalar where an integer goes and NaN or ±Inf where a float
// goes, naming the line. Other mismatches are left to the decoder, which
// reports them with their line too. seen stops alias cycles.
func strictScalars(n *yaml.Node, t reflect.Type, seen map[*yaml.Node]bool) error {
	if seen[n] {
		return nil
	}
	seen[n] = true
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
	case yaml.DocumentNode, yaml.AliasNode:
		for _, c := range n.Content {
			if err := strictScalars(c, t, seen); err != nil {
				return err
			}
		}
		if n.Alias != nil {
			return strictScalars(n.Alias, t, seen)
		}
	case yaml.SequenceNode:
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return nil
		}
		for _, c := range n.Content {
			if err := strictScalars(c, t.Elem(), seen); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		if t.Kind() != reflect.Struct {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if f, ok := fieldByYAMLKey(t, n.Content[i].Value); ok {
				if err := strictScalars(n.Content[i+1], f.Type, seen); err != nil {
					return err
				}
			}
		}
	case yaml.ScalarNode:
		if t.Implements(yamlUnmarshaler) || reflect.PointerTo(t).Implements(yamlUnmarshaler) {
			return nil // the type checks its own scalars (Tokens)
		}
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if n.ShortTag() == "!!float" {
				return fmt.Errorf("line %d: %q is not a whole number", n.Line, n.Value)
			}
		case reflect.Float32, reflect.Float64:
			// YAML spells them .nan, .inf, -.inf (any case); a finite float
			// holds neither word.
			if l := strings.ToLower(n.Value); n.ShortTag() == "!!float" && (strings.Contains(l, "nan") || strings.Contains(l, "inf")) {
				return fmt.Errorf("line %d: %q is not a finite number", n.Line, n.Value)
			}
		}
	}
	return nil
}

var yamlUnmarshaler = reflect.TypeFor[yaml.Unmarshaler]()

// fieldByYAMLKey finds the struct field a mapping key decodes into.
func fieldByYAMLKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if name == key && f.IsExported() {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// WithDefaults returns g with DefaultGrid's values on its empty optional axes.
func (g Grid) WithDefaults() Grid {
	d := DefaultGrid
	if len(g.Quantizations) == 0 {
		g.Quantizations = d.Quantizations
	}
	if len(g.KVCacheDtypes) == 0 {
		g.KVCacheDtypes = d.KVCacheDtypes
	}
	if len(g.Concurrency) == 0 {
		g.Concurrency = d.Concurrency
	}
	if len(g.PromptTokens) == 0 {
		g.PromptTokens = d.PromptTokens
	}
	if len(g.GenTokens) == 0 {
		g.GenTokens = d.GenTokens
	}
	if len(g.Interconnects) == 0 {
		g.Interconnects = d.Interconnects
	}
	return g
}

// Normalize validates the axis values of g (after WithDefaults) and returns
// g with the spellings normalized (quantizations, dtypes, interconnects).
// Errors name the axis and the bad value. Models and GPUs are checked when
// the grid is resolved (NewSpace).
func (g Grid) Normalize() (Grid, error) {
	g = g.WithDefaults()
	bad := func(axis, format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrBadGrid, axis, fmt.Sprintf(format, a...))
	}
	if len(g.Models) == 0 {
		return g, bad("models", "no models; list catalog model ids (vllm-wizard models lists them)")
	}
	if len(g.GPUs) == 0 {
		return g, bad("gpus", "no GPUs; list catalog GPU names or custom_gpus")
	}
	if len(g.TP) == 0 {
		return g, bad("tp", "no tensor-parallel sizes; e.g. tp: [1, 2, 4, 8]")
	}
	if len(g.Contexts) == 0 {
		return g, bad("contexts", "no context lengths; e.g. contexts: [4k, 32k]")
	}
	if err := checkStrings("models", g.Models); err != nil {
		return g, err
	}
	if err := checkStrings("gpus", g.GPUs); err != nil {
		return g, err
	}
	if err := checkInts("tp", g.TP, 1, MaxTP); err != nil {
		return g, err
	}
	if err := checkInts("pp", g.PP, 1, MaxPP); err != nil {
		return g, err
	}
	if err := checkInts("gpu_counts", g.GPUCounts, 1, MaxGPUCount); err != nil {
		return g, err
	}
	if err := checkInts("concurrency", g.Concurrency, 1, MaxConcurrency); err != nil {
		return g, err
	}
	if err := checkInts("contexts", tokensInts(g.Contexts), 1, MaxContext); err != nil {
		return g, err
	}
	if err := checkInts("prompt_tokens", tokensInts(g.PromptTokens), 0, MaxTokens); err != nil {
		return g, err
	}
	if err := checkInts("gen_tokens", tokensInts(g.GenTokens), 0, MaxTokens); err != nil {
		return g, err
	}
	var err error
	if g.Quantizations, err = normalizeAll("quantizations", g.Quantizations, func(s string) (string, error) {
		if strings.EqualFold(strings.TrimSpace(s), "auto") {
			return "auto", nil
		}
		return planner.NormalizeQuantization(s)
	}); err != nil {
		return g, err
	}
	if g.KVCacheDtypes, err = normalizeAll("kv_cache_dtypes", g.KVCacheDtypes, planner.NormalizeKVCacheDtype); err != nil {
		return g, err
	}
	if g.Interconnects, err = normalizeAll("interconnect", g.Interconnects, func(s string) (string, error) {
		if t := strings.ToLower(strings.TrimSpace(s)); t == "auto" || t == "" {
			return "auto", nil
		}
		return planner.NormalizeInterconnect(s)
	}); err != nil {
		return g, err
	}
	if err := g.normalizeDeploy(); err != nil {
		return g, err
	}
	if err := g.Policy.Policy().Validate(); err != nil {
		return g, bad("policy", "%v", err)
	}
	seen := map[string]bool{}
	for i, c := range g.CustomGPUs {
		name := strings.TrimSpace(c.Name)
		switch {
		case name == "":
			return g, bad("custom_gpus", "entry %d has no name", i+1)
		case seen[strings.ToLower(name)]:
			return g, bad("custom_gpus", "%q is listed twice", name)
		case !(c.VRAMGB > 0 && c.VRAMGB <= 1<<20):
			return g, bad("custom_gpus", "%q: vram_gb %v must be > 0", name, c.VRAMGB)
		case c.MemBWGBs < 0 || c.BF16TFLOPS < 0 || c.USDPerHour < 0:
			return g, bad("custom_gpus", "%q: mem_bw_gb_s, bf16_tflops and usd_per_hour must be ≥ 0", name)
		}
		seen[strings.ToLower(name)] = true
		g.CustomGPUs[i].Name = name
	}
	if _, err := g.pointCount(); err != nil {
		return g, err
	}
	return g, nil
}

func tokensInts(ts []Tokens) []int {
	out := make([]int, len(ts))
	for i, t := range ts {
		out[i] = int(t)
	}
	return out
}

func checkInts(axis string, vs []int, lo, hi int) error {
	seen := map[int]bool{}
	for _, v := range vs {
		if v < lo || v > hi {
			return fmt.Errorf("%w: %s: value %d must be between %d and %d", ErrBadGrid, axis, v, lo, hi)
		}
		if seen[v] {
			return fmt.Errorf("%w: %s: value %d is listed twice", ErrBadGrid, axis, v)
		}
		seen[v] = true
	}
	return nil
}

func checkStrings(axis string, vs []string) error {
	seen := map[string]bool{}
	for _, v := range vs {
		k := strings.ToLower(strings.TrimSpace(v))
		if k == "" {
			return fmt.Errorf("%w: %s: empty value", ErrBadGrid, axis)
		}
		if seen[k] {
			return fmt.Errorf("%w: %s: %q is listed twice", ErrBadGrid, axis, v)
		}
		seen[k] = true
	}
	return nil
}

func normalizeAll(axis string, vs []string, norm func(string) (string, error)) ([]string, error) {
	out := make([]string, 0, len(vs))
	seen := map[string]bool{}
	for _, v := range vs {
		n, err := norm(v)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrBadGrid, axis, err)
		}
		if seen[n] {
			return nil, fmt.Errorf("%w: %s: %q repeats %q", ErrBadGrid, axis, v, n)
		}
		seen[n] = true
		out = append(out, n)
	}
	return out, nil
}

// pointCount is the product of the axis lengths, or an error when it
// exceeds MaxPoints.
func (g *Grid) pointCount() (int64, error) {
	lens := []int{len(g.Models), len(g.GPUs), max(len(g.GPUCounts), 1), len(g.TP), max(len(g.PP), 1), len(g.Contexts), len(g.Quantizations),
		len(g.KVCacheDtypes), len(g.Interconnects), len(g.Concurrency), len(g.PromptTokens), len(g.GenTokens)}
	n := int64(1)
	for _, l := range lens {
		if l == 0 {
			return 0, nil
		}
		if n > MaxPoints/int64(l) {
			return 0, fmt.Errorf("%w: more than %d points; split it or use --shard", ErrBadGrid, MaxPoints)
		}
		n *= int64(l)
	}
	return n, nil
}
