// Package planner answers "will this model fit on these GPUs, with what vLLM
// settings, and roughly how fast?".
//
// It is pure: it parses Hugging Face config.json bytes, holds the embedded
// model and GPU catalogs, computes per-GPU memory feasibility, recommends
// `vllm serve` arguments with an explanation each, and estimates decode,
// prefill and time-to-first-token ranges from a Baselines parameter set. It
// does no I/O, reads no clock and has no mutable globals; it imports only the
// standard library (a test enforces this).
//
// It is also the one authority for names: LookupModel, LookupGPU (catalog
// names, aliases and free-text descriptions), NormalizeInterconnect and
// NormalizeKVCacheDtype accept every spelling the commands, the importer and
// the fit see, and an unknown name is a *NameError listing the closest known
// names (SuggestModels, SuggestGPUs, DidYouMean), so a typo gets the same
// answer from every command.
//
// The semantics follow the earlier Python "vLLM Wizard" (the seed), with its
// known problems fixed: per-GPU accounting under tensor parallelism, explicit
// head_dim, MLA and MoE models, tensor-parallel sizes that must divide the
// attention and KV heads, no silent default for unknown GPUs, and a
// memory-bandwidth roofline no estimate may exceed.
package planner
