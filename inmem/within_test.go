package inmem_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
)

// starPolygon is a simple polygon around c: n vertices at random angles
// in order and random distances, so it never crosses itself.
func starPolygon(rng *rand.Rand, c orb.Point, maxDeg float64) orb.Polygon {
	n := 5 + rng.IntN(8)
	angles := make([]float64, n)
	for i := range angles {
		angles[i] = rng.Float64() * 2 * math.Pi
	}
	slices.Sort(angles)
	ring := make(orb.Ring, 0, n+1)
	for _, a := range angles {
		r := maxDeg * (0.2 + 0.8*rng.Float64())
		ring = append(ring, orb.Point{c[0] + r*math.Cos(a), c[1] + r*math.Sin(a)})
	}
	return orb.Polygon{append(ring, ring[0])}
}

// TestIntersecting_againstPostGIS: for 400 random polygons and 300 random
// boxes over the demo county, the grids, cameras and stations that meet
// each are those of ST_Intersects.
func TestIntersecting_againstPostGIS(t *testing.T) {
	snap, conn, county := queryDB(t)
	rng := rand.New(rand.NewPCG(13, 17))
	centres := randomPoints(county, 700)
	for i, c := range centres {
		var area orb.Geometry
		if i < 400 {
			area = starPolygon(rng, c, 0.005+rng.Float64()*0.05)
		} else {
			w, h := rng.Float64()*0.05, rng.Float64()*0.05
			area = orb.Bound{Min: orb.Point{c[0] - w, c[1] - h}, Max: orb.Point{c[0] + w, c[1] + h}}
		}
		text := wkt.MarshalString(area)
		if b, ok := area.(orb.Bound); ok {
			text = wkt.MarshalString(b.ToPolygon())
		}
		for _, layer := range []string{onemap.LayerGrids, onemap.LayerCameras, onemap.LayerStations} {
			var got []int64
			for _, r := range snap.Intersecting(layer, area, nil) {
				got = append(got, r.ID)
			}
			rows, err := conn.Query(t.Context(), `SELECT id FROM `+layer+` WHERE ST_Intersects(geom, ST_GeomFromText($1, 4326)) ORDER BY id`, text)
			if err != nil {
				t.Fatal(err)
			}
			var want []int64
			for rows.Next() {
				var id int64
				rows.Scan(&id)
				want = append(want, id)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("area %d %s, %s: replica %d features %v, PostGIS %d %v", i, text, layer, len(got), got, len(want), want)
			}
		}
	}
}
