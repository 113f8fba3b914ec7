package tabular

import (
	"math"
	"slices"
	"strconv"
)

// FloatDigits is the number of significant digits of a float cell by
// default: the text is exactly strconv.AppendFloat(v, 'g', FloatDigits, 64).
//
// Why not the shortest exact form: a sweep's floats come out of float
// arithmetic, so their shortest forms are 16–17 digits long, mostly noise
// (2912.7000000000003 for 2912.7); twelve digits keep every catalog figure
// whole (70.553706496 billion parameters has eleven), are a relative
// rounding of at most 5e-13 (the estimator is good to ±10–30 %), print
// plainly from 1e-4 up to 1e12 (shortest 'g' switches to an exponent at
// 1e6), and can be formatted by appendG12's integer arithmetic in about a
// third of strconv's shortest-form time. Parquet keeps the exact float64s.
const FloatDigits = 12

// pow10tab holds the powers of ten that float64 represents exactly.
var pow10tab = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// digitPairs is "00" … "99".
const digitPairs = "0001020304050607080910111213141516171819" +
	"2021222324252627282930313233343536373839" +
	"4041424344454647484950515253545556575859" +
	"6061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// appendG12 appends strconv.AppendFloat(dst, v, 'g', 12, 64), byte for
// byte (FuzzAppendG12 checks it against strconv).
//
// For 1e-4 ≤ |v| < 1e12, where 'g' writes no exponent, it scales |v| by an
// exact power of ten to a 12-digit integer m, rounds, and prints m's digits
// with the point placed. The scaling is one correctly rounded product, so m is within 0.5 ulp(m) < 1.2e-4 of the exact |v|·10^k; when
// its fraction lies within 1e-3 of a half, the rounding could differ from
// strconv's exact one, and strconv decides (about 0.2 % of values). Other
// magnitudes, zero and non-finite values go to strconv too.
func appendG12(dst []byte, v float64) []byte {
	const n = 12
	a := math.Abs(v)
	if !(a >= 1e-4 && a < 1e12) {
		return strconv.AppendFloat(dst, v, 'g', n, 64)
	}
	// e10 = floor(log10 a): floor(e2·log10 2) is it or one less.
	e2 := int(math.Float64bits(a)>>52&0x7ff) - 1023
	e10 := (e2 * 78913) >> 18
	if next := e10 + 1; (next >= 0 && a >= pow10tab[next]) || (next < 0 && a*pow10tab[-next] >= 1) {
		e10 = next
	}
	m := a * pow10tab[n-1-e10] // -4 ≤ e10 ≤ 11: an exact power, 10^0 … 10^15
	u := int64(m)              // m < 2^63: a signed conversion is one instruction
	switch fr := m - float64(u); {
	case fr > 0.499 && fr < 0.501:
		return strconv.AppendFloat(dst, v, 'g', n, 64)
	case fr > 0.5:
		u++
	}
	if u < 1e11 || u >= 1e12 {
		// The estimate of e10 was off (it cannot be), or m rounded up to
		// 10^12, which moves the value to the next decade (and possibly
		// into 'g''s exponent form): leave those to strconv.
		return strconv.AppendFloat(dst, v, 'g', n, 64)
	}
	// d is longer than the digits so that the fixed-size copies below stay in it.
	var d [32]byte
	for i, w := n-2, uint64(u); i >= 0; i -= 2 {
		q := w / 100
		r := w - q*100
		d[i], d[i+1] = digitPairs[2*r], digitPairs[2*r+1]
		w = q
	}
	nd := n
	for nd > 1 && d[nd-1] == '0' {
		nd--
	}
	// The text is at most 1 + 2 + 3 + 12 bytes ("-0.000" and the digits)
	// and is written with fixed-size copies into room for 32 after the sign.
	if cap(dst)-len(dst) < 33 {
		dst = slices.Grow(dst, 33)
	}
	o := len(dst)
	if v < 0 {
		dst = append(dst, '-')
		o++
	}
	buf := dst[o : o+32]
	if e10 < 0 {
		z := -e10 - 1 // zeros after the point: 0 … 3
		*(*[8]byte)(buf) = [8]byte{'0', '.', '0', '0', '0', '0', '0', '0'}
		*(*[16]byte)(buf[2+z:]) = *(*[16]byte)(d[:])
		return dst[:o+2+z+nd]
	}
	ip := e10 + 1 // digits before the point: 1 … 12
	*(*[16]byte)(buf) = *(*[16]byte)(d[:])
	if nd <= ip {
		return dst[:o+ip] // d[nd:ip] are the integer's trailing zeros
	}
	*(*[16]byte)(buf[ip+1:]) = *(*[16]byte)(d[ip:])
	buf[ip] = '.'
	return dst[:o+nd+1]
}
