// Package deploy plans deployments that answer a buyer's question: to serve
// this load within these latency limits, which GPUs, how many, and at what
// cost per month and per million tokens.
//
// A deployment is a GPU type × tensor parallel (inside a node) × pipeline
// parallel (across nodes over a scale-out link) × data-parallel replicas.
// Latency under a request rate comes from a queueing approximation on top of
// a step-time model (docs/queueing.md); replicas multiply throughput and
// cost, not latency. The package is pure like planner: standard library and
// planner only.
package deploy
