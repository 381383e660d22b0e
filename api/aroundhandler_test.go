package api

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// TestAroundCountAll holds the one pass that counts a layer's hits by kind,
// level and status (those of them the layer has) to countBy over each
// field, for few values and more than the short lists hold, nil values
// among them, with two layers' counts kept in one scratch.
func TestAroundCountAll(t *testing.T) {
	l := onemap.Layer{ID: "t", Geometry: onemap.GeometryPoint, Fields: []onemap.Field{
		{Name: "status", Type: onemap.FieldString}, {Name: "name", Type: onemap.FieldString}, {Name: "kind", Type: onemap.FieldString}}}
	rng := rand.New(rand.NewPCG(5, 6))
	sc := aroundScratches.Get().(*aroundScratch)
	defer sc.release()
	for _, distinct := range []int{0, 1, 3, 16, 17, 40} {
		var hits []inmem.Hit
		for i := range 300 * min(distinct, 1) {
			vals := make([]any, 3)
			for j := range vals {
				if n := rng.IntN(distinct + 1); n < distinct {
					vals[j] = fmt.Sprint("v", n*(j+1))
				}
			}
			r, err := onemap.NewRecord(int64(i+1), 1, orb.Point{102, 25}, vals)
			if err != nil {
				t.Fatal(err)
			}
			hits = append(hits, inmem.Hit{Record: r})
		}
		var first aroundLayer
		sc.countAll(&first, hits, &l, allCounted)
		var e aroundLayer
		sc.countAll(&e, hits, &l, allCounted) // after the first's counts in the same scratch
		for _, e := range []*aroundLayer{&first, &e} {
			for i, field := range aroundCounted {
				at := l.FieldIndex(field)
				if e.has[i] != (at >= 0) {
					t.Fatalf("%d values, %s: has %v, the layer's index %d", distinct, field, e.has[i], at)
				}
				if at < 0 {
					continue
				}
				if want := countBy(hits, at); !slices.Equal(e.by[i], want) || e.by[i] == nil {
					t.Errorf("%d values, by %s: %v, countBy %v", distinct, field, e.by[i], want)
				}
			}
		}
	}
}
