// Package vllmfake is a fake of vLLM's OpenAI-compatible server for tests:
// /health, /version, /v1/models and streamed /v1/completions and
// /v1/chat/completions in the chunk shapes of vLLM's serving_completion.py
// and serving_chat.py (the first token alone, later ones packed, empty-text
// chunks, a role-only first chat delta, usage only on a last chunk with
// empty choices or on every chunk with continuous_usage_stats, error events
// mid-stream), with token timings from configurable speeds or fixed
// TTFT/TPOT (plus seeded noise) and misbehaviour on demand.
//
// NewVirtual serves the fake in memory on a VirtualClock that the client
// reads too, so timings measured against it are exact however loaded the
// machine is; Start serves it over TCP on the wall clock and counts
// connections. ServeMain lets a test binary stand in for `vllm serve`.
package vllmfake
