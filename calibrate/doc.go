// Package calibrate measures vLLM on real GPUs and keeps the results in one
// measurement format that later refits the estimator's baselines.
//
// It has a client for vLLM's OpenAI-compatible server (streamed
// /v1/completions or /v1/chat/completions with usage, /health with a
// /v1/models fallback, /version) that sends and counts what `vllm bench
// serve` does, the benchmark protocol Run (warm-up, single-stream decode,
// prefill and a concurrency ladder within a time budget), a Campaign that
// runs it for a list of jobs against one server or a server per job started
// by a Launcher (Launch starts `vllm serve` with the labelling options as a
// child process), readers and an appending writer for measurement files, and
// importers for every `vllm bench` result shape and the project's
// published-measurements CSV. Times come from a Clock, so tests run on the
// virtual timeline of package vllmfake, a fake server that reproduces
// vLLM's chunk shapes.
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
//	request_rate    arrival rate of an open-loop run, req/s (concurrency is
//	                then the mean number in flight, rate × latency); empty
//	                for closed-loop runs
//	spec_decode     speculative-decoding acceptance figures, empty without;
//	                such runs decode faster than the model alone
//	launch_command  the exact `vllm serve` command, when the run launched it
//
// The last three columns may be absent from a CSV header (older files).
// Every metric may be empty; empty is not zero. The definitions follow
// `vllm bench serve` (vllm/benchmarks/lib/endpoint_request_func.py): token
// counts come from the server's usage report, every chunk with choices is a
// token event whatever its text, TTFT runs from sending the request to the
// first such chunk, latency to the last one.
package calibrate
