// Package testfix holds small helpers that tests in several packages
// share and that need no database (internal/pgtest is for those). It is
// for tests only, and imports nothing of OneMap's, so that any package's
// internal tests can use it.
package testfix

import "github.com/paulmach/orb"

// Segments calls fn with the ends of every segment of g's rings, ring by
// ring and in order, when g is an orb.Polygon or orb.MultiPolygon; for
// any other geometry it does not call fn.
func Segments(g orb.Geometry, fn func(a, b orb.Point)) {
	ring := func(r orb.Ring) {
		for i := 1; i < len(r); i++ {
			fn(r[i-1], r[i])
		}
	}
	switch g := g.(type) {
	case orb.Polygon:
		for _, r := range g {
			ring(r)
		}
	case orb.MultiPolygon:
		for _, poly := range g {
			for _, r := range poly {
				ring(r)
			}
		}
	}
}
