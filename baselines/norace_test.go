//go:build !race

package baselines_test

const raceDetector = false
