// Command readmeaccuracy copies the summary and per-source tables of
// docs/accuracy.md into README.md between the markers
// `<!-- accuracy:begin … -->` and `<!-- accuracy:end -->`:
//
//	go run ./calibrate/fit/internal/readmeaccuracy docs/accuracy.md README.md
//
// Its test fails when the README section differs from what the current
// docs/accuracy.md gives, so the README cannot go stale.
package main
