//go:build baselines_regen

package baselines

// genDefault is nil when built with the tag baselines_regen: the default
// set is then parsed from data/default.json, so that a refit and
// go generate ./baselines work even while default_gen.go is stale or, after
// a change to planner.Baselines, does not compile.
func genDefault() *Set { return nil }
