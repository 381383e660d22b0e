package inmem

import (
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/planar"
	"github.com/paulmach/orb"
)

// A polygon's long rings are read in runs of runStep edges, each with the
// box of its vertices, so that the tests of a point against the outline
// (does the polygon hold it: containsRecord; how far is its outline:
// outlineDistance) pass over a run that cannot matter at a few comparisons
// instead of a few for each of its edges. A county's outline of 1,200
// vertices crosses a point's latitude in a handful of runs, and comes
// within a kilometre of it in as few. Rings of fewer than runMinEdges edges
// are walked edge by edge, as they were.
const (
	runStep     = 16
	runMinEdges = 64
)

// noRuns marks a record whose rings are all short.
var noRuns = [][]orb.Bound{}

// runsOf returns the runs' boxes of each of the record's rings, in the
// order eachRing walks them (nil for a short ring), made on first use and
// kept with the record (records never change once published); nil when
// the record has no long ring or is not a polygon.
func runsOf(rec *onemap.Record) [][]orb.Bound {
	if p := rec.Runs(); p != nil {
		if len(*p) == 0 { // noRuns
			return nil
		}
		return *p
	}
	var runs [][]orb.Bound
	long := false
	eachRing(rec.Geometry, func(r orb.Ring) {
		var boxes []orb.Bound
		if len(r)-1 >= runMinEdges {
			boxes, long = planar.RingRuns(r, runStep), true
		}
		runs = append(runs, boxes)
	})
	if !long {
		runs = noRuns
	}
	rec.SetRuns(&runs) // another reader may store the same at once: either does
	if !long {
		return nil
	}
	return runs
}

// containsRecord is contains(rec.Geometry, p), with the record's runs.
func containsRecord(rec *onemap.Record, p orb.Point) bool {
	runs := runsOf(rec)
	if runs == nil {
		return contains(rec.Geometry, p)
	}
	switch g := rec.Geometry.(type) {
	case orb.Polygon:
		return planar.PolygonIntersectsRuns(g, runs, runStep, p)
	case orb.MultiPolygon:
		at := 0
		for _, poly := range g {
			if planar.PolygonIntersectsRuns(poly, runs[at:at+len(poly)], runStep, p) {
				return true
			}
			at += len(poly)
		}
	}
	return false
}

// eachRing calls fn with each ring of a polygon or multipolygon, in order:
// a polygon's exterior then its holes, polygon after polygon. Other
// geometries have none.
func eachRing(g orb.Geometry, fn func(orb.Ring)) {
	switch g := g.(type) {
	case orb.Polygon:
		for _, r := range g {
			fn(r)
		}
	case orb.MultiPolygon:
		for _, poly := range g {
			for _, r := range poly {
				fn(r)
			}
		}
	}
}
