package inmem

import (
	"math/rand/v2"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

// BenchmarkIndexLoad is the index of a province's cameras built at a load
// (the id tree, the R-tree and the tile counts): 2,000,000 points over
// Yunnan's box, in id order as a load reads them. It reports the time a
// point.
func BenchmarkIndexLoad(b *testing.B) {
	const n = 2_000_000
	rng := rand.New(rand.NewPCG(1, 2))
	recs := make([]*onemap.Record, n)
	for i := range recs {
		p := orb.Point{97.5 + rng.Float64()*8.7, 21.1 + rng.Float64()*8.1}
		recs[i] = &onemap.Record{ID: int64(i + 1), Geometry: p, Bound: p.Bound()}
	}
	l, _ := onemap.NewCatalog().Layer(onemap.LayerCameras)
	b.ResetTimer()
	for range b.N {
		x := newIndex(&l)
		x.load(append([]*onemap.Record(nil), recs...))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/point")
}
