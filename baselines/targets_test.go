package baselines_test

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/planner"
)

// TestAccuracyMeetsIssue9Targets reads docs/accuracy.md — the
// leave-one-source-out figures of the default set, which
// TestDefaultIsRegenerated proves current — and fails when a target of
// issue #9 is missed: single-stream decode MAPE ≤ 12 % with ≥ 80 % inside
// a range whose half-width is ≤ 25 %, aggregate output tok/s ≤ 20 %, TPOT
// at load ≤ 25 %, TTFT ≤ 35 %, no regime row above 30 %, and each of the
// issue's five points within 20 %.
func TestAccuracyMeetsIssue9Targets(t *testing.T) {
	data, err := os.ReadFile("../docs/accuracy.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	kinds := map[string]struct {
		prefix  string
		maxMAPE float64
		minIn   float64
	}{
		"decode":    {"| single-stream decode tok/s |", 12, 80},
		"aggregate": {"| aggregate output tok/s at concurrency |", 20, 0},
		"tpot":      {"| TPOT at concurrency |", 25, 0},
		"ttft":      {"| TTFT of a single request", 35, 0},
	}
	for name, k := range kinds {
		t.Run(name, func(t *testing.T) {
			cells := rowWith(t, doc, k.prefix)
			if len(cells) < 5 {
				t.Fatalf("summary row %q has %d cells", k.prefix, len(cells))
			}
			if m := percent(t, cells[2]); m > k.maxMAPE {
				t.Errorf("%s MAPE %.1f %% > %.0f %%", name, m, k.maxMAPE)
			}
			if in := percent(t, cells[4]); in < k.minIn {
				t.Errorf("%s inside the range %.1f %% < %.0f %%", name, in, k.minIn)
			}
		})
	}
	t.Run("decode range half-width", func(t *testing.T) {
		// "Stated ranges: single-stream decode × 0.883 … 1.14, ..."
		line := lineWith(t, doc, "Stated ranges: single-stream decode × ")
		rest := line[strings.Index(line, "× ")+len("× "):]
		lo, hi, ok := strings.Cut(strings.SplitN(rest, ",", 2)[0], " … ")
		if !ok {
			t.Fatalf("no range in %q", line)
		}
		l, h := number(t, lo), number(t, hi)
		if w := max(1-l, h-1); w > 0.25 {
			t.Errorf("decode range × %v … %v: half-width %.3f > 0.25", l, h, w)
		}
	})
	t.Run("regimes", func(t *testing.T) {
		rows := section(t, doc, "## Per regime")
		if len(rows) < 10 {
			t.Fatalf("%d regime rows", len(rows))
		}
		for _, cells := range rows {
			if m := percent(t, cells[2]); m > 30 {
				t.Errorf("regime %q MAPE %.1f %% > 30 %%", cells[0], m)
			}
		}
	})
	t.Run("the five points", func(t *testing.T) {
		rows := section(t, doc, "## The points of issue #9")
		if len(rows) != 5 {
			t.Fatalf("%d issue points, want 5", len(rows))
		}
		for _, cells := range rows {
			if e := percent(t, cells[3]); e > 20 || e < -20 {
				t.Errorf("%s: %+.0f %% held out, want within 20 %%", cells[0], e)
			}
		}
	})
}

// rowWith returns the cells of the table row starting with prefix.
func rowWith(t *testing.T, doc, prefix string) []string {
	t.Helper()
	return cellsOf(lineWith(t, doc, prefix))
}

func lineWith(t *testing.T, doc, prefix string) string {
	t.Helper()
	for _, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("no line starting %q in docs/accuracy.md", prefix)
	return ""
}

// section returns the data rows of the first table after the heading.
func section(t *testing.T, doc, heading string) [][]string {
	t.Helper()
	i := strings.Index(doc, heading)
	if i < 0 {
		t.Fatalf("no %q in docs/accuracy.md", heading)
	}
	var rows [][]string
	started := false
	for _, l := range strings.Split(doc[i:], "\n")[1:] {
		if strings.HasPrefix(l, "## ") {
			break
		}
		if !strings.HasPrefix(l, "|") {
			if started {
				break
			}
			continue
		}
		started = true
		if strings.HasPrefix(l, "|---") || strings.HasPrefix(l, "| point |") || strings.HasPrefix(l, "| regime |") {
			continue
		}
		rows = append(rows, cellsOf(l))
	}
	return rows
}

func cellsOf(line string) []string {
	parts := strings.Split(strings.Trim(line, "|"), "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func percent(t *testing.T, s string) float64 {
	t.Helper()
	return number(t, strings.TrimSuffix(s, "%"))
}

func number(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return v
}

// TestROCmPagedAttentionMatchesPR8310: the default set reproduces the
// before/after table of vllm-project/vllm PR #8310 (the MI300 custom
// paged-attention kernel, in vLLM 0.6.2), whose numbers
// step.rocm_generic_pa_efficiency was read from and which no fit sees:
// Llama-2-70B on one MI300X, offline, 512-token prompts. The PR's tokens/s
// with the kernel over without it (e.g. 969.73 / 626.82 = 1.547 at 32
// prompts × 512 output tokens) is the step time on 0.6.1 over the step on
// 0.6.2 at the batch, the mean context 512 + output/2 and 512/output
// prompt tokens per output token; each within 10 %.
func TestROCmPagedAttentionMatchesPR8310(t *testing.T) {
	d := baselines.Default()
	m, err := planner.LookupModel("meta-llama/Llama-2-70b-hf")
	if err != nil {
		t.Fatal(err)
	}
	g, err := planner.LookupGPU("MI300X")
	if err != nil {
		t.Fatal(err)
	}
	p := planner.Prepare(&d.Baselines, m, g, planner.DefaultPolicy)
	for _, tc := range []struct {
		batch, out    int
		without, with float64 // PR #8310's tokens/s
	}{
		{8, 256, 360.15, 419.62},
		{8, 512, 271.54, 293.50},
		{16, 256, 616.33, 770.72},
		{16, 512, 414.81, 560.03},
		{32, 256, 913.00, 1263.37},
		{32, 512, 626.82, 969.73},
	} {
		t.Run(fmt.Sprintf("%d prompts × %d tokens", tc.batch, tc.out), func(t *testing.T) {
			ctx, ppg := 512+float64(tc.out)/2, 512/float64(tc.out)
			old, ok1 := p.DecodeStepSeconds(planner.StepPoint{TP: 1, VLLMVersion: "0.6.1", Offline: true}, tc.batch, ctx, ppg)
			cur, ok2 := p.DecodeStepSeconds(planner.StepPoint{TP: 1, VLLMVersion: "0.6.2", Offline: true}, tc.batch, ctx, ppg)
			if !ok1 || !ok2 {
				t.Fatal("no step estimate")
			}
			got, want := old.Total/cur.Total, tc.with/tc.without
			t.Logf("speed-up %.3f, PR #8310 %.3f", got, want)
			if math.Abs(got/want-1) > 0.10 {
				t.Errorf("speed-up %.3f, PR #8310 measured %.3f", got, want)
			}
		})
	}
}
