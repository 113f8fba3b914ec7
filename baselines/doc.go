// Package baselines holds the parameter sets the performance estimator runs
// on: the embedded default and "seed" files, loading and saving, and a
// content hash that identifies a set in every plan and sweep row.
//
// A baselines file is JSON in the format of planner.Baselines. The embedded
// "default" set is fitted by `vllm-wizard calibrate fit` to the published
// measurements in data/public-measurements.csv (`make baselines` regenerates
// it); "seed" is the earlier Python tool's constants, kept so the port can be
// checked against the seed's formulas.
package baselines
