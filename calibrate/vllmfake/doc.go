// Package vllmfake is an in-process fake of vLLM's OpenAI-compatible server
// for tests: /health, /version, /v1/models and streamed /v1/completions in
// vLLM's SSE format, with token timings derived from configurable speeds
// (plus seeded noise) and misbehaviour on demand. ServeMain lets a test
// binary stand in for the `vllm serve` executable.
package vllmfake
