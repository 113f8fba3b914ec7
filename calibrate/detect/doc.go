// Package detect finds the NVIDIA GPUs of the local machine: their names,
// memory, compute capability, PCIe link, power limit and active NVLink links,
// plus the driver and CUDA driver versions and the interconnect the planner
// should assume.
//
// Detect asks NVML first (through go-nvml, in builds with cgo on Linux), then
// falls back to parsing nvidia-smi's CSV output, and reports ErrNoGPU when
// neither finds a GPU. Names are reported as the driver spells them; mapping
// them to the GPU catalog is the planner's job.
package detect
