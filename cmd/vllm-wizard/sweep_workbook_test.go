package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/reports/xlsx"
)

// TestSweepWorkbook reads back the procurement workbook of the test grid:
// sheet order, the active sheet, the Answer's fallback criterion (the grid
// has no SLO columns), a cost or "price missing" for every GPU with rows
// that run, and the About sheet's provenance.
func TestSweepWorkbook(t *testing.T) {
	noon := func(a *app) { a.clock = fixedClock(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)) }
	out := filepath.Join(t.TempDir(), "grid.xlsx")
	if _, stderr, code := cliApp(t, noon, "sweep", "--grid", sweepGrid, "--gpus", "H100 SXM,RTX 4090,blackbox", "--out", out, "--quiet"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	f, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, want := f.GetSheetList(), []string{xlsx.SheetAnswer, xlsx.SheetCharts, xlsx.SheetSweep, xlsx.SheetAbout}; !slices.Equal(got, want) {
		t.Fatalf("sheets %q, want %q", got, want)
	}
	if f.GetActiveSheetIndex() != 0 {
		t.Errorf("active sheet %d, want Answer", f.GetActiveSheetIndex())
	}
	rows, err := f.GetRows(xlsx.SheetAnswer)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rows[1][0], "by $/M output tokens") || !strings.Contains(rows[1][0], "no SLO column") {
		t.Errorf("criterion %q", rows[1][0])
	}
	// H100 SXM is priced by testdata/sweep/prices.csv, RTX 4090 by the
	// catalog's median of gpu-prices.csv; blackbox has neither a price nor a
	// bandwidth, so it fits but is listed as price missing without a cost.
	row := map[string]string{"H100 SXM": "$", "RTX 4090": "$", "blackbox": "price missing"}
	wants := map[string]map[string]string{"meta-llama/Llama-3.1-8B-Instruct": row, "mistralai/Mixtral-8x7B-Instruct-v0.1": row}
	for _, model := range []string{"meta-llama/Llama-3.1-8B-Instruct", "mistralai/Mixtral-8x7B-Instruct-v0.1"} {
		// One block per quality class ("model · bf16 weights", …): the
		// GPUs' answers are looked for across the model's blocks.
		want := wants[model]
		seen, blocks := map[string]bool{}, 0
		for i, title := range rows {
			if len(title) == 0 || !strings.HasPrefix(title[0], model+" · ") || !strings.HasSuffix(title[0], " weights") {
				continue
			}
			blocks++
			header := rows[i+1]
			if !slices.Equal(header[:5], []string{"GPU", "TP × PP × Replicas", "GPUs used", "Nodes", "Weight format"}) {
				t.Errorf("%s header %q", title[0], header)
			}
			for _, r := range rows[i+2:] {
				if len(r) == 0 || r[0] == "" {
					break
				}
				for gpu, text := range want {
					if r[0] == gpu && strings.Contains(strings.Join(r, "|"), text) {
						seen[gpu] = true
					}
				}
			}
		}
		if blocks == 0 || slices.ContainsFunc(rows, func(r []string) bool { return len(r) > 0 && r[0] == model }) {
			t.Fatalf("%s: %d quality-class blocks, or a block without a class", model, blocks)
		}
		for gpu, text := range want {
			if !seen[gpu] {
				t.Errorf("%s: no %s row with %q in its blocks", model, gpu, text)
			}
		}
	}
	about, err := f.GetRows(xlsx.SheetAbout)
	if err != nil {
		t.Fatal(err)
	}
	text := ""
	for _, r := range about {
		text += strings.Join(r, "|") + "\n"
	}
	bl := baselines.Default()
	for _, s := range []string{"Hash|" + bl.Hash, "Generated|2026-12-01 12:00 UTC", "Tool|vllm-wizard " + version,
		"H100 SXM|$2.00 — prices file", "RTX 4090|$0.39 — median of", "single-stream decode tok/s|MAPE", "models:"} {
		if !strings.Contains(text, s) {
			t.Errorf("About lacks %q:\n%s", s, text)
		}
	}
}

// fixedClock is a calibrate.Clock that always reads the same time.
type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }
