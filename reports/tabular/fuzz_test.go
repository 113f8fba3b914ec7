package tabular

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// FuzzCSVField checks appendCSVField against encoding/csv's Writer (which
// the CSV writer used before): the same bytes for any string, with and
// without the formula guard.
func FuzzCSVField(f *testing.F) {
	for _, s := range []string{"", "plain", "a,b", `q"uote`, "nl\n", "cr\r", " lead", "\u00a0nbsp", `\.`, "=1+1", "-x,y", "@\"", "\tt", "\xff"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, guard bool) {
		guard = guard && reports.NeedsFormulaGuard(s)
		field := s
		if guard {
			field = reports.NeutralizeFormula(s)
		}
		var want bytes.Buffer
		cw := csv.NewWriter(&want)
		if err := cw.Write([]string{field}); err != nil {
			t.Fatal(err)
		}
		cw.Flush()
		got := append(appendCSVField(nil, s, guard), '\n')
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("field %q guard %v: got %q, encoding/csv writes %q", s, guard, got, want.Bytes())
		}
	})
}

// FuzzJSONString checks appendJSONString against encoding/json: the output
// must be valid JSON and decode to the input (with invalid UTF-8 replaced).
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "nl\n\r\t", "\x00\x1f\x7f", "\u2028\u2029", "ü漢🚀", "\xff\xfe", "a\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("invalid JSON %q for %q: %v", b, s, err)
		}
		want := s
		if !utf8.ValidString(s) {
			want = string([]rune(s)) // invalid bytes → U+FFFD, as encoding/json does
		}
		if got != want {
			t.Fatalf("round trip %q → %s → %q", s, b, got)
		}
	})
}

// FuzzJSONFloat checks appendJSONFloat: valid JSON that reads back as the same
// float64 (shortest form), as v rounded to 12 significant digits (the
// default) or within the fixed precision; null for non-finite.
func FuzzJSONFloat(f *testing.F) {
	for _, v := range []float64{0, -0.0, 1, 0.1, 1e21, 1e-7, math.MaxFloat64, math.SmallestNonzeroFloat64, -123.456} {
		f.Add(v, uint8(0))
	}
	f.Add(math.NaN(), uint8(0))
	f.Add(math.Inf(-1), uint8(3))
	f.Fuzz(func(t *testing.T, v float64, p uint8) {
		// p%19: 0 the shortest form, 1 the default, 2 … 18 decimals 1 … 17
		prec := int(p%19) - 1
		switch prec {
		case -1:
			prec = precShortest
		case 0:
			prec = precDefault
		}
		b := appendJSONFloat(nil, v, prec)
		var got *float64
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("invalid JSON %q for %v: %v", b, v, err)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			if got != nil {
				t.Fatalf("%v encoded as %s, want null", v, b)
			}
			return
		}
		if got == nil {
			t.Fatalf("%v encoded as null", v)
		}
		if prec == precShortest && *got != v {
			t.Fatalf("%v → %s → %v", v, b, *got)
		}
		if prec == precDefault {
			want, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', FloatDigits, 64), 64)
			if *got != want {
				t.Fatalf("%v to %d digits → %s → %v, want %v", v, FloatDigits, b, *got, want)
			}
		}
		if prec >= 0 {
			want, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', prec, 64), 64)
			if *got != want {
				t.Fatalf("%v at %d decimals → %s → %v, want %v", v, prec, b, *got, want)
			}
		}
	})
}
