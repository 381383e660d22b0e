package inmem_test

import (
	"testing"

	"github.com/onemapgis/onemap"
)

// BenchmarkAroundInmem is what /api/around asks of the replica at a point
// (radius 1 km): the point layers' features within the radius, and the
// hazard zones and grids that hold the point or come within it, at 512
// random points over the demo county:
//
//	go test ./inmem -run '^$' -bench AroundInmem -count 5
func BenchmarkAroundInmem(b *testing.B) { benchmarkAround(b, true) }

// BenchmarkWithinInmem is the point layers' part of BenchmarkAroundInmem.
func BenchmarkWithinInmem(b *testing.B) { benchmarkAround(b, false) }

// benchmarkAround asks what around asks at random points over the county,
// with the zones and grids when touching is set, and reports CPU a point.
func benchmarkAround(b *testing.B, touching bool) {
	snap, _, county := queryDB(b)
	points := randomPoints(county, 512)
	var layers []string
	for _, l := range onemap.NewCatalog().Layers() {
		if l.Geometry == onemap.GeometryPoint {
			layers = append(layers, l.ID)
		}
	}
	b.ReportAllocs()
	cpu0 := processCPU()
	for i := 0; b.Loop(); i++ {
		p := points[i%len(points)]
		for _, l := range layers {
			snap.WithinDistance(l, p, 1000, nil)
		}
		if touching {
			snap.Touching(onemap.LayerHazardZones, p, 1000, nil)
			snap.Touching(onemap.LayerGrids, p, 1000, nil)
		}
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}
