package artifacts

import (
	"fmt"
	"os"

	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/reports/atomicfile"
)

// ProfileFile is the file name of the profile generate writes beside the
// artifacts.
const ProfileFile = "profile.yaml"

// Files renders the files named in emit (Kinds and "profile"), in that
// order, for atomicfile.WriteAll: the scripts executable, "profile" as
// ProfileFile holding profileYAML (rendered by package profile, which
// imports this one).
func Files(emit []string, resp *planner.Response, opt Options, profileYAML []byte) ([]atomicfile.Named, error) {
	outs := make([]atomicfile.Named, 0, len(emit))
	for _, e := range emit {
		if e == "profile" {
			outs = append(outs, atomicfile.Named{Name: ProfileFile, Data: profileYAML, Mode: 0o644})
			continue
		}
		k := Kind(e)
		data, err := Render(k, resp, opt)
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", k.FileName(), err)
		}
		mode := os.FileMode(0o644)
		if k.Executable() {
			mode = 0o755
		}
		outs = append(outs, atomicfile.Named{Name: k.FileName(), Data: data, Mode: mode})
	}
	return outs, nil
}
