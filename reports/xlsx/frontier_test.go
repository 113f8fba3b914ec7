package xlsx

import (
	"slices"
	"testing"
)

func TestInsertFrontier(t *testing.T) {
	tests := []struct {
		name string
		in   []point // inserted in this order
		want []point // the frontier, by cost
	}{
		{name: "a dominated point after its dominator is not added",
			in: []point{{x: 100, y: 0.4}, {x: 50, y: 0.5}}, want: []point{{x: 100, y: 0.4}}},
		{name: "a dominating point removes the points it beats",
			in: []point{{x: 50, y: 0.5}, {x: 20, y: 0.6}, {x: 100, y: 0.4}}, want: []point{{x: 100, y: 0.4}}},
		{name: "a trade-off keeps both, cheaper first",
			in: []point{{x: 100, y: 0.4}, {x: 10, y: 0.1}}, want: []point{{x: 10, y: 0.1}, {x: 100, y: 0.4}}},
		{name: "equal cost keeps the faster",
			in: []point{{x: 10, y: 0.1}, {x: 20, y: 0.1}, {x: 15, y: 0.1}}, want: []point{{x: 20, y: 0.1}}},
		{name: "equal speed keeps the cheaper",
			in: []point{{x: 10, y: 0.2}, {x: 10, y: 0.1}, {x: 10, y: 0.3}}, want: []point{{x: 10, y: 0.1}}},
		{name: "a point between two frontier points, dominated by neither, goes between",
			in: []point{{x: 10, y: 0.1}, {x: 100, y: 0.4}, {x: 50, y: 0.2}}, want: []point{{x: 10, y: 0.1}, {x: 50, y: 0.2}, {x: 100, y: 0.4}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f []point
			for _, p := range tc.in {
				insertFrontier(&f, p)
			}
			if !slices.Equal(f, tc.want) {
				t.Errorf("frontier %v, want %v", f, tc.want)
			}
		})
	}
}

func TestThin(t *testing.T) {
	ps := make([]point, 10)
	for i := range ps {
		ps[i].x = float64(i)
	}
	got := thin(ps, 4)
	// Indices round(i·9/3) for i = 0..3: 0, 3, 6, 9.
	if want := []point{{x: 0}, {x: 3}, {x: 6}, {x: 9}}; !slices.Equal(got, want) {
		t.Errorf("thin %v, want %v", got, want)
	}
	if len(thin(ps, 20)) != 10 {
		t.Error("thin drops points it need not")
	}
}
