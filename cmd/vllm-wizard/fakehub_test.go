package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// newFakeHub serves config.json for someorg/tiny-model like the Hub does.
func newFakeHub(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/someorg/tiny-model/resolve/main/config.json" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(`{"model_type": "llama", "num_hidden_layers": 16, "hidden_size": 2048, "num_attention_heads": 32,
			"num_key_value_heads": 8, "vocab_size": 128256, "max_position_embeddings": 131072, "intermediate_size": 8192, "tie_word_embeddings": true}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}
