package sweep

import "testing"

func TestGroupDigits(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0"}, {999, "999"}, {1000, "1,000"}, {1280, "1,280"}, {-1234567, "-1,234,567"}, {100000, "100,000"},
	}
	for _, tt := range tests {
		if got := GroupDigits(tt.n); got != tt.want {
			t.Errorf("GroupDigits(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
