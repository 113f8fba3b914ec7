package calibrate

import (
	"bytes"
	"fmt"
	"path/filepath"
)

// ImportFile imports the contents of one file of any importable kind (told
// by DetectKind), named path in errors and, by its base name, in the source
// column. bench gives the options of a vllm bench result file; it is
// called only for one.
func ImportFile(path string, data []byte, bench func() (BenchServeOptions, error)) (ImportResult, Kind, error) {
	var res ImportResult
	var err error
	kind := DetectKind(data)
	switch kind {
	case KindBenchServe:
		opt, err := bench()
		if err != nil {
			return res, kind, err
		}
		opt.Name = filepath.Base(path)
		if res, err = ImportBenchServe(bytes.NewReader(data), opt); err != nil {
			return res, kind, fmt.Errorf("import %s: %w", path, err)
		}
	case KindPublished:
		if res, err = ImportPublished(bytes.NewReader(data)); err != nil {
			return res, kind, fmt.Errorf("import %s: %w", path, err)
		}
	default:
		ms, err := ReadMeasurements(bytes.NewReader(data), MeasurementFormat(data))
		if err != nil {
			return res, kind, fmt.Errorf("import %s (read as %s): %w", path, kind, err)
		}
		res.Measurements = ms
	}
	return res, kind, nil
}

// BenchDefaults fills what a vllm bench result file's hardware leaves out:
// TP is the GPU count (else 1), the GPU count is TP, the interconnect is
// unknown. Without a GPU name and a TP, the file's own metadata says both,
// so TP stays 0 and the GPU count is only what was given.
func (h Hardware) BenchDefaults() Hardware {
	if h.Interconnect == "" {
		h.Interconnect = InterconnectUnknown
	}
	if h.GPU == "" && h.TP == 0 {
		return h // from the file's metadata
	}
	if h.TP == 0 {
		h.TP = max(h.GPUCount, 1)
	}
	if h.GPUCount == 0 {
		h.GPUCount = h.TP
	}
	return h
}
