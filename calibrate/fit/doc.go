// Package fit fits the estimator's baselines (planner.Baselines) to
// measurements: it maps measurement records to catalog models and GPUs,
// predicts each measured value with the planner, and minimises a robust
// (soft-L1) loss of the log errors over the parameters the data identify,
// with a damped Gauss-Newton method from gonum's optimize package.
// Leave-one-source-out cross-validation sets the ranges and reports how
// wrong the estimate is for data it has not seen.
package fit
