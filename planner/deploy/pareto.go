package deploy

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

// A point beats another when it is at most as costly and at least as fast,
// and strictly better in one; equal points do not beat each other.
func beats(c1, s1, c2, s2 float32) bool {
	return c1 <= c2 && s1 >= s2 && (c1 < c2 || s1 > s2)
}

// Frontier holds, per group, the distinct points no other point of the
// group beats, so a streaming caller keeps only the frontier rather than a
// figure per row. Any point beaten by some point is beaten by a frontier
// point (beating is transitive and the set is finite), so Beaten against
// the frontier of all points gives the same answer as against all points.
type Frontier struct {
	// groups holds each group's frontier by group number: a sweep numbers
	// its groups 0, 1, … (a few per model).
	groups [][]frontierPoint
}

// frontierPoint: a group's frontier is kept sorted by Cost, and so
// strictly increasing in Speed as well.
type frontierPoint struct{ cost, speed float32 }

// Add offers one point to its group's frontier.
func (f *Frontier) Add(group uint32, cost, speed float32) { f.AddBeaten(group, cost, speed) }

// AddBeaten is Add, and reports what Beaten would have said of the point
// just before it. A point beaten then stays beaten (a frontier point is
// only ever replaced by one at most as costly and at least as fast, which
// beats whatever it beat), so a caller that adds every point may skip
// Beaten for those. For finite costs and speeds (TestAddBeatenIsBeaten).
func (f *Frontier) AddBeaten(group uint32, cost, speed float32) (beaten bool) {
	if int(group) >= len(f.groups) {
		f.groups = append(f.groups, make([][]frontierPoint, int(group)+1-len(f.groups))...)
	}
	st := f.groups[group]
	// i: the first point not cheaper than the new one.
	i := searchCost(st, cost, false)
	if i > 0 && st[i-1].speed >= speed {
		// A cheaper point is at least as fast: it beats the new one, and
		// so does st[i] if it costs the same (it is faster still).
		return true
	}
	if i < len(st) && st[i].cost == cost && st[i].speed >= speed {
		return st[i].speed > speed // the same cost, at least as fast (or the same point)
	}
	// The new point beats the run from i of points at least as costly and
	// at most as fast; the staircase makes them contiguous.
	j := i
	for j < len(st) && st[j].speed <= speed {
		j++
	}
	p := frontierPoint{cost, speed}
	switch {
	case j > i:
		st[i] = p
		st = append(st[:i+1], st[j:]...)
	default:
		st = append(st, frontierPoint{})
		copy(st[i+1:], st[i:])
		st[i] = p
	}
	f.groups[group] = st
	return false
}

// Beaten reports whether a frontier point of the group beats the point.
func (f *Frontier) Beaten(group uint32, cost, speed float32) bool {
	if int(group) >= len(f.groups) {
		return false
	}
	st := f.groups[group]
	// Only points at most as costly can beat it; of those the last is the
	// fastest.
	i := searchCost(st, cost, true)
	return i > 0 && beats(st[i-1].cost, st[i-1].speed, cost, speed)
}

// searchCost is sort.Search over the frontier's ascending costs for the
// first point costing more than cost (above) or at least cost (!above).
func searchCost(st []frontierPoint, cost float32, above bool) int {
	lo, hi := 0, len(st)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		// sort.Search's predicate, c > cost or c >= cost, as it compares a NaN.
		if c := st[m].cost; c > cost || !above && c == cost {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// Len is the number of frontier points over all groups.
func (f *Frontier) Len() int {
	n := 0
	for _, st := range f.groups {
		n += len(st)
	}
	return n
}

// Pareto marks the points no other point of their group beats: one that is
// at most as costly and at least as fast, and strictly better in one.
func Pareto(pts []ParetoPoint) []bool {
	var f Frontier
	for _, p := range pts {
		if p.OK {
			f.Add(p.Group, p.Cost, p.Speed)
		}
	}
	out := make([]bool, len(pts))
	for i, p := range pts {
		out[i] = p.OK && !f.Beaten(p.Group, p.Cost, p.Speed)
	}
	return out
}
