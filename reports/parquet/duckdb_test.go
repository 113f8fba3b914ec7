package parquet_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/reports/internal/testrows"
	"github.com/vllm-wizard/vllm-wizard/reports/parquet"
)

// TestDuckDBReadsEveryCodec: with DUCKDB_NODE_DIR naming a folder where
// `npm i @duckdb/node-api` ran (.ci/run sets it), DuckDB reads a file of
// each codec back to the rows written: hostile strings, nulls of every
// kind, -0, extreme floats and several row groups and batches.
func TestDuckDBReadsEveryCodec(t *testing.T) {
	nodeDir := os.Getenv("DUCKDB_NODE_DIR")
	if nodeDir == "" {
		t.Skip("DuckDB check skipped: set DUCKDB_NODE_DIR to a folder where `npm i @duckdb/node-api` ran")
	}
	dir := t.TempDir()
	in := testrows.Rows(2500)
	js := "import { DuckDBInstance } from '@duckdb/node-api';\n" +
		"const con = await (await DuckDBInstance.create(':memory:')).connect();\n" +
		"await con.run(\"SET threads = 1\");\n"
	for _, codec := range parquet.Codecs {
		src := filepath.ToSlash(filepath.Join(dir, codec.String()+".parquet"))
		data := write(t, in, 333, parquet.Options{Codec: codec, MaxRowGroupLength: 1000, BatchRows: 300})
		if err := os.WriteFile(src, data, 0o644); err != nil {
			t.Fatal(err)
		}
		js += fmt.Sprintf("await con.run(\"COPY (SELECT * FROM read_parquet('%s')) TO '%s.csv' (HEADER false)\");\n", src, src)
	}
	script := filepath.Join(nodeDir, "vw-parquet-codecs.mjs")
	if err := os.WriteFile(script, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(script)
	if out, err := exec.Command("node", script).CombinedOutput(); err != nil {
		t.Fatalf("node: %v: %s", err, out)
	}
	for _, codec := range parquet.Codecs {
		t.Run(codec.String(), func(t *testing.T) {
			text, err := os.ReadFile(filepath.Join(dir, codec.String()+".parquet.csv"))
			if err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(bytes.NewReader(text)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != len(in) {
				t.Fatalf("DuckDB read %d rows, wrote %d", len(recs), len(in))
			}
			for i, rec := range recs {
				if want := csvRow(testrows.Normalize(in[i])); !sameRow(rec, want) {
					t.Fatalf("row %d: DuckDB read %q, want %q", i, rec, want)
				}
			}
		})
	}
}

// csvRow is the text DuckDB's CSV export gives for a row ("" for null).
func csvRow(r testrows.Row) []string {
	opt := func(ok bool, s string) string {
		if !ok {
			return ""
		}
		return s
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	// encoding/csv reads a quoted "\r\n" as "\n".
	note := strings.ReplaceAll(r.Note, "\r\n", "\n")
	return []string{r.Model, r.GPU, r.Status, note, strconv.FormatInt(r.TP, 10),
		opt(r.ContextOK, strconv.FormatInt(r.Context, 10)), opt(r.DecodeOK, f(r.Decode)), opt(r.CostOK, f(r.Cost)),
		strconv.FormatBool(r.Fits), opt(r.ChunkedOK, strconv.FormatBool(r.Chunked))}
}

// sameRow compares cells as text, floats (columns 6 and 7) by value.
func sameRow(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] == want[i] {
			continue
		}
		if i != 6 && i != 7 || got[i] == "" || want[i] == "" {
			return false
		}
		a, err1 := strconv.ParseFloat(got[i], 64)
		b, err2 := strconv.ParseFloat(want[i], 64)
		if err1 != nil || err2 != nil || math.Float64bits(a) != math.Float64bits(b) {
			return false
		}
	}
	return true
}

// TestDuckDBReadsEveryEncoding: DuckDB reads back every value of the file
// TestEncodingChoice checks: dictionary-encoded numbers and strings,
// byte-split floats (-0, NaN, -Inf among them), a chunk that switches from
// dictionary to byte-split pages, PLAIN pages and nulls on segment edges.
func TestDuckDBReadsEveryEncoding(t *testing.T) {
	nodeDir := os.Getenv("DUCKDB_NODE_DIR")
	if nodeDir == "" {
		t.Skip("DuckDB check skipped: set DUCKDB_NODE_DIR to a folder where `npm i @duckdb/node-api` ran")
	}
	in := encRows(5000)
	src := filepath.ToSlash(filepath.Join(t.TempDir(), "enc.parquet"))
	if err := os.WriteFile(src, writeEnc(t, in, parquet.Options{MaxRowGroupLength: 2500, BatchRows: encBatch, DataPageSize: 4 << 10}), 0o644); err != nil {
		t.Fatal(err)
	}
	js := "import { DuckDBInstance } from '@duckdb/node-api';\n" +
		"const con = await (await DuckDBInstance.create(':memory:')).connect();\n" +
		fmt.Sprintf("await con.run(\"COPY (SELECT * FROM read_parquet('%s')) TO '%s.csv' (HEADER false)\");\n", src, src)
	script := filepath.Join(nodeDir, "vw-parquet-encodings.mjs")
	if err := os.WriteFile(script, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(script)
	if out, err := exec.Command("node", script).CombinedOutput(); err != nil {
		t.Fatalf("node: %v: %s", err, out)
	}
	text, err := os.ReadFile(src + ".csv")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(in) {
		t.Fatalf("DuckDB read %d rows, wrote %d", len(recs), len(in))
	}
	float := func(s string, ok bool, want float64) bool {
		if !ok {
			return s == ""
		}
		v, err := strconv.ParseFloat(s, 64)
		return err == nil && (math.Float64bits(v) == math.Float64bits(want) || math.IsNaN(v) && math.IsNaN(want))
	}
	for i, rec := range recs {
		r := in[i]
		flag := ""
		if r.FlagOK {
			flag = strconv.FormatBool(r.Flag)
		}
		ok := len(rec) == 8 && rec[0] == strconv.FormatInt(r.ID, 10) && rec[1] == strconv.FormatInt(r.Group, 10) &&
			float(rec[2], r.UniqOK, r.Unique) && float(rec[3], r.LevelOK, r.Level) && float(rec[4], true, r.Switch) &&
			rec[5] == r.Label && rec[6] == r.Note && rec[7] == flag
		if !ok {
			t.Fatalf("row %d: DuckDB read %q, want %+v", i, rec, r)
		}
	}
}
