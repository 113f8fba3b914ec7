// Package sweep evaluates a grid of serving configurations — models × GPUs ×
// tensor-parallel sizes × contexts × quantizations and the other axes of a
// Grid — and produces one Row per point, in index order.
//
// A Grid is parsed from YAML (ParseGrid) or built from flags, then resolved
// into a Space: every model and GPU is looked up once and every (model, GPU)
// pair prepared once for planner.Prepared.Evaluate. Points are never
// materialized: a point's index is a mixed-radix number over the axes
// (models outermost, generated tokens innermost), and Run generates them
// chunk by chunk, fans the chunks out to a bounded pool of workers and
// writes the rows from one goroutine in index order, so the output is the
// same whatever the worker count. A Shard selects a contiguous slice of the
// indices for one machine of many.
//
// A point that cannot run is data, not an error: its row has status
// does_not_fit or invalid and a reason code.
package sweep
