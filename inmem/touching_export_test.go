package inmem

import "github.com/paulmach/orb"

// Contains and OutlineDistanceAt open contains and outlineDistance (in a
// plane tangent at p) to the external tests.
var Contains = contains

func OutlineDistanceAt(g orb.Geometry, p orb.Point, limit float64) float64 {
	return outlineDistance(g, nil, tangentPlane(p), limit)
}
