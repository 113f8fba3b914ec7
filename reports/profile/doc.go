// Package profile reads and writes vllm-wizard profiles: versioned YAML files
// that record the inputs of a plan (model, hardware, workload, policy), the
// artifacts to generate and the vLLM arguments, so that `plan --profile` and
// `generate --profile` reproduce it.
//
// Parsing is strict: an unknown key, a value of the wrong type, a duplicate
// key or an unsupported profile_version is an error that names the file, the
// line and the key. Numbers are pointers so that a key left out (nil) is
// told apart from a key set to zero.
package profile
