package planner

import (
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// ErrUnknownGPU is returned when a GPU name is not in the catalog.
var ErrUnknownGPU = errors.New("unknown GPU")

// ErrUnknownModel is returned when a model id is not in the catalog.
var ErrUnknownModel = errors.New("unknown model")

//go:embed catalog/gpus.csv
var gpusCSV []byte

//go:embed catalog/gpu-prices.csv
var gpuPricesCSV []byte

//go:embed catalog/gpu_aliases.csv
var gpuAliasesCSV []byte

//go:embed catalog/models.json
var modelsJSON []byte

// GPU describes one accelerator model. Memory is per GPU.
type GPU struct {
	Name              string  `json:"name"`
	Vendor            string  `json:"vendor,omitempty"`
	Architecture      string  `json:"architecture,omitempty"`
	MemoryGiB         float64 `json:"memory_gib"`
	MemoryType        string  `json:"memory_type,omitempty"`
	MemBWGBs          float64 `json:"mem_bw_gb_s,omitempty"`
	BF16TFLOPS        float64 `json:"bf16_dense_tflops,omitempty"`
	FP8TFLOPS         float64 `json:"fp8_dense_tflops,omitempty"`
	INT8TOPS          float64 `json:"int8_dense_tops,omitempty"`
	ComputeCapability string  `json:"compute_capability,omitempty"`
	ScaleUpLink       string  `json:"scaleup_link,omitempty"`
	ScaleUpBWGBs      float64 `json:"scaleup_bw_gb_s,omitempty"`
	PCIeGen           string  `json:"pcie_gen,omitempty"`
	TDPW              string  `json:"tdp_w,omitempty"`
	FP4TFLOPS         float64 `json:"fp4_dense_tflops,omitempty"`
	// TDPWatts is the leading number of TDPW (0 = not published).
	TDPWatts        float64 `json:"tdp_watts,omitempty"`
	PriceUSDPerHour float64 `json:"usd_per_gpu_hour,omitempty"`
	PriceSource     string  `json:"price_source,omitempty"`
	// PurchaseUSD is a list price of one GPU (0 = unknown), for owned cost.
	PurchaseUSD    float64 `json:"purchase_usd_per_gpu,omitempty"`
	PurchaseSource string  `json:"purchase_source,omitempty"`
	SpecSource     string  `json:"spec_source,omitempty"`
	// Consumer marks GeForce/RTX/Titan cards (vLLM leaves them more slack).
	Consumer bool `json:"consumer,omitempty"`
	// NoPCIeP2P marks a GPU model whose cards in one server cannot reach
	// each other's memory over PCIe (the catalog's pcie_p2p column "no");
	// the zero value, peer access, is what a GPU described on the command
	// line gets unless it says otherwise. PCIeP2PSource says why.
	NoPCIeP2P     bool   `json:"no_pcie_p2p,omitempty"`
	PCIeP2PSource string `json:"pcie_p2p_source,omitempty"`
	// Custom marks a GPU described on the command line, not from the catalog.
	Custom bool `json:"custom,omitempty"`
}

// CC returns the compute capability as a number (8.9, 9.0), or 0 when unknown.
func (g *GPU) CC() float64 {
	f, _ := strconv.ParseFloat(g.ComputeCapability, 64)
	return f
}

// SupportsFP8 reports whether the GPU has FP8 tensor cores (compute
// capability ≥ 8.9 on NVIDIA, or a listed FP8 rate).
func (g *GPU) SupportsFP8() bool {
	if g.Vendor == "NVIDIA" || g.Vendor == "" {
		return g.CC() >= 8.9
	}
	return g.FP8TFLOPS > 0
}

// PCIePeerAccess says GPUs of this model in one server reach each other's
// memory over PCIe (CUDA peer-to-peer): the catalog's pcie_p2p column,
// with its source in PCIeP2PSource. GeForce cards do not (NCCL's
// maintainer in NVIDIA/nccl-tests#287, 2025-02-20), nor do the cloud A10G
// and L4 (vllm-project/vllm PR #2192, 2024-01-27); without it vLLM's
// custom all-reduce turns itself off (vllm/distributed/device_communicators/
// custom_all_reduce.py, v0.4–v0.11) and NCCL stages every transfer through
// host memory.
func (g *GPU) PCIePeerAccess() bool { return !g.NoPCIeP2P }

// DefaultInterconnect is the link a multi-GPU server of this model usually
// has: nvlink for SXM/OAM/NVL72 parts with a full scale-up fabric, pcie for
// cards, unknown for custom GPUs.
func (g *GPU) DefaultInterconnect() string {
	if g.Custom {
		return InterconnectUnknown
	}
	l := strings.ToLower(g.ScaleUpLink)
	switch {
	case strings.Contains(l, "bridge"), l == "", strings.Contains(l, "none"), strings.Contains(l, "pcie"):
		return InterconnectPCIe
	case strings.Contains(l, "nvlink"), strings.Contains(l, "infinity"), strings.Contains(l, "roce"), strings.Contains(l, "ethernet"):
		return InterconnectNVLink
	}
	return InterconnectUnknown
}

// CatalogModel is one entry of the embedded model catalog.
type CatalogModel struct {
	ID                     string          `json:"id"`
	Aliases                []string        `json:"aliases"`
	PublishedParamsB       float64         `json:"published_params_b"`
	PublishedActiveParamsB float64         `json:"published_active_params_b"`
	Source                 string          `json:"source"`
	Config                 json.RawMessage `json:"config"`
}

type catalog struct {
	gpus       []GPU
	gpuIndex   map[string]int
	prices     map[string]PriceStats
	models     []CatalogModel
	parsed     []ModelConfig
	modelIndex map[string]int
	err        error
}

// The catalogs come from the embedded files, turned into Go data at build
// time (catalog_gen.go, written by parseCatalog: go generate ./planner), so
// a command pays for no CSV or JSON decoding at start; loading builds the
// name indices from the generated keys.
//
//go:generate go test -run ^TestCatalogGenerated$ -update .
var loadCatalog = sync.OnceValue(func() *catalog {
	c := &catalog{gpus: genGPUs, prices: make(map[string]PriceStats, len(genPrices)), models: make([]CatalogModel, len(genModels)),
		parsed: genParsed, gpuIndex: make(map[string]int, len(genGPUKeys)), modelIndex: make(map[string]int, len(genModelKeys))}
	for _, p := range genPrices {
		c.prices[p.gpu] = p.stats
	}
	for i, m := range genModels {
		c.models[i] = CatalogModel{ID: m.id, Aliases: m.aliases, PublishedParamsB: m.paramsB, PublishedActiveParamsB: m.activeParamsB,
			Source: m.source, Config: json.RawMessage(modelsJSON[m.config[0]:m.config[1]:m.config[1]])}
	}
	for _, k := range genGPUKeys {
		c.gpuIndex[k.key] = k.idx
	}
	for _, k := range genModelKeys {
		c.modelIndex[k.key] = k.idx
	}
	return c
})

// parseCatalog reads the embedded catalog files: the source of
// catalog_gen.go, which TestCatalogGenerated holds equal to it.
func parseCatalog() *catalog {
	c := &catalog{gpuIndex: map[string]int{}, modelIndex: map[string]int{}}
	if err := c.loadGPUs(); err != nil {
		c.err = err
		return c
	}
	if err := c.loadModels(); err != nil {
		c.err = err
	}
	return c
}

// CatalogError reports a problem with the embedded catalog files (a test
// asserts nil).
func CatalogError() error { return parseCatalog().err }

// catalogKey is a name index entry of the generated catalog.
type catalogKey struct {
	key string
	idx int
}

// genModel is a model catalog entry of the generated catalog; config is the
// span of its Hugging Face config in modelsJSON.
type genModel struct {
	id                     string
	aliases                []string
	paramsB, activeParamsB float64
	source                 string
	config                 [2]int
}

// genPrice is a GPU's listing statistics in the generated catalog.
type genPrice struct {
	gpu   string
	stats PriceStats
}

func (c *catalog) loadGPUs() error {
	recs, err := csv.NewReader(strings.NewReader(string(gpusCSV))).ReadAll()
	if err != nil {
		return fmt.Errorf("gpu catalog: %w", err)
	}
	if len(recs) < 2 {
		return errors.New("gpu catalog: empty")
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	get := func(r []string, name string) string {
		if i, ok := col[name]; ok && i < len(r) {
			return strings.TrimSpace(r[i])
		}
		return ""
	}
	prices, err := parsePriceListings(gpuPricesCSV)
	if err != nil {
		return err
	}
	c.prices = prices
	for _, r := range recs[1:] {
		g := GPU{
			Name:              get(r, "gpu"),
			Vendor:            get(r, "vendor"),
			Architecture:      get(r, "architecture"),
			MemoryGiB:         leadingNumber(get(r, "memory_gb_as_sold")),
			MemoryType:        get(r, "memory_type"),
			MemBWGBs:          leadingNumber(get(r, "mem_bw_gb_s")),
			BF16TFLOPS:        leadingNumber(get(r, "bf16_fp16_dense_tflops")),
			FP8TFLOPS:         leadingNumber(get(r, "fp8_dense_tflops")),
			INT8TOPS:          leadingNumber(get(r, "int8_dense_tops")),
			ComputeCapability: get(r, "compute_capability"),
			ScaleUpLink:       get(r, "scaleup_link"),
			ScaleUpBWGBs:      leadingNumber(get(r, "scaleup_bw_gb_s_per_gpu")),
			PCIeGen:           get(r, "pcie_gen"),
			TDPW:              get(r, "tdp_w"),
			FP4TFLOPS:         statedNumber(get(r, "fp4_dense_tflops")),
			TDPWatts:          leadingNumber(get(r, "tdp_w")),
			PurchaseUSD:       leadingNumber(get(r, "purchase_usd_per_gpu")),
			SpecSource:        get(r, "spec_source"),
		}
		if g.PurchaseUSD > 0 {
			g.PurchaseSource = get(r, "purchase_source_date")
		}
		switch p2p := get(r, "pcie_p2p"); p2p {
		case "yes", "no":
			g.NoPCIeP2P, g.PCIeP2PSource = p2p == "no", get(r, "pcie_p2p_source")
		default:
			return fmt.Errorf("gpu catalog: %s: pcie_p2p %q, want yes or no", g.Name, p2p)
		}
		if g.PCIeP2PSource == "" {
			return fmt.Errorf("gpu catalog: %s: pcie_p2p has no pcie_p2p_source", g.Name)
		}
		if st, ok := prices[g.Name]; ok {
			g.PriceUSDPerHour, g.PriceSource = st.Median, st.source()
		}
		n := strings.ToLower(g.Name)
		g.Consumer = strings.HasPrefix(n, "rtx 3") || strings.HasPrefix(n, "rtx 4") || strings.HasPrefix(n, "rtx 5") || strings.Contains(n, "geforce") || strings.Contains(n, "titan")
		if g.Name == "" || g.MemoryGiB <= 0 {
			return fmt.Errorf("gpu catalog: row %q has no name or memory", strings.Join(r, ","))
		}
		c.gpus = append(c.gpus, g)
		if err := c.addGPUKey(g.Name, len(c.gpus)-1); err != nil {
			return err
		}
	}
	aliases, err := csv.NewReader(strings.NewReader(string(gpuAliasesCSV))).ReadAll()
	if err != nil {
		return fmt.Errorf("gpu aliases: %w", err)
	}
	for i, r := range aliases {
		if i == 0 || len(r) < 2 {
			continue
		}
		idx, ok := c.gpuIndex[normGPU(r[1])]
		if !ok {
			return fmt.Errorf("gpu aliases: %q maps to unknown gpu %q", r[0], r[1])
		}
		if err := c.addGPUKey(r[0], idx); err != nil {
			return err
		}
	}
	return nil
}

func (c *catalog) addGPUKey(name string, idx int) error {
	k := normGPU(name)
	if old, ok := c.gpuIndex[k]; ok && old != idx {
		return fmt.Errorf("gpu catalog: name %q maps to both %q and %q", name, c.gpus[old].Name, c.gpus[idx].Name)
	}
	c.gpuIndex[k] = idx
	return nil
}

func (c *catalog) loadModels() error {
	var f struct {
		Models []CatalogModel `json:"models"`
	}
	if err := json.Unmarshal(modelsJSON, &f); err != nil {
		return fmt.Errorf("model catalog: %w", err)
	}
	for _, cm := range f.Models {
		m, err := ParseConfig(cm.Config)
		if err != nil {
			return fmt.Errorf("model catalog %s: %w", cm.ID, err)
		}
		m.ID = cm.ID
		c.models = append(c.models, cm)
		c.parsed = append(c.parsed, m)
		idx := len(c.models) - 1
		for _, name := range append([]string{cm.ID}, cm.Aliases...) {
			for _, k := range modelKeys(name) {
				if old, ok := c.modelIndex[k]; ok && old != idx {
					return fmt.Errorf("model catalog: %q names both %s and %s", name, c.models[old].ID, cm.ID)
				}
				c.modelIndex[k] = idx
			}
		}
	}
	return nil
}

// GPUs returns the GPU catalog in its file order.
func GPUs() []GPU {
	c := loadCatalog()
	return append([]GPU(nil), c.gpus...)
}

// Models returns the model catalog entries.
func Models() []CatalogModel {
	c := loadCatalog()
	return append([]CatalogModel(nil), c.models...)
}

// CatalogModelIDs lists the catalog ids, sorted.
func CatalogModelIDs() []string {
	c := loadCatalog()
	ids := make([]string, 0, len(c.models))
	for _, m := range c.models {
		ids = append(ids, m.ID)
	}
	sort.Strings(ids)
	return ids
}

// modelKeys returns the lookup keys of a model name: the lower-cased id and
// the id without its organisation, each also without an instruct/chat suffix.
func modelKeys(id string) []string {
	s := strings.ToLower(strings.TrimSpace(id))
	keys := []string{s}
	if i := strings.LastIndex(s, "/"); i >= 0 {
		keys = append(keys, s[i+1:])
	}
	for _, k := range keys[:len(keys):len(keys)] {
		for _, suf := range []string{"-instruct", "-chat", "-it", "-hf", "-chat-hf"} {
			if strings.HasSuffix(k, suf) {
				keys = append(keys, strings.TrimSuffix(k, suf))
			}
		}
	}
	return keys
}

func normGPU(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("-", " ", "_", " ", "(", " ", ")", " ", ",", " ").Replace(s)
	f := strings.Fields(s)
	for len(f) > 0 && (f[0] == "nvidia" || f[0] == "geforce" || f[0] == "tesla" || f[0] == "amd") {
		f = f[1:]
	}
	return strings.Join(f, " ")
}

// leadingNumber parses the first number in s ("3.78 (Lambda)", "up to 700",
// "1,979"); 0 when there is none.
func leadingNumber(s string) float64 {
	start := strings.IndexAny(s, "0123456789")
	if start < 0 {
		return 0
	}
	end := start
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.' || s[end] == ',') {
		end++
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimRight(s[start:end], ".,"), ",", ""), 64)
	if err != nil {
		return 0
	}
	return f
}

// NodeGPUs is how many GPUs of this model one server holds: 72 for the
// NVL72 racks' NVLink domain, 8 for HGX/OAM boards and data-centre PCIe
// servers, 4 for workstation and consumer cards. Tensor parallelism stays
// inside it; pipeline parallel spans servers.
func (g *GPU) NodeGPUs() int {
	l := strings.ToLower(g.ScaleUpLink)
	n := strings.ToLower(g.Name)
	switch {
	case strings.Contains(l, "72-gpu"):
		return 72
	case g.Consumer || strings.Contains(n, "workstation") || strings.HasPrefix(n, "rtx a") || strings.Contains(n, "6000 ada"):
		return 4
	}
	return 8
}
