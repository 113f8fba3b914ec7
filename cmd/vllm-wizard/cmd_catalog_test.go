package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCatalogCommands(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"models lists gemma's sliding layers", []string{"models"}, "52 of 62 layers, 1024 tokens"},
		{"gpus names the ROCm stack", []string{"gpus"}, "ROCm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, code := cli(t, tt.args...)
			if code != 0 || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, stdout lacks %q (stderr %q)", code, tt.want, stderr)
			}
			out, _, code = cli(t, append(tt.args, "--json")...)
			var rows []map[string]any
			if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) < 10 {
				t.Errorf("--json: exit %d, %d rows", code, len(rows))
			}
		})
	}
}
