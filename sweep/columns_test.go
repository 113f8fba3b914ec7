package sweep_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/reports/tabular"
	"github.com/vllm-wizard/vllm-wizard/sweep"
)

// update rewrites the golden CSV, docs/sweep.md's column table and the
// generated Batch accessors (columns_batch.go): go test ./sweep -update (or
// make docs).
var update = flag.Bool("update", false, "rewrite testdata/golden.csv, the column table in docs/sweep.md and columns_batch.go")

// goldenPrices prices only H100 SXM, so L4 rows show a missing price.
const goldenPrices = "gpu,usd_per_gpu_hour\nH100 SXM,2.00\n"

// TestGoldenCSV pins the value of every column of a small grid: a wrong
// accessor, a renamed or reordered column or a changed estimate fails here.
func TestGoldenCSV(t *testing.T) {
	data, err := os.ReadFile("testdata/golden.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g, err := sweep.ParseGrid(data)
	if err != nil {
		t.Fatal(err)
	}
	prices, err := sweep.ParsePrices(strings.NewReader(goldenPrices))
	if err != nil {
		t.Fatal(err)
	}
	bl := baselines.Default()
	s, err := sweep.NewSpace(g, &bl.Baselines, prices)
	if err != nil {
		t.Fatal(err)
	}
	// The baselines columns carry a fixed label so that refitting the default
	// baselines changes only the estimate columns of the golden file.
	var buf bytes.Buffer
	w, err := tabular.NewCSV(&buf, sweep.Schema("default", "sha256:fixed", nil), tabular.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sweep.Run(context.Background(), s, s, w, sweep.Options{Workers: 2, ChunkSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if st.Rows != 576 { // 2 models × 3 GPUs × 4 TP × 2 PP × 3 contexts × 2 quantizations × 2 concurrencies
		t.Fatalf("rows = %d, want 576", st.Rows)
	}
	golden(t, "testdata/golden.csv", buf.Bytes())
	// Every status and a missing price occur, so the golden file covers them.
	for _, want := range []string{",ok,", ",does_not_fit,exceeds_gpu_memory,", ",invalid,tp_exceeds_gpu_count,",
		",invalid,tp_does_not_divide_heads,", ",invalid,tp_pp_exceeds_gpu_count,", ",invalid,context_exceeds_model_max,", ",ok,no_performance_basis,"} {
		if !bytes.Contains(buf.Bytes(), []byte(want)) {
			t.Errorf("golden grid has no row with %q", want)
		}
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v (run go test ./sweep -update)", path, err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d (run go test ./sweep -update if intended)\ngot:  %s\nwant: %s", path, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s differs: %d lines, want %d (run go test ./sweep -update if intended)", path, len(gl), len(wl))
	}
}

const (
	docPath  = "../docs/sweep.md"
	docBegin = "<!-- columns:begin (generated from sweep.Columns by go test ./sweep -update) -->\n"
	docEnd   = "<!-- columns:end -->"
)

// TestColumnDoc fails when docs/sweep.md's column table differs from the
// registry.
func TestColumnDoc(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, docBegin), strings.Index(s, docEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q … %q markers", docPath, strings.TrimSpace(docBegin), docEnd)
	}
	table := sweep.Schema("", "", nil).MarkdownTable()
	got := s[:i+len(docBegin)] + table + s[j:]
	if got == s {
		return
	}
	if *update {
		if err := os.WriteFile(docPath, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s's column table differs from sweep.Columns; run go test ./sweep -update (or make docs)", docPath)
}

// TestColumnsValid checks the registry: a valid schema, every column with a
// label and a description, and no two columns with the same header.
func TestColumnsValid(t *testing.T) {
	s := sweep.Schema("b", "h", nil)
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, c := range s.Columns {
		if c.Label == "" || c.Description == "" {
			t.Errorf("column %s: label %q, description %q; both are required", c.Name, c.Label, c.Description)
		}
		if prev, ok := seen[c.Label]; ok {
			t.Errorf("columns %s and %s share the header %q", prev, c.Name, c.Label)
		}
		seen[c.Label] = c.Name
	}
	for _, name := range []string{sweep.ColModel, sweep.ColGPU, sweep.ColStatus, sweep.ColReason, sweep.ColUSDPerMOutputTokens, sweep.ColGPUsUsed} {
		if s.Index(name) < 0 {
			t.Errorf("exported name %q is not a column", name)
		}
	}
}

// TestImportsSchemaOnly keeps sweep's dependency on reports to the schema
// package: the writers stay out of the engine.
func TestImportsSchemaOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	for _, imp := range strings.Fields(string(out)) {
		if strings.HasPrefix(imp, "github.com/vllm-wizard/vllm-wizard/reports/") || strings.Contains(imp, "/calibrate") {
			t.Errorf("sweep imports %s; it may import only the reports schema package", imp)
		}
	}
}

// TestPartitionColumnsAreInputColumns: every partition column is a column
// of the schema, and an output column is refused.
func TestPartitionColumnsAreInputColumns(t *testing.T) {
	names := sweep.Schema("b", "h", nil).Names()
	for _, c := range sweep.PartitionColumns {
		if !slices.Contains(names, c) {
			t.Errorf("partition column %q is not in the schema", c)
		}
	}
	if err := sweep.CheckPartitionColumns([]string{sweep.ColGPU, sweep.ColStatus}); err == nil || !strings.HasPrefix(err.Error(), sweep.ColStatus+": not an input column") {
		t.Errorf("status: %v", err)
	}
}
