package detect_test

import (
	"fmt"

	"github.com/vllm-wizard/vllm-wizard/calibrate/detect"
)

func ExampleParseNvidiaSMI() {
	out := []byte("0, NVIDIA GeForce RTX 4090, GPU-9a1b2c3d, 24564, 1325, 8.9, 550.54.15, 4, 16, 450.00\n")
	sys, err := detect.ParseNvidiaSMI(out)
	if err != nil {
		fmt.Println(err)
		return
	}
	g := sys.GPUs[0]
	fmt.Printf("%s: %.2f GiB, compute %s, PCIe Gen%d x%d, %.0f W, driver %s\n",
		g.Name, g.MemoryTotalGiB(), g.ComputeCapability, g.PCIeGen, g.PCIeWidth, g.PowerLimitW, sys.DriverVersion)
	// Output: NVIDIA GeForce RTX 4090: 23.99 GiB, compute 8.9, PCIe Gen4 x16, 450 W, driver 550.54.15
}
