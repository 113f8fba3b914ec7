package main

import (
	"github.com/vllm-wizard/vllm-wizard/reports"
	"github.com/vllm-wizard/vllm-wizard/sweep"
)

// sweepSchema is the row layout of every sweep output (the registry lives in
// package sweep).
func sweepSchema(baselinesLabel, baselinesHash string, meta map[string]string) reports.Schema[sweep.Row] {
	return sweep.Schema(baselinesLabel, baselinesHash, meta)
}
