package planner

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// This file is the one place that turns user and data spellings of models,
// GPUs, interconnects and KV cache dtypes into catalog names, and that
// suggests the nearest known names for a typo. Every command, the importer
// and the fit go through it, so one typo gets one answer everywhere.

// SuggestCount is how many names an unknown model or GPU error lists.
const SuggestCount = 5

// NameError is an unknown model or GPU name with the known names nearest
// to it. errors.Is(err, ErrUnknownModel) (or ErrUnknownGPU) holds.
type NameError struct {
	// Kind is ErrUnknownModel or ErrUnknownGPU.
	Kind error
	// Name is the name as given.
	Name string
	// Closest are the nearest catalog names, nearest first; with Ambiguous,
	// the GPUs the name fits equally.
	Closest   []string
	Ambiguous bool
}

// ambiguousGPUs are names sold as several catalog GPUs, with those GPUs,
// the one a free-text import takes first. "A100 PCIe" came with 40 GB and
// 80 GB (the 40 GB card's entry is A100 40GB (SXM4)); the importers have
// always read a bare "A100 PCIe" as the 80 GB card, the one on sale since
// 2021, and LookupGPUText keeps that.
var ambiguousGPUs = map[string][]string{
	"a100 pcie": {"A100 80GB PCIe", "A100 40GB (SXM4)"},
}

func (e *NameError) Error() string {
	if e.Ambiguous {
		return fmt.Sprintf("GPU name %q is ambiguous: it is one of %s; name the one you mean", e.Name, strings.Join(e.Closest, ", "))
	}
	if len(e.Closest) == 0 {
		return fmt.Sprintf("%v %q", e.Kind, e.Name)
	}
	return fmt.Sprintf("%v %q; closest known: %s", e.Kind, e.Name, strings.Join(e.Closest, ", "))
}

func (e *NameError) Unwrap() error { return e.Kind }

// nameKey is one spelling (normalised) of a known name.
type nameKey struct{ key, name string }

// nameDistance is how far query q is from key k: the edit distance, or,
// when one contains the other, at most 1 plus a quarter of the length
// difference ("h100" is near "h100 sxm", "llama 3.1 8b" near "llama 3.1 8b v2").
func nameDistance(q, k string) int {
	d := EditDistance(q, k)
	if q != "" && k != "" && (strings.Contains(k, q) || strings.Contains(q, k)) {
		d = min(d, 1+abs(len(k)-len(q))/4)
	}
	return d
}

type ranked struct {
	name string
	d    int
}

// rank orders the names of keys by their nearest key's distance to q, then
// by name.
func rank(q string, keys []nameKey) []ranked {
	best := map[string]int{}
	for _, k := range keys {
		d := nameDistance(q, k.key)
		if old, ok := best[k.name]; !ok || d < old {
			best[k.name] = d
		}
	}
	out := make([]ranked, 0, len(best))
	for n, d := range best {
		out = append(out, ranked{n, d})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].d != out[j].d {
			return out[i].d < out[j].d
		}
		return out[i].name < out[j].name
	})
	return out
}

func firstNames(r []ranked, n int) []string {
	out := []string{}
	for i := 0; i < len(r) && i < n; i++ {
		out = append(out, r[i].name)
	}
	return out
}

// Suggest returns up to n of names nearest to q, nearest first (case is
// ignored).
func Suggest(q string, names []string, n int) []string {
	keys := make([]nameKey, len(names))
	for i, nm := range names {
		keys[i] = nameKey{strings.ToLower(nm), nm}
	}
	return firstNames(rank(strings.ToLower(strings.TrimSpace(q)), keys), n)
}

// DidYouMean returns the name nearest to q when it is a likely typo (within
// two edits), else "".
func DidYouMean(q string, names []string) string {
	keys := make([]nameKey, len(names))
	for i, nm := range names {
		keys[i] = nameKey{strings.ToLower(nm), nm}
	}
	if r := rank(strings.ToLower(strings.TrimSpace(q)), keys); len(r) > 0 && r[0].d <= 2 {
		return r[0].name
	}
	return ""
}

// didYouMean is DidYouMean as an error-message suffix.
func didYouMean(q string, names []string) string {
	if s := DidYouMean(q, names); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

// SuggestGPUs returns up to n catalog GPU names nearest to name, matching
// the catalog names and their aliases.
func SuggestGPUs(name string, n int) []string {
	c := loadCatalog()
	keys := make([]nameKey, 0, len(c.gpuIndex))
	for k, i := range c.gpuIndex {
		keys = append(keys, nameKey{k, c.gpus[i].Name})
	}
	return firstNames(rank(normGPU(name), keys), n)
}

// SuggestModels returns up to n catalog model ids nearest to id, matching
// ids and aliases without their organisation and instruct/chat suffix.
func SuggestModels(id string, n int) []string {
	c := loadCatalog()
	var keys []nameKey
	for _, m := range c.models {
		for _, a := range append([]string{m.ID}, m.Aliases...) {
			keys = append(keys, nameKey{modelBase(a), m.ID})
		}
	}
	return firstNames(rank(modelBase(id), keys), n)
}

// modelBase is a model name without organisation and instruct/chat suffix,
// lower-cased: the part a typo is compared on.
func modelBase(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.LastIndex(s, "/"); i >= 0 {
		s = s[i+1:]
	}
	for _, suf := range []string{"-instruct", "-chat-hf", "-chat", "-it", "-hf"} {
		s = strings.TrimSuffix(s, suf)
	}
	return s
}

// LookupGPU finds a GPU by catalog name or alias (case, spaces, dashes and a
// leading "NVIDIA"/"GeForce" are ignored), or by a free-text description as
// benchmark write-ups give it (matchGPUText). An unknown name is a
// *NameError listing the closest known names.
func LookupGPU(name string) (GPU, error) {
	c := loadCatalog()
	if c.err != nil {
		return GPU{}, c.err
	}
	if i, ok := c.gpuIndex[normGPU(name)]; ok {
		return c.gpus[i], nil
	}
	if cands, ok := ambiguousGPUs[normGPU(name)]; ok {
		return GPU{}, &NameError{Kind: ErrUnknownGPU, Name: name, Closest: cands, Ambiguous: true}
	}
	if i, ok := c.matchGPUText(name); ok {
		return c.gpus[i], nil
	}
	return GPU{}, &NameError{Kind: ErrUnknownGPU, Name: name, Closest: SuggestGPUs(name, SuggestCount)}
}

// LookupGPUText is LookupGPU for names read from data (benchmark records,
// write-ups): an ambiguous name resolves to the GPU the importers have
// always taken for it (ambiguousGPUs) instead of an error.
func LookupGPUText(text string) (GPU, error) {
	g, err := LookupGPU(text)
	var ne *NameError
	if errors.As(err, &ne) && ne.Ambiguous {
		return LookupGPU(ne.Closest[0])
	}
	return g, err
}

// GPUName returns the catalog name of the GPU that name names, or name as
// given (trimmed) with LookupGPU's error when the catalog lacks it.
func GPUName(name string) (string, error) {
	g, err := LookupGPU(name)
	if err != nil {
		return strings.TrimSpace(name), err
	}
	return g.Name, nil
}

// DescribeGPU is the GPU a user describes by name and, optionally, memory
// and bandwidth: the catalog's entry with memory (vramGB) and bandwidth
// (memBWGBs) replaced where given (> 0), or, for a name the catalog lacks,
// a custom GPU of vramGB. Without vramGB an unknown name is LookupGPU's
// error.
func DescribeGPU(name string, vramGB, memBWGBs float64) (GPU, error) {
	g, err := LookupGPU(name)
	if err != nil {
		if vramGB <= 0 {
			return GPU{}, err
		}
		return GPU{Name: name, MemoryGiB: vramGB, MemBWGBs: memBWGBs, Custom: true}, nil
	}
	if vramGB > 0 {
		g.MemoryGiB = vramGB
	}
	if memBWGBs > 0 {
		g.MemBWGBs = memBWGBs
	}
	return g, nil
}

var memSizeRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)\b(\d+)\s*GB\b`) })

// matchGPUText finds the GPU a free-text description names. The text before
// any parenthesis names the GPU; a memory size in the parenthesis may settle
// the variant ("A100 (… Polaris nodes are A100-SXM4-40GB)" → "A100 40GB");
// a memory size the catalog name leaves out must be the GPU's own ("H100 SXM
// 80GB" → H100 SXM, "RTX 4090 24GB" → RTX 4090).
func (c *catalog) matchGPUText(text string) (int, bool) {
	head, paren, _ := strings.Cut(text, "(")
	if strings.TrimSpace(head) == "" {
		return 0, false
	}
	headSizes := memSizeRe().FindAllStringSubmatch(head, -1)
	var tries []string
	if len(headSizes) == 0 {
		for _, m := range memSizeRe().FindAllStringSubmatch(paren, -1) {
			tries = append(tries, head+" "+m[1]+"GB")
		}
	}
	tries = append(tries, head)
	for _, t := range tries {
		if i, ok := c.gpuIndex[normGPU(t)]; ok {
			return i, true
		}
	}
	if len(headSizes) == 1 {
		size, _ := strconv.ParseFloat(headSizes[0][1], 64)
		i, ok := c.gpuIndex[normGPU(memSizeRe().ReplaceAllString(head, " "))]
		if ok && math.Round(c.gpus[i].MemoryGiB) == size {
			return i, true
		}
	}
	return 0, false
}

// LookupModel finds a catalog model by id or alias. Base and instruct/chat
// ids of one architecture resolve to the same entry; matching ignores case
// and the organisation prefix. An unknown id is a *NameError listing the
// closest catalog ids.
func LookupModel(id string) (ModelConfig, error) {
	c := loadCatalog()
	if c.err != nil {
		return ModelConfig{}, c.err
	}
	for _, k := range modelKeys(id) {
		if i, ok := c.modelIndex[k]; ok {
			return c.parsed[i], nil
		}
	}
	return ModelConfig{}, &NameError{Kind: ErrUnknownModel, Name: id, Closest: SuggestModels(id, SuggestCount)}
}

// NormalizeInterconnect maps a spelling ("nvlink", "sxm", "pci-e", …) or a
// free-text description ("SXM4 NVLink (Polaris node)", "PCIe Gen4") of a
// GPU interconnect to nvlink (NVLink, NVSwitch, SXM boards, or AMD Infinity
// Fabric/xGMI: a GPU-to-GPU scale-up fabric), pcie, or unknown ("" too).
func NormalizeInterconnect(s string) (string, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	switch l {
	case "nvlink", "nvswitch", "sxm", "xgmi", "infinity-fabric":
		return InterconnectNVLink, nil
	case "pcie", "pci", "pci-e":
		return InterconnectPCIe, nil
	case "", "unknown":
		return InterconnectUnknown, nil
	}
	w := strings.NewReplacer("-", " ", "_", " ").Replace(l)
	// A denial names the link it denies ("PCIe (g5, no NVLink)").
	for _, neg := range []string{"no ", "without ", "not "} {
		for _, f := range []string{"nvlink", "nvswitch", "infinity fabric", "xgmi"} {
			w = strings.ReplaceAll(w, neg+f, "")
		}
	}
	for _, f := range []string{"nvlink", "nvswitch", "sxm", "infinity fabric", "xgmi"} {
		if strings.Contains(w, f) {
			return InterconnectNVLink, nil
		}
	}
	if strings.Contains(w, "pcie") || strings.Contains(w, "pci e") {
		return InterconnectPCIe, nil
	}
	return "", fmt.Errorf("unknown interconnect %q%s; use nvlink, pcie or unknown", s, didYouMean(l, Interconnects))
}

// EditDistance is the Levenshtein distance between two strings (bytes), used
// to suggest the closest known name for a typo.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
