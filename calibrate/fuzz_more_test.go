package calibrate

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func FuzzImportBenchShapes(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "bench", "*.json"))
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, in string) {
		res, err := ImportBenchServe(strings.NewReader(in), BenchServeOptions{Name: "f"})
		if err != nil {
			return
		}
		for _, m := range res.Measurements {
			if err := m.Validate(); err != nil {
				t.Fatalf("invalid measurement from importer: %v", err)
			}
		}
	})
}

func FuzzMergeServeArgs(f *testing.F) {
	f.Add("--quantization awq --kv-cache-dtype=fp8 --enforce-eager --seed 1")
	f.Add("--max-model-len 4096 --max-model-len 8192")
	f.Add("--gpu-memory-utilization 1.5 -q")
	f.Fuzz(func(t *testing.T, in string) {
		o, rest, err := MergeServeArgs(ServeOptions{}, strings.Fields(in))
		if err != nil {
			return
		}
		// What was taken comes back as flags; nothing labelling is left behind.
		for _, a := range rest {
			name, _, _ := strings.Cut(a, "=")
			if labelFlags[name] {
				t.Fatalf("labelling flag %q left in the pass-through %q", a, rest)
			}
		}
		if _, _, err := MergeServeArgs(ServeOptions{}, o.Args()); err != nil {
			t.Fatalf("Args() %q does not parse back: %v", o.Args(), err)
		}
	})
}

func FuzzBenchMetadata(f *testing.F) {
	f.Add("4xNVIDIA_L40S", "20240614-101010")
	f.Add("8 x H100", "2025-05-20T08:30:00Z")
	f.Fuzz(func(t *testing.T, gpu, date string) {
		name, count, reason := gpuFromMetadata(gpu)
		if reason == "" && (name == "" || count < 0) {
			t.Fatalf("gpuFromMetadata(%q) = %q, %d without a reason", gpu, name, count)
		}
		benchDate(date)
	})
}

// streamBody serves one canned response body for every request.
type streamBody string

func (b streamBody) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(string(b))), Request: req}, nil
}

func FuzzCompletionStream(f *testing.F) {
	f.Add("data: {\"choices\":[{\"text\":\"\"}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n")
	f.Add("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1e12}}\n\ndata: [DONE]\n\n")
	f.Add("data: {\"error\":{\"message\":\"x\"}}\n\n")
	f.Fuzz(func(t *testing.T, body string) {
		c := &Client{BaseURL: "http://fuzz.invalid", HTTP: &http.Client{Transport: streamBody(body)}, Retries: -1, StallTimeout: time.Second}
		res, err := c.Complete(context.Background(), CompletionRequest{Model: "m", Prompt: "p", MaxTokens: 4})
		if err != nil {
			return
		}
		if res.OutputTokens < 0 || res.OutputTokens > maxUsageTokens || res.TTFT < 0 || res.Latency < res.TTFT {
			t.Fatalf("accepted impossible result %+v", res)
		}
	})
}
