//go:build race

package main

// raceDetector: the test binary runs under -race. Tests that only run the
// single-goroutine fit over the published data skip themselves there (it is
// ~14× slower under the detector: 36 s → ~8 min, past go test's timeout on a
// busy machine); `make test` runs them again without -race.
const raceDetector = true
