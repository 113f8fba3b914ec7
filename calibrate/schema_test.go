package calibrate

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSchemaMatchesFormat: the reports schema names the format's columns in
// file order, so the tabular writers write what ReadCSV reads.
func TestSchemaMatchesFormat(t *testing.T) {
	if got, want := strings.Join(Schema().Names(), ","), strings.Join(Columns(), ","); got != want {
		t.Fatalf("schema columns\n %s\nwant the format's\n %s", got, want)
	}
}

// TestImportsSchemaOnly keeps calibrate's dependency on reports to the
// schema package and the CSV/JSONL encoder that writes the measurement
// format (Writer): no Parquet, xlsx or artifacts, and no sweep.
func TestImportsSchemaOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	for _, imp := range strings.Fields(string(out)) {
		if imp == "github.com/vllm-wizard/vllm-wizard/reports/tabular" {
			continue
		}
		if strings.HasPrefix(imp, "github.com/vllm-wizard/vllm-wizard/reports/") || strings.Contains(imp, "/sweep") {
			t.Errorf("calibrate imports %s; it may import only the reports schema and tabular packages", imp)
		}
	}
}
