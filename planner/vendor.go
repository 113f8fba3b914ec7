package planner

import "strings"

// Vendor kinds: the software stack vLLM runs on for a GPU.
const (
	VendorNVIDIA = "nvidia" // CUDA
	VendorAMD    = "amd"    // ROCm
	VendorIntel  = "intel"  // Gaudi (vllm-gaudi) and others
	VendorOther  = "other"
)

// VendorKind classifies the GPU's vendor column (NVIDIA when empty, as for
// custom GPUs).
func (g *GPU) VendorKind() string {
	v := strings.ToLower(g.Vendor)
	switch {
	case v == "" || strings.HasPrefix(v, "nvidia"):
		return VendorNVIDIA
	case strings.HasPrefix(v, "amd"):
		return VendorAMD
	case strings.HasPrefix(v, "intel"):
		return VendorIntel
	}
	return VendorOther
}
