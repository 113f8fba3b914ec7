//go:build race

package deploy

// raceDetector: the test binary runs under -race. The discrete-event
// simulations are single-goroutine code, so the detector has nothing to
// find in them and only makes them ~10× slower (~100 s against ~10 s);
// `make test` runs them again without -race (SIMTESTS in the Makefile).
const raceDetector = true
