package inmem_test

import (
	"math"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// outlineCase is a feature whose outline Touching may measure from a point.
type outlineCase struct {
	rec *onemap.Record
	p   orb.Point
}

// outlineCases returns, at n random points over the demo county, the grids
// and hazard zones whose boxes lie within about r of the point (those
// Touching may measure) with the point.
func outlineCases(snap *inmem.Snapshot, county orb.Bound, n int, r float64) []outlineCase {
	var out []outlineCase
	for _, p := range randomPoints(county, n) {
		d := r / 100_000 // degrees, wide enough at the county's latitude
		b := orb.Bound{Min: orb.Point{p[0] - d, p[1] - d}, Max: orb.Point{p[0] + d, p[1] + d}}
		for _, layer := range []string{onemap.LayerGrids, onemap.LayerHazardZones} {
			snap.Search(layer, b, func(rec *onemap.Record) bool {
				out = append(out, outlineCase{rec, p})
				return true
			})
		}
	}
	return out
}

// TestOutlineDistance_before holds outlineDistance to what it was before
// its walk kept its state in locals: the same float (or both beyond the
// limit) for every grid and hazard zone near 2,000 random points over the
// demo county, at limits from 0 to 8 km.
func TestOutlineDistance_before(t *testing.T) {
	snap, _, county := queryDB(t)
	cases := outlineCases(snap, county, 2000, 8000)
	if len(cases) < 2000 {
		t.Fatalf("only %d outlines near the points", len(cases))
	}
	for i, c := range cases {
		for _, limit := range []float64{0, 50, 300, 1000, 2500, 8000, math.Inf(1)} {
			got := inmem.OutlineDistanceOf(c.rec, c.p, limit)
			want := inmem.OutlineDistanceBeforeOf(c.rec, c.p, limit)
			if got != want && !(got > limit && want > limit) {
				t.Fatalf("case %d, feature %d from %v, limit %v: %v, before %v", i, c.rec.ID, c.p, limit, got, want)
			}
		}
	}
	t.Logf("%d outlines", len(cases))
}

// BenchmarkOutlineDistance measures the outlines of the grids and hazard
// zones near 512 random points over the demo county at 1 km (as /api/around
// does), the walk as it was (before) and as it is (after) in turns of 64
// outlines each in one run, and reports each one's CPU time an outline and
// their ratio:
//
//	go test ./inmem -run '^$' -bench OutlineDistance -count 5
func BenchmarkOutlineDistance(b *testing.B) {
	snap, _, county := queryDB(b)
	cases := outlineCases(snap, county, 512, 1000)
	var before, after, n int64
	sink := 0.0
	for i := 0; b.Loop(); i++ {
		at := (i * 64) % len(cases)
		batch := cases[at:min(at+64, len(cases))]
		t0 := processCPU()
		for _, c := range batch {
			sink += inmem.OutlineDistanceBeforeOf(c.rec, c.p, 1000)
		}
		t1 := processCPU()
		for _, c := range batch {
			sink += inmem.OutlineDistanceOf(c.rec, c.p, 1000)
		}
		t2 := processCPU()
		before, after, n = before+int64(t1-t0), after+int64(t2-t1), n+int64(len(batch))
	}
	if math.IsNaN(sink) {
		b.Fatal("NaN")
	}
	b.ReportMetric(float64(before)/float64(n), "before-cpu-ns/outline")
	b.ReportMetric(float64(after)/float64(n), "after-cpu-ns/outline")
	b.ReportMetric(float64(after)/float64(before), "after/before")
}
