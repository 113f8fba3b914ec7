package deploy

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// TestParetoMatchesBruteForce: the frontier-based marking equals the
// definition applied to every pair, on random points with many ties
// (small integer figures) in a few groups, points offered in random order.
func TestParetoMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 500; trial++ {
		n := 1 + rng.IntN(60)
		pts := make([]ParetoPoint, n)
		for i := range pts {
			pts[i] = ParetoPoint{Group: uint32(rng.IntN(3)), Cost: float32(rng.IntN(8)), Speed: float32(rng.IntN(8)), OK: rng.IntN(10) > 0}
		}
		got := Pareto(pts)
		for i, p := range pts {
			want := p.OK
			for j, q := range pts {
				if j != i && q.OK && q.Group == p.Group && beats(q.Cost, q.Speed, p.Cost, p.Speed) {
					want = false
				}
			}
			if got[i] != want {
				t.Fatalf("trial %d point %d %+v: pareto %v, want %v (points %+v)", trial, i, p, got[i], want, pts)
			}
		}
	}
}

// TestFrontierKeepsOnlyTheStaircase: points beaten later leave the
// frontier, so its size is that of the staircase, not of the input.
func TestFrontierKeepsOnlyTheStaircase(t *testing.T) {
	var f Frontier
	for i := 0; i < 1000; i++ {
		f.Add(0, float32(1000-i), float32(i)) // each later point is cheaper and faster
	}
	if f.Len() != 1 {
		t.Fatalf("frontier holds %d points, want 1", f.Len())
	}
	for i := 0; i < 5; i++ {
		f.Add(1, float32(i), float32(i)) // a trade-off: all stay
	}
	if f.Len() != 6 {
		t.Fatalf("frontier holds %d points, want 6", f.Len())
	}
	if !f.Beaten(1, 2.5, 1) || f.Beaten(1, 2, 2) || f.Beaten(1, 0, 0.5) {
		t.Fatal("Beaten disagrees with the staircase {(0,0) … (4,4)}")
	}
}

// TestSearchCostIsSortSearch holds the frontier's branch-free search to
// sort.Search's answers over sorted costs with repeats, for costs on,
// between and outside them, and NaN.
func TestSearchCostIsSortSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for n := range 40 {
		st := make([]frontierPoint, n)
		for i := range st {
			st[i].cost = float32(rng.IntN(12))
		}
		slices.SortFunc(st, func(a, b frontierPoint) int { return cmp.Compare(a.cost, b.cost) })
		for _, c := range []float32{-1, 0, 0.5, 3, 5.5, 11, 12, float32(math.NaN()), float32(math.Inf(1))} {
			for _, above := range []bool{false, true} {
				want := sort.Search(len(st), func(k int) bool {
					if above {
						return st[k].cost > c
					}
					return st[k].cost >= c
				})
				if got := searchCost(st, c, above); got != want {
					t.Fatalf("n %d cost %v above %v: %d, sort.Search %d (%v)", n, c, above, got, want, st)
				}
			}
		}
	}
}

// TestAddBeatenIsBeaten: AddBeaten reports exactly what Beaten says of the
// point just before it is added, and a point reported beaten is still
// beaten once every point is in, over random points with ties in cost and
// speed (small integers) in a few groups.
func TestAddBeatenIsBeaten(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := 0; trial < 500; trial++ {
		var f Frontier
		n := 1 + rng.IntN(80)
		pts := make([]ParetoPoint, n)
		beaten := make([]bool, n)
		for i := range pts {
			p := ParetoPoint{Group: uint32(rng.IntN(3)), Cost: float32(rng.IntN(10)), Speed: float32(rng.IntN(10))}
			pts[i] = p
			want := f.Beaten(p.Group, p.Cost, p.Speed)
			if beaten[i] = f.AddBeaten(p.Group, p.Cost, p.Speed); beaten[i] != want {
				t.Fatalf("trial %d point %d %+v: AddBeaten %v, Beaten before %v", trial, i, p, beaten[i], want)
			}
		}
		for i, p := range pts {
			if beaten[i] && !f.Beaten(p.Group, p.Cost, p.Speed) {
				t.Fatalf("trial %d point %d %+v: beaten when added, not at the end", trial, i, p)
			}
		}
	}
}
