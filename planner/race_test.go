//go:build race

package planner_test

// raceDetector: the test binary runs under -race, where the exhaustive
// comparisons sample fewer points (the detector finds nothing in this
// single-goroutine code and makes it ~10× slower).
const raceDetector = true
