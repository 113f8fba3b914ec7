package detect

import (
	"errors"
	"fmt"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// ForPlan picks the GPUs a plan is made for: those that answered with a
// name and memory, the first limit of them (0 = all), and among those the
// one with the least memory, which the plan must fit. It returns that GPU,
// how many are used, and warnings for GPUs left out or of other models.
func (s System) ForPlan(limit int) (GPU, int, []string, error) {
	if len(s.GPUs) == 0 {
		return GPU{}, 0, nil, errors.New("no GPU detected")
	}
	var warn []string
	var use []GPU
	for _, d := range s.GPUs {
		// A GPU that failed to answer has no usable name or memory.
		if d.Name != "" && d.MemoryTotalBytes > 0 {
			use = append(use, d)
		}
	}
	if len(use) == 0 {
		return GPU{}, 0, nil, errors.New("no detected GPU reported its name and memory")
	}
	if len(use) < len(s.GPUs) {
		warn = append(warn, fmt.Sprintf("%d of %d detected GPUs did not answer and were left out", len(s.GPUs)-len(use), len(s.GPUs)))
	}
	if limit > 0 && limit < len(use) {
		use = use[:limit]
	}
	smallest := use[0]
	for _, d := range use[1:] {
		if d.Name != smallest.Name {
			warn = append(warn, "detected GPUs of different models; planning for the smallest")
		}
		if d.MemoryTotalBytes < smallest.MemoryTotalBytes {
			smallest = d
		}
	}
	return smallest, len(use), warn, nil
}

// PlanGPU is ForPlan's GPU as the planner's: its catalog entry with the
// detected memory, or, for a GPU the catalog lacks, a custom one of that
// memory and memBW GB/s (0: speed is not estimated), with a warning.
func (s System) PlanGPU(limit int, memBW float64) (planner.GPU, int, []string, error) {
	d, n, warn, err := s.ForPlan(limit)
	if err != nil {
		return planner.GPU{}, 0, nil, err
	}
	g, err := planner.LookupGPU(d.Name)
	if err != nil {
		g = planner.GPU{Name: d.Name, Custom: true, MemBWGBs: memBW}
		warn = append(warn, fmt.Sprintf("detected %q is not in the GPU catalog: using its detected memory; pass --mem-bw-gbs for a speed estimate", d.Name))
	}
	g.MemoryGiB = d.MemoryTotalGiB()
	return g, n, warn, nil
}
