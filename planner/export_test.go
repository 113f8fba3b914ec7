package planner

// SetDirect switches p's Prepare-time step tables off (on = true) so tests
// can compare Evaluate's fast path with the direct computation.
func SetDirect(p *Prepared, on bool) { p.direct = on }
