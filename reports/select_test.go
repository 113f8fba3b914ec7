package reports_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

func selectSchema() reports.Schema[row] {
	str := func(r *row) string { return r.s }
	var cols []reports.Column[row]
	for _, n := range []string{"model", "gpu", "tp", "status", "load_output_tok_s_mid"} {
		cols = append(cols, reports.Column[row]{Name: n, Kind: reports.KindString, String: str})
	}
	cols[1].Scope = reports.ScopeGroup
	return reports.Schema[row]{Columns: cols, Metadata: map[string]string{"tool": "t"}, Group: func(*row) int64 { return 7 }}
}

func TestSelectAndDrop(t *testing.T) {
	for _, tc := range []struct {
		name    string
		drop    bool
		names   []string
		want    string // kept columns, comma-separated
		wantErr error
		errText string
	}{
		{name: "select keeps the given order", names: []string{"status", "model"}, want: "status,model"},
		{name: "select one", names: []string{"gpu"}, want: "gpu"},
		{name: "drop keeps schema order", drop: true, names: []string{"tp", "model"}, want: "gpu,status,load_output_tok_s_mid"},
		{name: "unknown with a near name", names: []string{"model", "stauts"}, wantErr: reports.ErrUnknownColumn, errText: `"stauts" (did you mean "status"?)`},
		{name: "unknown, nothing near", drop: true, names: []string{"price"}, wantErr: reports.ErrUnknownColumn, errText: `"price"; the columns are listed in docs/sweep.md`},
		{name: "repeated", names: []string{"gpu", "gpu"}, wantErr: reports.ErrInvalidSchema, errText: `"gpu" selected twice`},
		{name: "nothing selected", names: nil, wantErr: reports.ErrInvalidSchema},
		{name: "everything dropped", drop: true, names: []string{"model", "gpu", "tp", "status", "load_output_tok_s_mid"}, wantErr: reports.ErrInvalidSchema},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := selectSchema()
			var got reports.Schema[row]
			var err error
			if tc.drop {
				got, err = s.Drop(tc.names)
			} else {
				got, err = s.Select(tc.names)
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("err = %v, want %v containing %q", err, tc.wantErr, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if names := strings.Join(got.Names(), ","); names != tc.want {
				t.Errorf("columns %s, want %s", names, tc.want)
			}
			if got.Metadata[reports.MetaColumnsSelected] != tc.want || got.Metadata["tool"] != "t" {
				t.Errorf("metadata %v, want %s=%s and the original keys", got.Metadata, reports.MetaColumnsSelected, tc.want)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("narrowed schema invalid: %v", err)
			}
			// The group rule and the columns' scopes stay: the writers of a
			// narrowed sweep still copy a group's constant cells.
			if got.GroupOf(&row{}) != 7 {
				t.Error("narrowed schema lost its Group")
			}
			if i := got.Index("gpu"); i >= 0 && got.Columns[i].Scope != reports.ScopeGroup {
				t.Error("gpu lost its ScopeGroup")
			}
			// The schema it came from is unchanged.
			if len(s.Columns) != 5 || len(s.Metadata) != 1 {
				t.Errorf("original changed: %v, %v", s.Names(), s.Metadata)
			}
		})
	}
}
