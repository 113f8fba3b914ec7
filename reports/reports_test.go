package reports_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

func TestFormatFromPath(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		explicit string
		want     reports.Format
		wantErr  bool
	}{
		{name: "parquet extension", path: "out/sweep.parquet", want: reports.FormatParquet},
		{name: "extension is case-insensitive", path: "SWEEP.XLSX", want: reports.FormatXLSX},
		{name: "csv", path: "a.b.csv", want: reports.FormatCSV},
		{name: "jsonl", path: "rows.jsonl", want: reports.FormatJSONL},
		{name: "ndjson is jsonl", path: "rows.ndjson", want: reports.FormatJSONL},
		{name: "explicit format wins over the extension", path: "rows.csv", explicit: "parquet", want: reports.FormatParquet},
		{name: "explicit format without a path (stdout)", path: "-", explicit: "NDJSON", want: reports.FormatJSONL},
		{name: "explicit with a dot", path: "x", explicit: ".xlsx", want: reports.FormatXLSX},
		{name: "unknown extension", path: "rows.txt", wantErr: true},
		{name: "no extension", path: "rows", wantErr: true},
		{name: "directory dot is not an extension", path: "out.d/rows", wantErr: true},
		{name: "unknown explicit format", path: "rows.csv", explicit: "xls", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := reports.FormatFromPath(tc.path, tc.explicit)
			if tc.wantErr {
				if !errors.Is(err, reports.ErrUnknownFormat) {
					t.Fatalf("got %v, %v; want ErrUnknownFormat", got, err)
				}
				for _, name := range []string{"parquet", "xlsx", "csv", "jsonl"} {
					if !strings.Contains(err.Error(), name) {
						t.Errorf("error %q does not name %s", err, name)
					}
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func FuzzFormatFromPath(f *testing.F) {
	for _, s := range []string{"a.parquet", "b.XLSX", "c.ndjson", "", ".", "x.", "dir.csv/", "a.jsonl\x00"} {
		f.Add(s, "")
		f.Add(s, "csv")
	}
	f.Fuzz(func(t *testing.T, path, explicit string) {
		got, err := reports.FormatFromPath(path, explicit)
		if err != nil {
			if !errors.Is(err, reports.ErrUnknownFormat) || got != "" {
				t.Fatalf("FormatFromPath(%q, %q) = %q, %v", path, explicit, got, err)
			}
			return
		}
		found := false
		for _, f := range reports.Formats {
			found = found || f == got
		}
		if !found {
			t.Fatalf("FormatFromPath(%q, %q) = unlisted format %q", path, explicit, got)
		}
		// The format's own extension and name must map back to it.
		if back, err := reports.FormatFromPath("x"+got.Extension(), ""); err != nil || back != got {
			t.Fatalf("extension %q maps to %q, %v", got.Extension(), back, err)
		}
		if back, err := reports.ParseFormat(got.String()); err != nil || back != got {
			t.Fatalf("name %q parses to %q, %v", got, back, err)
		}
	})
}

type row struct {
	s string
	i int64
}

func TestValidate(t *testing.T) {
	str := func(r *row) string { return r.s }
	num := func(r *row) (int64, bool) { return r.i, true }
	tests := []struct {
		name    string
		cols    []reports.Column[row]
		wantErr string
	}{
		{name: "valid", cols: []reports.Column[row]{{Name: "model_id", Kind: reports.KindString, Dict: true, String: str}, {Name: "tp2", Kind: reports.KindInt64, Int: num}}},
		{name: "no columns", wantErr: "no columns"},
		{name: "upper case name", cols: []reports.Column[row]{{Name: "Model", Kind: reports.KindString, String: str}}, wantErr: "snake_case"},
		{name: "name with space", cols: []reports.Column[row]{{Name: "a b", Kind: reports.KindString, String: str}}, wantErr: "snake_case"},
		{name: "duplicate", cols: []reports.Column[row]{{Name: "a", Kind: reports.KindString, String: str}, {Name: "a", Kind: reports.KindInt64, Int: num}}, wantErr: "duplicate"},
		{name: "missing accessor", cols: []reports.Column[row]{{Name: "a", Kind: reports.KindInt64}}, wantErr: "no int64 accessor"},
		{name: "accessor of another kind", cols: []reports.Column[row]{{Name: "a", Kind: reports.KindString, String: str, Int: num}}, wantErr: "also sets"},
		{name: "dictionary on an integer", cols: []reports.Column[row]{{Name: "a", Kind: reports.KindInt64, Int: num, Dict: true}}, wantErr: "Dict"},
		{name: "unknown kind", cols: []reports.Column[row]{{Name: "a", Kind: reports.Kind(9)}}, wantErr: "unknown kind"},
		{name: "group scope", cols: []reports.Column[row]{{Name: "a", Kind: reports.KindString, String: str, Scope: reports.ScopeGroup}}},
		{name: "unknown scope", cols: []reports.Column[row]{{Name: "a", Kind: reports.KindString, String: str, Scope: reports.ScopeGroup + 1}}, wantErr: "unknown scope"},
		{name: "group null", cols: []reports.Column[row]{{Name: "a", Kind: reports.KindString, Nullable: true, String: str, GroupNull: func(*row) bool { return true }}}},
		{name: "group null on a required column", cols: []reports.Column[row]{{Name: "a", Kind: reports.KindString, String: str, GroupNull: func(*row) bool { return true }}}, wantErr: "GroupNull is only valid"},
		{name: "batch on an integer", cols: []reports.Column[row]{{Name: "a", Kind: reports.KindInt64, Int: num, Batch: func([]row, []uint64, []uint8) int { return 0 }}}},
		{name: "batch on a string", cols: []reports.Column[row]{{Name: "a", Kind: reports.KindString, String: str, Batch: func([]row, []uint64, []uint8) int { return 0 }}}, wantErr: "sets Batch"},
		{name: "group null on a group column", cols: []reports.Column[row]{{Name: "a", Kind: reports.KindString, Nullable: true, Scope: reports.ScopeGroup, String: str, GroupNull: func(*row) bool { return true }}}, wantErr: "GroupNull is only valid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := reports.Schema[row]{Columns: tc.cols}.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, reports.ErrInvalidSchema) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want ErrInvalidSchema mentioning %q", err, tc.wantErr)
			}
		})
	}
}

func TestGroupOf(t *testing.T) {
	cols := []reports.Column[row]{{Name: "a", Kind: reports.KindInt64, Int: func(r *row) (int64, bool) { return r.i, true }}}
	r := row{i: 7}
	if g := (reports.Schema[row]{Columns: cols}).GroupOf(&r); g != 0 {
		t.Errorf("no Group func: GroupOf = %d, want 0 (no group)", g)
	}
	s := reports.Schema[row]{Columns: cols, Group: func(r *row) int64 { return r.i + 1 }}
	if g := s.Local().GroupOf(&r); g != 8 {
		t.Errorf("GroupOf of a Local copy = %d, want the Group func's 8", g)
	}
}

func TestFileMetadata(t *testing.T) {
	cols := []reports.Column[row]{{Name: "a", Kind: reports.KindString, String: func(r *row) string { return r.s }}}
	s := reports.Schema[row]{Columns: cols, Metadata: map[string]string{"tool_version": "1.0", "baselines_hash": "h"}}
	keys, values := s.FileMetadata()
	if strings.Join(keys, ",") != "baselines_hash,schema_version,tool_version" || values[1] != s.Fingerprint() {
		t.Fatalf("keys %q values %q", keys, values)
	}
	s.Metadata[reports.MetaSchemaVersion] = "3"
	if _, values = s.FileMetadata(); values[1] != "3" {
		t.Fatalf("explicit schema_version not used: %q", values)
	}
	other := reports.Schema[row]{Columns: []reports.Column[row]{{Name: "a", Kind: reports.KindString, Nullable: true, String: cols[0].String}}}
	if other.Fingerprint() == s.Fingerprint() {
		t.Fatal("fingerprint ignores nullability")
	}
}

func TestNeutralizeFormula(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@x": "'@x", "\tx": "'\tx", "\rx": "'\rx",
		"": "", "a=1": "a=1", "'=1": "'=1", "H100": "H100",
	} {
		if got := reports.NeutralizeFormula(in); got != want {
			t.Errorf("NeutralizeFormula(%q) = %q, want %q", in, got, want)
		}
	}
}
