package main

import (
	"context"
	"os"
	"testing"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/reports"
	"github.com/vllm-wizard/vllm-wizard/reports/parquet"
	"github.com/vllm-wizard/vllm-wizard/sweep"
)

func TestZZProf(t *testing.T) {
	g := os.Getenv("ZZGRID")
	if g == "" {
		t.Skip()
	}
	bl := baselines.Default()
	s, err := sweep.NewSpace(benchGrids[g], &bl.Baselines, nil)
	if err != nil {
		t.Fatal(err)
	}
	var w reports.Writer[sweep.Row]
	if os.Getenv("ZZNULL") != "" {
		w = nullSink{}
	} else {
		w, err = (&app{}).newSweepWriter(discard{}, reports.FormatParquet, sweep.Schema("default", bl.Hash, nil), false, t.TempDir(), nil, false, parquet.DefaultCodec)
		if err != nil {
			t.Fatal(err)
		}
	}
	st, err := sweep.Run(context.Background(), s, s, w, sweep.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Logf("rows %d cpu %.2f s", st.Rows, float64(cpuTime())/1e9)
}

type nullSink struct{}

func (nullSink) Write([]sweep.Row) error { return nil }
func (nullSink) Close() error            { return nil }
