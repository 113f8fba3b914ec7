// Package numflag holds the range-checked numeric flag values every command
// registers: NaN, infinities and out-of-range values are usage errors that
// name the flag (pflag prefixes its name).
package numflag

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/vllm-wizard/vllm-wizard/planner"
)

// Numeric flags of every command parse through planner.ParseSize (token
// counts: 32k, 128k, 1m) or planner.ParseNumber (finite numbers) and check
// a range, so NaN, infinities and out-of-range values are usage errors
// that name the flag (pflag prefixes the flag's name; exit 2).

// intFlag is an integer flag with an inclusive range; sizes also take the
// k/m suffixes.
type intFlag struct {
	p      *int
	lo, hi int
	size   bool
}

func (f *intFlag) String() string { return strconv.Itoa(*f.p) }
func (f *intFlag) Type() string {
	if f.size {
		return "tokens"
	}
	return "int"
}

func (f *intFlag) Set(s string) error {
	var n int
	var err error
	if f.size {
		n, err = planner.ParseSize(s)
	} else {
		var v int64
		v, err = strconv.ParseInt(s, 10, 64)
		if err != nil {
			err = fmt.Errorf("%q is not a whole number", s)
		}
		n = int(v)
		if v < int64(f.lo) || v > int64(f.hi) {
			n = f.lo - 1
		}
	}
	if err != nil {
		return err
	}
	if n < f.lo || n > f.hi {
		return fmt.Errorf("%s is out of range [%d, %d]", s, f.lo, f.hi)
	}
	*f.p = n
	return nil
}

// floatFlag is a finite float flag with an inclusive range.
type floatFlag struct {
	p      *float64
	lo, hi float64
}

func (f *floatFlag) String() string { return strconv.FormatFloat(*f.p, 'g', -1, 64) }
func (f *floatFlag) Type() string   { return "float" }

func (f *floatFlag) Set(s string) error {
	v, err := planner.ParseNumber(s)
	if err != nil {
		return err
	}
	if v < f.lo || v > f.hi {
		return fmt.Errorf("%s is out of range [%g, %g]", s, f.lo, f.hi)
	}
	*f.p = v
	return nil
}

// Int registers a range-checked integer flag.
func Int(fs *pflag.FlagSet, p *int, name, short string, def, lo, hi int, usage string) {
	*p = def
	fs.VarP(&intFlag{p: p, lo: lo, hi: hi}, name, short, fmt.Sprintf("%s [%d, %d]", usage, lo, hi))
}

// Size registers a token-count flag (k/m suffixes).
func Size(fs *pflag.FlagSet, p *int, name string, def, lo, hi int, usage string) {
	*p = def
	fs.Var(&intFlag{p: p, lo: lo, hi: hi, size: true}, name, fmt.Sprintf("%s (k = 1024, m = 1024²) [%d, %d]", usage, lo, hi))
}

// Float registers a range-checked float flag.
func Float(fs *pflag.FlagSet, p *float64, name string, def, lo, hi float64, usage string) {
	*p = def
	fs.Var(&floatFlag{p: p, lo: lo, hi: hi}, name, fmt.Sprintf("%s [%g, %g]", usage, lo, hi))
}

// MaxRange bounds the values one a-b range may expand to.
const MaxRange = 1 << 21

// ParseIntList parses the values of an integer list flag: integers and
// inclusive ranges ("1,2,4", "1-64").
func ParseIntList(vs []string) ([]int, error) {
	var out []int
	for _, v := range vs {
		v = strings.TrimSpace(v)
		a, b, isRange := strings.Cut(v, "-")
		lo, err1 := strconv.Atoi(strings.TrimSpace(a))
		hi, err2 := lo, error(nil)
		if isRange {
			hi, err2 = strconv.Atoi(strings.TrimSpace(b))
		}
		if err1 != nil || err2 != nil || (isRange && (hi < lo || hi-lo >= MaxRange)) {
			return nil, fmt.Errorf("%q is not a whole number or a range a-b (a ≤ b, at most %d values)", v, MaxRange)
		}
		for x := lo; x <= hi; x++ {
			out = append(out, x)
		}
	}
	return out, nil
}
