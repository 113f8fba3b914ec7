//go:build race

package baselines_test

// raceDetector: the test binary runs under -race. The fit is single-
// goroutine code, so the detector has nothing to find in the regeneration
// test and only makes it ~14× slower (295 s against 22 s here); `make test`
// runs that test again without -race.
const raceDetector = true
