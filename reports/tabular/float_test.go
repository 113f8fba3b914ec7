package tabular

import (
	"math"
	"strconv"
	"testing"
)

// FuzzAppendG12 checks appendG12 against strconv 'g' with 12 digits, byte
// for byte, for any float64 (the fuzzer's bits, and the value next to it,
// and its decimal neighbours that sit on rounding edges).
func FuzzAppendG12(f *testing.F) {
	for _, v := range []float64{0, 1, -1, 0.1, 2912.7000000000003, 1e-4, 9.99999999999e-5, 999999999999.5, 999999999999.4,
		1e12, 1e11, 0.0001234567890125, 123456789012.5, 70.553706496, 1.5e-9, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		f.Add(math.Float64bits(v))
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		// The fuzzer's mantissa and sign with an exponent in 2^-14 … 2^40,
		// around the integer path's range [1e-4, 1e12).
		plain := math.Float64frombits(bits&(1<<63|1<<52-1) | (1009+bits>>52&0x7ff%55)<<52)
		for _, v := range []float64{math.Float64frombits(bits), math.Nextafter(math.Float64frombits(bits), 0), plain} {
			if got, want := appendG12(nil, v), strconv.AppendFloat(nil, v, 'g', 12, 64); string(got) != string(want) {
				t.Fatalf("%v (bits %#x): got %s, strconv writes %s", v, math.Float64bits(v), got, want)
			}
		}
	})
}

// TestAppendG12 has the cases at the edges of the integer path and a
// million values spread over its range, each against strconv.
func TestAppendG12(t *testing.T) {
	tests := []struct {
		name string
		v    float64
		want string
	}{
		{name: "float noise goes", v: 2912.7000000000003, want: "2912.7"},
		{name: "a catalog figure stays whole", v: 70.553706496, want: "70.553706496"},
		{name: "rounds to 12 digits", v: 14.957527160644531, want: "14.9575271606"},
		{name: "integer", v: 2048, want: "2048"},
		{name: "large integer without exponent", v: 450640000, want: "450640000"},
		{name: "negative", v: -0.25, want: "-0.25"},
		{name: "smallest plain value", v: 1e-4, want: "0.0001"},
		{name: "below it an exponent", v: 9.5e-5, want: "9.5e-05"},
		{name: "rounds up into the next decade", v: 9.9999999999996, want: "10"},
		{name: "rounds up to 1e12, an exponent", v: 999999999999.7, want: "1e+12"},
		{name: "three zeros after the point", v: 0.000123456789012, want: "0.000123456789012"},
		{name: "no zero after the point", v: 0.5, want: "0.5"},
		{name: "point after 7 digits", v: 1234567.25, want: "1234567.25"},
		{name: "point after 8 digits", v: 12345678.5, want: "12345678.5"},
		{name: "point after 11 digits", v: 12345678901.5, want: "12345678901.5"},
		{name: "12 integer digits", v: 123456789012, want: "123456789012"},
		{name: "zero", v: 0, want: "0"},
		{name: "negative zero", v: math.Copysign(0, -1), want: "-0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(appendG12(nil, tc.v)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			if want := strconv.FormatFloat(tc.v, 'g', 12, 64); tc.want != want {
				t.Errorf("the case's want %s is not strconv's %s", tc.want, want)
			}
		})
	}
	// Log-uniform over 1e-5 … 1e13 (both sides of the integer path), every
	// 7th value a 3-decimal one (ties and trailing zeros).
	x := uint64(1)
	for i := range 1_000_000 {
		x = x*6364136223846793005 + 1442695040888963407 // an LCG: fixed values, no seed
		v := math.Pow(10, float64(x>>11)/(1<<53)*18-5)
		if i%7 == 0 {
			v = math.Round(v*1000) / 1000
		}
		if i&1 == 1 {
			v = -v
		}
		if got, want := appendG12(nil, v), strconv.AppendFloat(nil, v, 'g', 12, 64); string(got) != string(want) {
			t.Fatalf("%v: got %s, strconv writes %s", v, got, want)
		}
	}
}

// TestAppendG12Appends checks that appendG12 appends after what dst holds,
// whether or not dst has room for the text (it writes the text with
// fixed-size copies into spare capacity, which must start at len(dst)).
func TestAppendG12Appends(t *testing.T) {
	tests := []struct {
		name     string
		len, cap int
	}{
		{name: "empty with room", len: 0, cap: 64},
		{name: "text before, room", len: 5, cap: 64},
		{name: "text before, room for the text only", len: 5, cap: 5 + 33},
		{name: "text before, no room", len: 7, cap: 7},
		{name: "text before, a little room", len: 7, cap: 12},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range []float64{-0.000123456789012, 0.5, 1234567.25, -12345678.5, 12345678901.5, 2048, 1e-9} {
				dst := make([]byte, tc.len, tc.cap)
				for i := range dst {
					dst[i] = 'a' + byte(i)
				}
				before := string(dst)
				got := appendG12(dst, v)
				if want := before + strconv.FormatFloat(v, 'g', 12, 64); string(got) != want {
					t.Errorf("%v: got %q, want %q", v, got, want)
				}
			}
		})
	}
}

// BenchmarkAppendG12 formats floats like a sweep's (throughputs, latencies,
// GiB, dollars: 1e-3 … 1e6, full mantissas), against strconv's 'g' 12.
func BenchmarkAppendG12(b *testing.B) {
	vals := make([]float64, 4096)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range vals {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		vals[i] = math.Pow(10, float64(x%9000)/1000-3) // 1e-3 … 1e6
	}
	for _, bc := range []struct {
		name string
		f    func([]byte, float64) []byte
	}{
		{"appendG12", appendG12},
		{"strconv", func(dst []byte, v float64) []byte { return strconv.AppendFloat(dst, v, 'g', 12, 64) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			buf := make([]byte, 0, 64)
			for i := range b.N {
				buf = bc.f(buf[:0], vals[i%len(vals)])
			}
		})
	}
}
