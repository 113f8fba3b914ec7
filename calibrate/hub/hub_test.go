package hub

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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
			w.Write([]byte(tinyConfig))
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
	if err != nil || string(data) != tinyConfig {
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

// tinyConfig is a config.json the planner reads.
const tinyConfig = `{"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 256, "num_attention_heads": 4,
	"num_key_value_heads": 2, "vocab_size": 1000, "max_position_embeddings": 4096, "intermediate_size": 512}`

// TestConfigJSONOnlyCachesValid: a body that is not a config, is cut short
// or is over the limit is an error and is not cached, so the next run asks
// again and gets the good one; a bad cached file is fetched again.
func TestConfigJSONOnlyCachesValid(t *testing.T) {
	var body atomic.Value
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch b := body.Load().(string); b {
		case "cut":
			w.Header().Set("Content-Length", "1000")
			w.Write([]byte(tinyConfig[:40]))
		case "huge":
			// Streamed (no Content-Length): only reading finds the size.
			w.Write([]byte(tinyConfig[:len(tinyConfig)-1]))
			w.(http.Flusher).Flush()
			w.Write([]byte(`, "x": "` + strings.Repeat("a", 2000) + `"}`))
		default:
			w.Write([]byte(b))
		}
	}))
	defer srv.Close()
	cache := t.TempDir()
	c := &Client{Endpoint: srv.URL, CacheDir: cache, MaxBytes: 1024}
	cached := filepath.Join(cache, "org", "m", "main", "config.json")
	for _, tc := range []struct{ name, body, want string }{
		{"html error page with status 200", "<html>rate limited</html>", "bad config.json"},
		{"json that is not a model config", `{"hello": 1}`, "bad config.json"},
		{"body cut short", "cut", "unexpected EOF"},
		{"body over the limit is an error, not a truncation", "huge", "more than 1024 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body.Store(tc.body)
			_, err := c.ConfigJSON(context.Background(), "org/m", "")
			if !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrBadConfig and %q", err, tc.want)
			}
			if _, err := os.Stat(cached); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("a bad body was cached (%v)", err)
			}
		})
	}
	body.Store(tinyConfig)
	if data, err := c.ConfigJSON(context.Background(), "org/m", ""); err != nil || string(data) != tinyConfig {
		t.Fatalf("good fetch after bad ones: %q, %v", data, err)
	}
	if got, _ := os.ReadFile(cached); string(got) != tinyConfig {
		t.Fatalf("cache holds %q", got)
	}
	// A damaged cache entry is not trusted: the next call fetches again.
	if err := os.WriteFile(cached, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := hits.Load()
	if data, err := c.ConfigJSON(context.Background(), "org/m", ""); err != nil || string(data) != tinyConfig || hits.Load() != before+1 {
		t.Fatalf("damaged cache: %q, %v, %d fetches", data, err, hits.Load()-before)
	}
	if ents, _ := os.ReadDir(filepath.Dir(cached)); len(ents) != 1 {
		t.Errorf("cache folder holds %v", ents)
	}
}

// TestConfigJSONNeverPrintsSecrets: a password in HF_ENDPOINT's userinfo and
// the token appear in no error message, on every error path.
func TestConfigJSONNeverPrintsSecrets(t *testing.T) {
	const pw, token = "s3cr3t%2Fpw", "hf_tok3n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/org/gated/resolve/main/config.json":
			http.Error(w, "gated", http.StatusForbidden)
		case "/org/broken/resolve/main/config.json":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/org/garbage/resolve/main/config.json":
			w.Write([]byte("<html>"))
		case "/org/huge/resolve/main/config.json":
			w.Write(bytes.Repeat([]byte(" "), 1025))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	withPW := strings.Replace(srv.URL, "http://", "http://user:"+pw+"@", 1)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := strings.Replace(closed.URL, "http://", "http://user:"+pw+"@", 1)
	closed.Close()
	for _, tc := range []struct {
		name, endpoint, repo string
		want                 error
	}{
		{"not found", withPW, "org/nope", ErrNotFound},
		{"forbidden", withPW, "org/gated", ErrUnauthorized},
		{"server error names the endpoint", withPW, "org/broken", nil},
		{"not a config", withPW, "org/garbage", ErrBadConfig},
		{"over the limit", withPW, "org/huge", ErrBadConfig},
		{"connection refused", closedURL, "org/m", nil},
		{"endpoint that does not parse", "http://user:" + pw + "@host:port/", "org/m", nil},
		{"endpoint without a scheme", "user:" + pw + "@host", "org/m", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Client{Endpoint: tc.endpoint, Token: token, CacheDir: t.TempDir(), MaxBytes: 1024}
			_, err := c.ConfigJSON(context.Background(), tc.repo, "")
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			for _, sec := range []string{pw, "s3cr3t/pw", "s3cr3t", token} {
				if strings.Contains(err.Error(), sec) {
					t.Fatalf("error leaks %q: %v", sec, err)
				}
			}
		})
	}
}
