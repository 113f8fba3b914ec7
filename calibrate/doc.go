// Package calibrate measures vLLM on real GPUs and keeps the results in one
// measurement format that later refits the estimator's baselines.
//
// It has a client for vLLM's OpenAI-compatible server (streamed
// /v1/completions with usage, /health, /v1/models, /version), the
// benchmark protocol Run (warm-up, single-stream decode, prefill and a
// concurrency ladder within a time budget), Launch to start `vllm serve` as a
// child process, readers and an appending writer for measurement files, and
// importers for `vllm bench serve --save-result` JSON and the project's
// published-measurements CSV. Package vllmfake is a fake server for tests.
//
// # Measurement format
//
// One record per benchmark result, as JSONL (one object per line, empty =
// null) or CSV (header row, empty cell = empty); the file extension picks the
// format. Columns, in order:
//
//	gpu             GPU catalog name, e.g. "H100 SXM" (required)
//	gpu_count       GPUs the server used (integer; empty = unknown)
//	tp              tensor-parallel size (integer; empty = unknown)
//	interconnect    nvlink (NVLink/NVSwitch, or AMD Infinity Fabric), pcie or unknown
//	model           model id, e.g. "Qwen/Qwen2.5-7B-Instruct" (required)
//	params_b        model size in billions of parameters
//	quantization    weight quantization: none, awq, gptq, int8, fp8, …
//	kv_cache_dtype  KV-cache dtype: auto (the model's dtype), fp8, …
//	prompt_tokens   prompt length in tokens (mean over requests)
//	output_tokens   generated tokens per request (mean over requests)
//	concurrency     requests in flight (integer ≥ 1, required)
//	decode_tok_s    decode speed of one stream, tokens/s = 1000 / tpot_ms
//	tpot_ms         time per output token after the first, ms (mean):
//	                (latency − ttft) / (output tokens − 1)
//	itl_ms          inter-token latency, ms (median gap between streamed chunks)
//	ttft_ms         time to first token, ms (mean)
//	prefill_tok_s   prompt tokens / TTFT of a single request, tokens/s
//	output_tok_s    aggregate output throughput of all streams, tokens/s
//	                (output tokens / wall time of the run)
//	request_tok_s   per-request end-to-end speed, tokens/s
//	                (mean of output tokens / latency, prefill included)
//	vllm_version    vLLM version that served the run, e.g. "0.6.3"
//	source          where the record came from (tool and phase, file, or
//	                publication + "#row_id")
//	measured_at     when it was measured (RFC 3339; without zone when the
//	                source did not say), or empty
//
// Every metric may be empty; empty is not zero. The definitions follow
// `vllm bench serve`: token counts come from the server's usage report, TTFT
// runs from sending the request to the first chunk with text, latency to the
// last one.
package calibrate
