package inmem_test

import (
	"testing"

	"github.com/onemapgis/onemap"
)

// BenchmarkTouching finds the grids and the hazard zones that touch a
// circle of 1 km, as /api/around does, at 512 random points over the demo
// county:
//
//	go test ./inmem -run '^$' -bench Touching -count 5
func BenchmarkTouching(b *testing.B) {
	snap, _, county := queryDB(b)
	points := randomPoints(county, 512)
	b.ReportAllocs()
	cpu0 := processCPU()
	for i := 0; b.Loop(); i++ {
		p := points[i%len(points)]
		snap.Touching(onemap.LayerGrids, p, 1000, nil)
		snap.Touching(onemap.LayerHazardZones, p, 1000, nil)
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}
