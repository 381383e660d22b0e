package inmem

import (
	"math"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

// outlineDistanceBefore is outlineDistance as it was, its walk in closures
// over its state: what TestOutlineDistance_before holds the new one to,
// and BenchmarkOutlineDistance measures it against.
func outlineDistanceBefore(g orb.Geometry, runs [][]orb.Bound, pl plane, limit float64) float64 {
	best := limit // the nearest so far, at most the limit
	found := false
	var xLo, xHi, yLo, yHi float64 // best's reach in degrees, a hair wider
	reach := func() {
		const wider, hair = 1 + 1e-9, 1e-12
		dx, dy := best/pl.kx*wider+hair, best/pl.ky*wider+hair
		xLo, xHi, yLo, yHi = pl.p[0]-dx, pl.p[0]+dx, pl.p[1]-dy, pl.p[1]+dy
	}
	reach()
	edges := func(r orb.Ring, lo, hi int) { // those ending at vertices lo to hi
		for i := lo; i <= hi; i++ {
			a, b := r[i-1], r[i]
			if a[0] > xHi && b[0] > xHi || a[0] < xLo && b[0] < xLo ||
				a[1] > yHi && b[1] > yHi || a[1] < yLo && b[1] < yLo {
				continue
			}
			if d := segmentDistanceBefore(pl.to(a), pl.to(b)); d <= best {
				if d < best {
					best = d
					reach()
				}
				found = true
			}
		}
	}
	k := 0 // the ring's index in runs, as eachRing (runs.go) walks them
	eachRing(g, func(r orb.Ring) {
		var boxes []orb.Bound
		if k < len(runs) {
			boxes = runs[k]
		}
		k++
		if boxes == nil {
			edges(r, 1, len(r)-1)
			return
		}
		for j, bx := range boxes {
			if bx.Min[0] > xHi || bx.Max[0] < xLo || bx.Min[1] > yHi || bx.Max[1] < yLo {
				continue
			}
			edges(r, j*runStep+1, min((j+1)*runStep, len(r)-1))
		}
	})
	if !found {
		return math.Inf(1)
	}
	return best
}

// segmentDistanceBefore is segmentDistance as it was.
func segmentDistanceBefore(a, b orb.Point) float64 {
	d := orb.Point{b[0] - a[0], b[1] - a[1]}
	l2 := d[0]*d[0] + d[1]*d[1]
	t := 0.0
	if l2 > 0 {
		t = math.Max(0, math.Min(1, -(a[0]*d[0]+a[1]*d[1])/l2))
	}
	return math.Hypot(a[0]+t*d[0], a[1]+t*d[1])
}

// OutlineDistanceOf and OutlineDistanceBeforeOf are outlineDistance and
// outlineDistanceBefore of a record's outline from p (in the plane tangent
// there, with the record's runs), for the external tests.
func OutlineDistanceOf(rec *onemap.Record, p orb.Point, limit float64) float64 {
	return outlineDistance(rec.Geometry, runsOf(rec), tangentPlane(p), limit)
}

func OutlineDistanceBeforeOf(rec *onemap.Record, p orb.Point, limit float64) float64 {
	return outlineDistanceBefore(rec.Geometry, runsOf(rec), tangentPlane(p), limit)
}
