package deploy

import "sort"

// ParetoPoint is one row's place in the cost/speed plane: cheaper is a
// lower Cost, faster a higher Speed. Group holds the model and quality
// class: only rows of one group are compared.
type ParetoPoint struct {
	Group uint32
	Cost  float32
	Speed float32
	// OK is false for rows without both figures: never on the frontier.
	OK bool
}

// Pareto marks the points no other point of their group beats: one that is
// at most as costly and at least as fast, and strictly better in one. It
// sorts an index (the points stay in place) and runs in O(n log n).
func Pareto(pts []ParetoPoint) []bool {
	out := make([]bool, len(pts))
	idx := make([]int32, 0, len(pts))
	for i := range pts {
		if pts[i].OK {
			idx = append(idx, int32(i))
		}
	}
	sort.Slice(idx, func(a, b int) bool {
		pa, pb := &pts[idx[a]], &pts[idx[b]]
		if pa.Group != pb.Group {
			return pa.Group < pb.Group
		}
		if pa.Cost != pb.Cost {
			return pa.Cost < pb.Cost
		}
		return pa.Speed > pb.Speed
	})
	for s := 0; s < len(idx); {
		e := s
		for e < len(idx) && pts[idx[e]].Group == pts[idx[s]].Group {
			e++
		}
		// Walk by cost; a point is dominated when a cheaper-or-equal point
		// seen so far is at least as fast (equal points both stay).
		best := float32(-1)
		for i := s; i < e; {
			j := i
			for j < e && pts[idx[j]].Cost == pts[idx[i]].Cost {
				j++
			}
			top := pts[idx[i]].Speed // the group's fastest at this cost
			for k := i; k < j; k++ {
				p := &pts[idx[k]]
				out[idx[k]] = p.Speed == top && p.Speed > best
			}
			best = max(best, top)
			i = j
		}
		s = e
	}
	return out
}
