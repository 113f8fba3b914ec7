package workbook

import "testing"

func TestInts(t *testing.T) {
	tests := []struct {
		name string
		in   []int
		want string
	}{
		{name: "a long axis is one range", in: []int{1, 2, 3, 4, 5}, want: "1-5"},
		{name: "two consecutive values stay a list", in: []int{1, 2, 8}, want: "1, 2, 8"},
		{name: "mixed", in: []int{1, 16, 17, 18, 64}, want: "1, 16-18, 64"},
		{name: "empty", in: nil, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ints(tc.in); got != tc.want {
				t.Errorf("ints(%v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
