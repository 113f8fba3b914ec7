package planner

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MaxSize bounds ParseSize: 2²⁴ tokens.
const MaxSize = 1 << 24

// ParseSize parses a token count written as a whole number or with a k
// (×1024) or m (×1024²) suffix: 4096, 32k, 128K, 1m. It is the one size
// parser of every command's flags, the sweep grid and profiles.
func ParseSize(s string) (int, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	switch {
	case strings.HasSuffix(t, "k"):
		mult, t = 1024, strings.TrimSuffix(t, "k")
	case strings.HasSuffix(t, "m"):
		mult, t = 1024*1024, strings.TrimSuffix(t, "m")
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > MaxSize/mult {
		return 0, fmt.Errorf("%q is not a token count (a whole number ≤ %d, or with k = 1024, m = 1024²: 4k, 128k, 1m)", s, MaxSize)
	}
	return int(n * mult), nil
}

// ParseNumber parses a finite decimal number; NaN and infinities are errors.
func ParseNumber(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%q is not a finite number", s)
	}
	return f, nil
}
