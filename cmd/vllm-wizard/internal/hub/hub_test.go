package hub

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestConfigJSON(t *testing.T) {
	var hits atomic.Int32
	var gotAuth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		gotAuth.Store(r.Header.Get("Authorization"))
		switch r.URL.Path {
		case "/org/model/resolve/main/config.json":
			w.Write([]byte(`{"num_hidden_layers": 2}`))
		case "/org/gated/resolve/main/config.json":
			http.Error(w, "gated", http.StatusUnauthorized)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	cache := t.TempDir()
	env := map[string]string{"HF_ENDPOINT": srv.URL, "HF_TOKEN": "hf_secret", "VLLM_WIZARD_CACHE": cache}
	c := NewFromEnv(func(k string) string { return env[k] }, false)

	data, err := c.ConfigJSON(context.Background(), "org/model", "")
	if err != nil || string(data) != `{"num_hidden_layers": 2}` {
		t.Fatalf("ConfigJSON = %q, %v", data, err)
	}
	if got := gotAuth.Load(); got != "Bearer hf_secret" {
		t.Errorf("Authorization = %q, want the bearer token", got)
	}
	// Cached: an offline client answers without the server.
	off := NewFromEnv(func(k string) string { return env[k] }, true)
	before := hits.Load()
	if _, err := off.ConfigJSON(context.Background(), "org/model", ""); err != nil {
		t.Fatalf("offline cached fetch: %v", err)
	}
	if hits.Load() != before {
		t.Error("offline fetch reached the server")
	}

	tests := []struct {
		name    string
		client  *Client
		repo    string
		wantErr error
		notIn   string
	}{
		{"missing repo is ErrNotFound", c, "org/nope", ErrNotFound, ""},
		{"gated repo names the token fix without printing it", c, "org/gated", ErrUnauthorized, "hf_secret"},
		{"offline and uncached", off, "org/other", ErrOffline, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.ConfigJSON(context.Background(), tt.repo, "")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.notIn != "" && strings.Contains(err.Error(), tt.notIn) {
				t.Fatalf("error leaks the token: %v", err)
			}
		})
	}
}

func TestValidRepoID(t *testing.T) {
	for id, want := range map[string]bool{
		"meta-llama/Llama-3.1-8B": true, "Qwen/Qwen3-30B-A3B": true, "llama": false,
		"../etc/passwd": false, "a/b/c": false, "org/..": false, "org/x y": false,
	} {
		if got := ValidRepoID(id); got != want {
			t.Errorf("ValidRepoID(%q) = %v, want %v", id, got, want)
		}
	}
}
