package tabular

import (
	"encoding/binary"
	"math"
	"math/bits"
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

// digitPairTab[i] is the two ASCII digits of i (0 … 99), the tens digit in
// the low byte: stored little-endian, they read as text.
var digitPairTab = func() (t [100]uint16) {
	for i := range t {
		t[i] = uint16('0'+i/10) | uint16('0'+i%10)<<8
	}
	return t
}()

// sixDigits returns the six decimal digits of x < 10^6 as ASCII in the low
// 48 bits, the first digit in the low byte.
func sixDigits(x uint32) uint64 {
	p1 := x / 10000
	r := x - p1*10000
	p2 := r / 100
	p3 := r - p2*100
	return uint64(digitPairTab[p1%100]) | uint64(digitPairTab[p2%100])<<16 | uint64(digitPairTab[p3%100])<<32
}

// zeroDigits is eight ASCII zeros read as a little-endian word.
const zeroDigits = 0x3030_3030_3030_3030

// appendG12 appends strconv.AppendFloat(dst, v, 'g', 12, 64), byte for
// byte (FuzzAppendG12 and TestAppendG12 check it against strconv).
//
// For 1e-4 ≤ |v| < 1e12, where 'g' writes no exponent, it scales |v| by an
// exact power of ten to a 12-digit integer m, rounds, and prints m's digits
// with the point placed. The scaling is one correctly rounded product, so m
// is within 0.5 ulp(m) < 1.2e-4 of the exact |v|·10^k; when its fraction
// lies within 1e-3 of a half, the rounding could differ from strconv's
// exact one, and strconv decides (about 0.2 % of values). Other magnitudes,
// zero and non-finite values go to strconv too.
//
// The rest has no branch that depends on the digits: m + 0.5 is exact
// (m < 2^40, so its ulp is at most 2^-13) and truncates to the rounded
// value; the two halves of the digits are built independently as words of
// ASCII, and the trailing zeros are counted on those words.
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
	m := a * pow10tab[(n-1-e10)&15] // -4 ≤ e10 ≤ 11: an exact power, 10^0 … 10^15
	if fr := m - math.Floor(m); fr > 0.499 && fr < 0.501 {
		return strconv.AppendFloat(dst, v, 'g', n, 64)
	}
	u := uint64(m + 0.5)
	if u < 1e11 || u >= 1e12 {
		// The estimate of e10 was off (it cannot be), or m rounded up to
		// 10^12, which moves the value to the next decade (and possibly
		// into 'g''s exponent form): leave those to strconv.
		return strconv.AppendFloat(dst, v, 'g', n, 64)
	}
	hi := uint32(u / 1e6)
	w1 := sixDigits(uint32(u - uint64(hi)*1e6))
	w0 := sixDigits(hi) | w1<<48 // digits 0 … 7
	w1 >>= 16                    // digits 8 … 11
	var d [16]byte
	binary.LittleEndian.PutUint64(d[:8], w0)
	binary.LittleEndian.PutUint64(d[8:], w1)
	// nd: the digits without trailing zeros (the first digit is not 0).
	var nd int
	if z := uint32(w1) ^ zeroDigits&0xffff_ffff; z != 0 {
		nd = 12 - bits.LeadingZeros32(z)/8
	} else {
		nd = 8 - bits.LeadingZeros64(w0^zeroDigits)/8
	}
	if v < 0 {
		dst = append(dst, '-')
	}
	if e10 < 0 {
		dst = append(dst, "0.000"[:1-e10]...) // "0." and -e10-1 zeros
		return append(dst, d[:nd]...)
	}
	ip := e10 + 1 // digits before the point
	if nd <= ip {
		return append(dst, d[:ip]...) // trailing zeros up to the point
	}
	dst = append(dst, d[:ip]...)
	dst = append(dst, '.')
	return append(dst, d[ip:nd]...)
}
