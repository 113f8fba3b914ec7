package xlsx_test

import (
	"archive/zip"
	"bytes"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/vllm-wizard/vllm-wizard/reports"
	"github.com/vllm-wizard/vllm-wizard/reports/xlsx"
)

// deployRow is a sweep-like row with the deployment columns the Answer uses
// when present (meets_slo, gpus_needed, usd_per_month, p90 latencies, …).
type deployRow struct {
	model, gpu, status, reason, quant, binding string
	tp, pp, replicas, gpus                     int64
	month, perM, ttft, tpot, headroom, perUser float64
	meets, priceMissing                        bool
}

func deploySchema(withSLO bool) reports.Schema[deployRow] {
	str := func(name, label string, f func(*deployRow) string) reports.Column[deployRow] {
		return reports.Column[deployRow]{Name: name, Label: label, Kind: reports.KindString, Nullable: true, String: f}
	}
	i := func(name, label string, f func(*deployRow) int64) reports.Column[deployRow] {
		return reports.Column[deployRow]{Name: name, Label: label, Kind: reports.KindInt64, NumFmt: "0", Int: func(r *deployRow) (int64, bool) { return f(r), true }}
	}
	fl := func(name, label, numFmt string, f func(*deployRow) float64) reports.Column[deployRow] {
		return reports.Column[deployRow]{Name: name, Label: label, Kind: reports.KindFloat64, Nullable: true, NumFmt: numFmt,
			Float: func(r *deployRow) (float64, bool) { v := f(r); return v, v != 0 }}
	}
	b := func(name string, f func(*deployRow) bool) reports.Column[deployRow] {
		return reports.Column[deployRow]{Name: name, Label: name, Kind: reports.KindBool, Bool: func(r *deployRow) (bool, bool) { return f(r), true }}
	}
	cols := []reports.Column[deployRow]{
		str("model", "Model", func(r *deployRow) string { return r.model }),
		str("gpu", "GPU", func(r *deployRow) string { return r.gpu }),
		str("status", "Status", func(r *deployRow) string { return r.status }),
		str("reason", "Reason", func(r *deployRow) string { return r.reason }),
		str("quantization", "Weight format", func(r *deployRow) string { return r.quant }),
		i("tp", "TP", func(r *deployRow) int64 { return r.tp }),
		i("gpus_used", "GPUs used", func(r *deployRow) int64 { return r.gpus }),
		fl("usd_per_m_output_tokens", "$/M output tokens", "$#,##0.000", func(r *deployRow) float64 {
			if r.priceMissing {
				return 0
			}
			return r.perM
		}),
		fl("load_tpot_ms_mid", "TPOT at load (ms)", "#,##0.0", func(r *deployRow) float64 { return r.tpot }),
	}
	if withSLO {
		cols = append(cols,
			i("pp", "PP", func(r *deployRow) int64 { return r.pp }),
			i("replicas", "Replicas", func(r *deployRow) int64 { return r.replicas }),
			i("gpus_needed", "GPUs needed", func(r *deployRow) int64 { return r.gpus * r.replicas }),
			b("meets_slo", func(r *deployRow) bool { return r.meets }),
			str("binding_limit", "Binding limit", func(r *deployRow) string { return r.binding }),
			b("price_missing", func(r *deployRow) bool { return r.priceMissing }),
			fl("usd_per_month", "$/month", "$#,##0", func(r *deployRow) float64 {
				if r.priceMissing {
					return 0
				}
				return r.month
			}),
			fl("ttft_p90_ms", "TTFT p90 (ms)", "#,##0", func(r *deployRow) float64 { return r.ttft }),
			fl("tpot_p90_ms", "TPOT p90 (ms)", "#,##0.0", func(r *deployRow) float64 { return r.tpot }),
			fl("slo_headroom", "SLO headroom", "0%", func(r *deployRow) float64 { return r.headroom }),
			fl("tok_s_per_user", "Tokens/s per user (tok/s)", "#,##0.0", func(r *deployRow) float64 { return r.perUser }),
		)
	}
	return reports.Schema[deployRow]{Columns: cols}
}

// deployAnswer is the configuration cmd uses, with the same fallbacks.
var deployAnswer = xlsx.Answer{
	Model: "model", GPU: "gpu", Status: "status", Reason: "reason",
	MeetsSLO: "meets_slo", BindingLimit: "binding_limit", PriceMissing: "price_missing",
	Cost: []string{"usd_per_month", "usd_per_m_output_tokens"}, CostPerToken: "usd_per_m_output_tokens",
	GPUs: []string{"gpus_needed", "gpus_used"}, Layout: []string{"tp", "pp", "replicas"},
	Show: [][]string{{"gpus_needed", "gpus_used"}, {"quantization"}, {"usd_per_month"}, {"usd_per_m_output_tokens"},
		{"ttft_p90_ms"}, {"tpot_p90_ms", "load_tpot_ms_mid"}, {"slo_headroom"}},
	PerUser: []string{"tok_s_per_user"}, PerUserTPOT: "load_tpot_ms_mid", Pareto: "pareto",
	Describe: []string{"quantization"},
	Notes:    []string{"Workload: 10 req/s, SLO: p90 TTFT ≤ 500 ms"},
}

// deployRows: for model m1,
//   - B200 meets the SLO at $800/month (two rows: the cheaper wins),
//   - H100 meets it at $1,000,
//   - L40S runs but misses the SLO on TTFT (cheapest of all: ignored with
//     an SLO, the answer without one),
//   - RTX has no price,
//   - L4 never fits.
//
// Model m2 fits nowhere.
func deployRows() []deployRow {
	ok := func(gpu string, tp, rep int64, month, perM, tpot float64, meets bool) deployRow {
		return deployRow{model: "m1", gpu: gpu, status: "ok", quant: "fp8", tp: tp, pp: 1, replicas: rep, gpus: tp,
			month: month, perM: perM, ttft: 200, tpot: tpot, headroom: 0.2, perUser: 1000 / tpot, meets: meets}
	}
	l40s := ok("L40S", 2, 1, 500, 0.1, 90, false)
	l40s.binding = "ttft"
	rtx := ok("RTX", 4, 1, 0, 0, 40, true)
	rtx.priceMissing = true
	return []deployRow{
		ok("H100", 1, 2, 1000, 0.50, 20, true),
		ok("B200", 1, 1, 900, 0.40, 10, true),
		ok("B200", 2, 1, 800, 0.30, 15, true),
		l40s,
		rtx,
		{model: "m1", gpu: "L4", status: "does_not_fit", reason: "exceeds_gpu_memory", tp: 1, gpus: 1},
		{model: "m1", gpu: "L4", status: "does_not_fit", reason: "exceeds_gpu_memory", tp: 2, gpus: 2},
		{model: "m2", gpu: "H100", status: "invalid", reason: "tp_does_not_divide_heads", tp: 3, gpus: 3},
	}
}

func writeDeploy(t *testing.T, withSLO bool, opts xlsx.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := xlsx.New(&buf, deploySchema(withSLO), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(deployRows()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// block returns the rows of the Answer block of model, from its header row
// to the blank row that ends it.
func block(t *testing.T, rows [][]string, model string) [][]string {
	t.Helper()
	for i, r := range rows {
		if len(r) > 0 && r[0] == model {
			var out [][]string
			for _, b := range rows[i+1:] {
				if len(b) == 0 {
					break
				}
				out = append(out, b)
			}
			return out
		}
	}
	t.Fatalf("no block for %s in %q", model, rows)
	return nil
}

func TestAnswerSheet(t *testing.T) {
	tests := []struct {
		name       string
		withSLO    bool
		criterion  string
		header     []string
		order      []string // GPU column of the ranked rows
		first      []string // the highlighted row
		notes      []string // lines after the ranked rows
		unranked   map[string]string
		chartPairs int
	}{
		{
			name: "with SLO columns: cheapest deployment meeting the SLO by $/month", withSLO: true,
			criterion: "meets the SLO (meets_slo), by $/month",
			header:    []string{"GPU", "TP × PP × Replicas", "GPUs needed", "Weight format", "$/month", "$/M output tokens", "TTFT p90 (ms)", "TPOT p90 (ms)", "SLO headroom"},
			order:     []string{"B200", "H100", "RTX"},
			first:     []string{"B200", "2 × 1 × 1", "2", "fp8", "$800", "$0.300", "200", "15.0", "20%"},
			unranked: map[string]string{
				"L40S": "no deployment meets the SLO (1 of 1 rows run); most often missed: ttft (1 rows)",
				"L4":   "no row runs: exceeds_gpu_memory (2 of 2 rows)",
			},
		},
		{
			name: "without SLO columns: cheapest row that runs by $/M output tokens", withSLO: false,
			criterion: "This grid has no SLO column",
			header:    []string{"GPU", "TP", "GPUs used", "Weight format", "$/M output tokens", "TPOT at load (ms)"},
			order:     []string{"L40S", "B200", "H100", "RTX"},
			first:     []string{"L40S", "2", "2", "fp8", "$0.100", "90.0"},
			unranked:  map[string]string{"L4": "no row runs: exceeds_gpu_memory (2 of 2 rows)"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := xlsx.Options{Answer: deployAnswer, About: []xlsx.AboutSection{{Title: "About", Pairs: [][2]string{{"k", "v"}}}}}
			f := open(t, writeDeploy(t, tc.withSLO, opts))
			if got, want := f.GetSheetList(), []string{xlsx.SheetAnswer, xlsx.SheetCharts, xlsx.SheetSweep, xlsx.SheetAbout}; !slices.Equal(got, want) {
				t.Fatalf("sheets %q, want %q", got, want)
			}
			if i := f.GetActiveSheetIndex(); i != 0 {
				t.Errorf("active sheet %d, want 0 (Answer)", i)
			}
			rows, err := f.GetRows(xlsx.SheetAnswer)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(rows[1][0], tc.criterion) {
				t.Errorf("criterion line %q lacks %q", rows[1][0], tc.criterion)
			}
			if rows[2][0] != deployAnswer.Notes[0] {
				t.Errorf("note line %q", rows[2][0])
			}
			b := block(t, rows, "m1")
			if !slices.Equal(b[0], tc.header) {
				t.Fatalf("header %q, want %q", b[0], tc.header)
			}
			var order []string
			unranked := map[string]string{}
			for _, r := range b[1:] {
				switch {
				case len(r) == 2:
					unranked[r[0]] = r[1]
				case len(r) > 2:
					order = append(order, r[0])
				}
			}
			if !slices.Equal(order, tc.order) {
				t.Errorf("ranked GPUs %q, want %q", order, tc.order)
			}
			if !slices.Equal(b[1], tc.first) {
				t.Errorf("first row %q, want %q", b[1], tc.first)
			}
			if len(unranked) != len(tc.unranked) {
				t.Errorf("unranked %q, want %q", unranked, tc.unranked)
			}
			for gpu, want := range tc.unranked {
				if unranked[gpu] != want {
					t.Errorf("%s: %q, want %q", gpu, unranked[gpu], want)
				}
			}
			// RTX fits but has no price: an explicit "price missing".
			for _, r := range b[1:] {
				if r[0] == "RTX" && !slices.Contains(r, "price missing") {
					t.Errorf("RTX row %q lacks \"price missing\"", r)
				}
			}
			m2 := block(t, rows, "m2")
			if m2[1][0] != "No GPU in this grid can serve this model." || m2[2][0] != "H100" || !strings.HasPrefix(m2[2][1], "no row runs: tp_does_not_divide_heads") {
				t.Errorf("m2 block %q", m2)
			}
			// The best row is highlighted, the next is not.
			best := fill(t, f, xlsx.SheetAnswer, "A", rowOf(t, rows, "m1")+2)
			next := fill(t, f, xlsx.SheetAnswer, "A", rowOf(t, rows, "m1")+3)
			if best != "C6EFCE" || next != "" {
				t.Errorf("fills: best %q, next %q; want C6EFCE and none", best, next)
			}
			// Readable without scrolling sideways: the block fits in about
			// 1,200 pixels at 100 % (a width unit is about 7 pixels).
			var width float64
			for c := 1; c <= len(tc.header); c++ {
				name, _ := excelize.ColumnNumberToName(c)
				w, _ := f.GetColWidth(xlsx.SheetAnswer, name)
				width += w
			}
			if width*7 > 1200 {
				t.Errorf("answer block is %.0f characters wide (%.0f px), want ≤ 1,200 px", width, width*7)
			}
		})
	}
}

func rowOf(t *testing.T, rows [][]string, first string) int {
	for i, r := range rows {
		if len(r) > 0 && r[0] == first {
			return i + 1
		}
	}
	t.Fatalf("no row starting %q", first)
	return 0
}

func fill(t *testing.T, f *excelize.File, sheet, col string, row int) string {
	t.Helper()
	id, err := f.GetCellStyle(sheet, col+strconv.Itoa(row))
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Fill.Color) == 0 {
		return ""
	}
	return strings.TrimPrefix(strings.ToUpper(st.Fill.Color[0]), "#")
}

// chartParts returns the chart XML parts of a workbook, in part-name order.
func chartParts(t *testing.T, data []byte) []string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	parts := map[string]string{}
	for _, zf := range zr.File {
		if strings.HasPrefix(zf.Name, "xl/charts/chart") {
			rc, _ := zf.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			names = append(names, zf.Name)
			parts[zf.Name] = string(b)
		}
	}
	sort.Strings(names)
	var out []string
	for _, n := range names {
		out = append(out, parts[n])
	}
	return out
}

func TestChartsSheet(t *testing.T) {
	data := writeDeploy(t, true, xlsx.Options{Answer: deployAnswer})
	f := open(t, data)
	charts := chartParts(t, data)
	// m1 has priced answers: a bar and a scatter; m2 has neither.
	if len(charts) != 2 {
		t.Fatalf("%d charts, want 2", len(charts))
	}
	var bar, scatter string
	for _, c := range charts {
		switch {
		case strings.Contains(c, "<barChart>"):
			bar = c
		case strings.Contains(c, "<scatterChart>"):
			scatter = c
		}
	}
	if bar == "" || scatter == "" {
		t.Fatal("want one bar and one scatter chart")
	}
	rows, err := f.GetRows(xlsx.SheetCharts)
	if err != nil {
		t.Fatal(err)
	}
	// Bar data: B200 then H100 (by cost) in K:L, formatted as money.
	refs := regexp.MustCompile(`Charts!\$([A-Z]+)\$(\d+):\$([A-Z]+)\$(\d+)`).FindAllStringSubmatch(bar, -1)
	if len(refs) != 2 || refs[0][1] != "K" || refs[1][1] != "L" {
		t.Fatalf("bar ranges %q", refs)
	}
	r0 := atoi(refs[0][2])
	if got := []string{rows[r0-1][10], rows[r0][10]}; !slices.Equal(got, []string{"B200", "H100"}) || refs[0][4] != strconv.Itoa(r0+1) {
		t.Errorf("bar categories %q (rows %s-%s)", got, refs[0][2], refs[0][4])
	}
	if v, _ := f.GetCellValue(xlsx.SheetCharts, "L"+refs[1][2]); v != "$0.300" {
		t.Errorf("bar value cell %q, want $0.300 (formatted)", v)
	}
	for _, want := range []string{"$/M output tokens", `formatCode="$#,##0.000"`} {
		if !strings.Contains(bar, want) {
			t.Errorf("bar chart lacks %q", want)
		}
	}
	// Scatter: the frontier first, then each priced GPU; axis titles.
	series := regexp.MustCompile(`<tx><strRef><f>Charts!\$K\$(\d+)</f>`).FindAllStringSubmatch(scatter, -1)
	var names []string
	for _, s := range series {
		names = append(names, rows[atoi(s[1])-1][10])
	}
	if want := []string{"Pareto frontier", "H100", "B200", "L40S"}; !slices.Equal(names, want) {
		t.Errorf("scatter series %q, want %q", names, want)
	}
	for _, want := range []string{"Tokens/s per user (tok/s)", "$/M output tokens, log scale"} {
		if !strings.Contains(scatter, want) {
			t.Errorf("scatter lacks axis title %q", want)
		}
	}
	// The frontier over all GPUs: L40S is cheapest ($0.10, 11.1 tok/s),
	// B200 TP 1 fastest (100 tok/s at $0.40) and B200 TP 2 between (66.7 at
	// $0.30); H100 (50 tok/s at $0.50) is dominated by B200 TP 1.
	fr := rowOf(t, colK(rows), "Pareto frontier")
	var got []string
	for r := fr; r <= len(rows) && len(rows[r-1]) > 10 && rows[r-1][10] == "Pareto frontier"; r++ {
		got = append(got, rows[r-1][11]+" "+rows[r-1][12])
	}
	if want := []string{"11.1 $0.100", "66.7 $0.300", "100.0 $0.400"}; !slices.Equal(got, want) {
		t.Errorf("frontier %q, want %q", got, want)
	}
}

// colK re-keys the rows by their K column so rowOf can find table labels.
func colK(rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		if len(r) > 10 {
			out[i] = r[10:]
		}
	}
	return out
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func TestSummaryOnlyAndAbout(t *testing.T) {
	// A value far longer than a row can show (a long axis) is capped at
	// Excel's 409-point row height rather than failing the workbook.
	long := strings.Repeat("1, 2, 3, ", 20000)
	about := []xlsx.AboutSection{{Title: "About this workbook", Pairs: [][2]string{{"Tool", "vllm-wizard test"}, {"Concurrency", long}}, Text: []string{"models: [m1]"}}}
	f := open(t, writeDeploy(t, true, xlsx.Options{Answer: deployAnswer, About: about, SummaryOnly: true, RowLimit: 2}))
	if got, want := f.GetSheetList(), []string{xlsx.SheetAnswer, xlsx.SheetCharts, xlsx.SheetAbout}; !slices.Equal(got, want) {
		t.Fatalf("sheets %q, want %q", got, want)
	}
	rows, err := f.GetRows(xlsx.SheetAbout)
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][0] != "About this workbook" || !slices.Equal(rows[1], []string{"Tool", "vllm-wizard test"}) || rows[3][0] != "models: [m1]" {
		t.Errorf("about %q", rows)
	}
}

// With a quality-class column, each (model, class) is its own block: the
// cheaper fp8 answer on H100 does not outrank bf16 on B200, and each block
// ranks only its own class's rows. Read back from the workbook.
func TestAnswerBlocksByQualityClass(t *testing.T) {
	schema := deploySchema(true)
	schema.Columns = append(schema.Columns, reports.Column[deployRow]{Name: "quality_class", Label: "Quality class", Kind: reports.KindString, Nullable: true,
		String: func(r *deployRow) string { return r.quant }})
	row := func(gpu, quant string, month float64) deployRow {
		return deployRow{model: "m1", gpu: gpu, status: "ok", quant: quant, tp: 1, pp: 1, replicas: 1, gpus: 1,
			month: month, perM: month / 1000, ttft: 200, tpot: 20, headroom: 0.2, perUser: 50, meets: true}
	}
	// L4 rows cannot exist (TP above the GPU count): no class, folded into
	// both blocks rather than a block of their own.
	rows := []deployRow{{model: "m1", gpu: "L4", status: "invalid", reason: "tp_exceeds_gpu_count", tp: 8, gpus: 8},
		row("B200", "bf16", 900), row("H100", "bf16", 1200), row("H100", "fp8", 600), row("B200", "fp8", 700)}
	schema.Columns[len(schema.Columns)-1].String = func(r *deployRow) string {
		if r.status != "ok" {
			return ""
		}
		return r.quant
	}
	opts := xlsx.Options{Answer: deployAnswer}
	opts.Answer.Quality = "quality_class"
	var buf bytes.Buffer
	w, err := xlsx.New(&buf, schema, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	sheet, err := f.GetRows("Answer")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		block string
		order []string // GPUs, cheapest first
		quant string
	}{
		{"m1 · bf16 weights", []string{"B200", "H100"}, "bf16"},
		{"m1 · fp8 weights", []string{"H100", "B200"}, "fp8"},
	} {
		b := block(t, sheet, tc.block)
		var gpus []string
		for _, r := range b[1:] { // b[0] is the header
			if len(r) > 0 && (r[0] == "B200" || r[0] == "H100") {
				gpus = append(gpus, r[0])
				if !slices.Contains(r, tc.quant) {
					t.Errorf("%s: row %q lacks its class %s", tc.block, r, tc.quant)
				}
			}
		}
		if !slices.Equal(gpus, tc.order) {
			t.Errorf("%s ranks %v, want %v (rows %q)", tc.block, gpus, tc.order, b)
		}
		if !slices.ContainsFunc(b, func(r []string) bool {
			return len(r) > 1 && r[0] == "L4" && strings.Contains(r[1], "tp_exceeds_gpu_count")
		}) {
			t.Errorf("%s lacks the L4 rows that cannot exist: %q", tc.block, b)
		}
	}
	for _, r := range sheet {
		if len(r) > 0 && r[0] == "m1" {
			t.Errorf("a block mixing the classes: %q", r)
		}
	}
}
