package numflag

import (
	"fmt"
	"testing"
)

func TestSizeFlags(t *testing.T) {
	tests := []struct {
		name, in string
		want     int
		err      bool
	}{
		{"k suffix", "32k", 32768, false},
		{"upper case", "128K", 131072, false},
		{"m suffix", "1m", 1 << 20, false},
		{"plain", "4096", 4096, false},
		{"above the range", "32m", 0, true},
		{"fraction", "1.5k", 0, true},
		{"negative", "-5", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v int
			f := &intFlag{p: &v, lo: 0, hi: 1 << 24, size: true}
			err := f.Set(tt.in)
			if (err != nil) != tt.err || v != tt.want {
				t.Errorf("Set(%q) = %d, %v", tt.in, v, err)
			}
		})
	}
}

func FuzzIntFlag(f *testing.F) {
	for _, s := range []string{"32k", "1m", "NaN", "-5", "0", "16777216"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v int
		fl := &intFlag{p: &v, lo: 0, hi: 1 << 24, size: true}
		if fl.Set(s) == nil && (v < 0 || v > 1<<24) {
			t.Fatalf("Set(%q) accepted %d out of range", s, v)
		}
		var x float64
		ff := &floatFlag{p: &x, lo: 0, hi: 1}
		if ff.Set(s) == nil && !(x >= 0 && x <= 1) {
			t.Fatalf("float Set(%q) accepted %v", s, x)
		}
	})
}

func TestParseIntList(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []int
		err  bool
	}{
		{name: "values and a range, spaces trimmed", in: []string{"1", " 4 - 6 ", "8"}, want: []int{1, 4, 5, 6, 8}},
		{name: "a one-value range", in: []string{"3-3"}, want: []int{3}},
		{name: "a backwards range", in: []string{"8-1"}, err: true},
		{name: "a range over MaxRange values", in: []string{"0-2097152"}, err: true},
		{name: "not a number", in: []string{"four"}, err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseIntList(tc.in)
			if tc.err {
				if err == nil {
					t.Fatalf("ParseIntList(%q) = %v, want an error", tc.in, got)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("ParseIntList(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

// FuzzParseIntList: any list either fails or expands to at most MaxRange
// values per element, each inside its range.
func FuzzParseIntList(f *testing.F) {
	for _, s := range []string{"1", "1-64", "8-1", "-3", "1--2", " 7 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseIntList([]string{s})
		if err == nil && len(got) > MaxRange {
			t.Errorf("%q expanded to %d values", s, len(got))
		}
	})
}
