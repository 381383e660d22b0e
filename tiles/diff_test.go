package tiles_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/internal/testfix"
	"github.com/onemapgis/onemap/postgis"
	"github.com/onemapgis/onemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/planar"
)

// demoCounty is the demo county as the tile tests read it: a database of
// its own (a copy of pgtest.DemoURL), the catalog and replica snapshot
// loaded from it, and diffTiles over its region.
type demoCounty struct {
	db      *postgis.DB
	catalog *onemap.Catalog
	snap    *inmem.Snapshot
	tiles   []maptile.Tile
}

// loadDemoCounty opens a copy of the demo database and loads a replica of
// it (see demoCounty). It needs PostGIS.
func loadDemoCounty(tb testing.TB) demoCounty {
	tb.Helper()
	db := pgtest.Open(tb, pgtest.DemoURL(tb))
	catalog := onemap.NewCatalog()
	replica := inmem.New(catalog)
	if err := replica.LoadFrom(tb.Context(), db); err != nil {
		tb.Fatal(err)
	}
	snap := replica.Snapshot()
	region, err := db.FindRegion(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	return demoCounty{db: db, catalog: catalog, snap: snap, tiles: diffTiles(snap, region.Bound)}
}

// diffTiles returns the tiles the differential test compares: every tile
// over the county at zooms 8 to 12, and at 13 to 16 the tiles around a
// seeded sample of the county's points (where the data is dense).
func diffTiles(snap *inmem.Snapshot, county orb.Bound) []maptile.Tile {
	var out []maptile.Tile
	seen := map[maptile.Tile]bool{}
	add := func(t maptile.Tile) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for z := maptile.Zoom(8); z <= 12; z++ {
		min, max := maptile.At(orb.Point{county.Min.Lon(), county.Max.Lat()}, z), maptile.At(orb.Point{county.Max.Lon(), county.Min.Lat()}, z)
		for x := min.X; x <= max.X; x++ {
			for y := min.Y; y <= max.Y; y++ {
				add(maptile.New(x, y, z))
			}
		}
	}
	var points []orb.Point
	for _, l := range []string{onemap.LayerCameras, onemap.LayerRiskPoints, onemap.LayerStations, onemap.LayerHouseholds} {
		snap.Ascend(l, 0, func(r *onemap.Record) bool { points = append(points, r.Geometry.(orb.Point)); return true })
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for z := maptile.Zoom(13); z <= 16; z++ {
		for n := len(out); len(out) < n+110; {
			add(maptile.At(points[rng.IntN(len(points))], z))
		}
	}
	return out
}

// specsFor returns a tileset of every layer with every field (a commander's
// "all" tileset, personal fields included), for both encoders.
func specsFor(catalog *onemap.Catalog) []onemap.TileLayer {
	var specs []onemap.TileLayer
	for _, l := range catalog.Layers() {
		spec := onemap.TileLayer{Layer: l, MinZoom: l.MinZoom, MaxZoom: l.MaxZoom, ClusterBelow: l.ClusterBelow, ClusterFields: l.ClusterFields}
		for _, f := range l.Fields {
			spec.Fields = append(spec.Fields, f.Name)
		}
		specs = append(specs, spec)
	}
	return specs
}

func layersByName(t *testing.T, b []byte) map[string]*mvt.Layer {
	t.Helper()
	out := map[string]*mvt.Layer{}
	if len(b) == 0 {
		return out
	}
	ls, err := mvt.Unmarshal(b)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	for _, l := range ls {
		out[l.Name] = l
	}
	return out
}

// featureID returns a decoded feature's id (orb's decoder gives a float64).
func featureID(f *geojson.Feature) uint64 {
	return uint64(toFloat(f.ID))
}

// TestDiff_againstPostGIS compares the Go encoder over the replica with
// PostGIS's ST_AsMVT over the same data, tile by tile, for more than 500
// tiles at zooms 8 to 16 over the demo county. The rules it checks:
//
//   - Polygons (grids): the same ids, except a polygon less than two tile
//     units across, which either side may drop as collapsed; each
//     polygon's bounding box within two units of the other's (we simplify
//     with a tolerance of one unit and PostGIS with half a unit, and both
//     round), or within four where the areas agree within 8 square units
//     (a hair of a spike that PostGIS's validity repair removes), where
//     both lie within the tile and the inner half of its buffer (see
//     inner); and, for every polygon, its area within 1% plus one unit per
//     unit of perimeter of the other's.
//   - Points at zooms where a layer is not clustered: the same ids, each at
//     the same place within one unit, with the same properties.
//   - Clustered points (zooms below the layer's ClusterBelow): every
//     feature is a point that ST_AsMVT has too, within one unit, with its
//     properties, or, if it stands for several, only those of the layer's
//     ClusterFields, point_count and its counts by level; the counts
//     (point_count, 1 where absent) add up to the number of ST_AsMVT's
//     points, give or take the points on the buffer's edge; and each
//     cell (ClusterCell units) holds at most one feature.
//   - Points on the buffer's edge (within a unit, or past it) may be in one
//     tile and not the other: rounding, and PostGIS's float4 index boxes,
//     decide on which side they fall.
//   - Properties of features in both are equal.
func TestDiff_againstPostGIS(t *testing.T) {
	county := loadDemoCounty(t)
	db, snap, list := county.db, county.snap, county.tiles
	specs := specsFor(county.catalog)
	if len(list) < 500 {
		t.Fatalf("only %d tiles to compare", len(list))
	}
	perZoom := map[maptile.Zoom]int{}
	compared := map[string]int{}
	for _, tile := range list {
		perZoom[tile.Z]++
		ours, err := tiles.Encode(snap, tile, specs)
		if err != nil {
			t.Fatalf("%v: %v", tile, err)
		}
		ref, err := db.Tile(t.Context(), tile, specs)
		if err != nil {
			t.Fatalf("%v: %v", tile, err)
		}
		got, want := layersByName(t, ours), layersByName(t, ref)
		for _, spec := range specs {
			name := spec.Layer.ID
			g, w := got[name], want[name]
			if g == nil {
				g = &mvt.Layer{}
			}
			if w == nil {
				w = &mvt.Layer{}
			}
			where := fmt.Sprintf("tile %d/%d/%d layer %s", tile.Z, tile.X, tile.Y, name)
			switch {
			case spec.Layer.Geometry != onemap.GeometryPoint:
				comparePolygons(t, where, g, w)
			case spec.ClusterBelow > 0 && tile.Z < spec.ClusterBelow:
				compareClusters(t, where, g, w, spec.ClusterFields)
			default:
				comparePoints(t, where, g, w)
			}
			compared[name] += len(w.Features)
		}
		if t.Failed() {
			t.Fatalf("stopping at the first tile that differs")
		}
	}
	t.Logf("compared %d tiles (%v per zoom), ST_AsMVT features per layer %v", len(list), perZoom, compared)
}

func comparePoints(t *testing.T, where string, got, want *mvt.Layer) {
	t.Helper()
	byID := map[uint64]*geojson.Feature{}
	for _, f := range want.Features {
		byID[featureID(f)] = f
	}
	for _, f := range got.Features {
		w, ok := byID[featureID(f)]
		if !ok {
			if !nearEdge(f.Geometry.(orb.Point)) {
				t.Errorf("%s: feature %d is not in ST_AsMVT's tile", where, featureID(f))
			}
			continue
		}
		if d := planar.Distance(f.Geometry.(orb.Point), w.Geometry.(orb.Point)); d > 1 {
			t.Errorf("%s: feature %d at %v, ST_AsMVT at %v", where, featureID(f), f.Geometry, w.Geometry)
		}
		compareProps(t, where, featureID(f), f.Properties, w.Properties)
	}
	for _, f := range want.Features {
		if !nearEdge(f.Geometry.(orb.Point)) && !hasID(got, featureID(f)) {
			t.Errorf("%s: ST_AsMVT's feature %d is missing", where, featureID(f))
		}
	}
}

func compareClusters(t *testing.T, where string, got, want *mvt.Layer, keep []string) {
	t.Helper()
	byID := map[uint64]*geojson.Feature{}
	for _, f := range want.Features {
		byID[featureID(f)] = f
	}
	sum := 0
	cells := map[[2]int]uint64{}
	for _, f := range got.Features {
		p := f.Geometry.(orb.Point)
		w, ok := byID[featureID(f)]
		if !ok {
			t.Errorf("%s: cluster point %d is not a point of ST_AsMVT's tile", where, featureID(f))
			continue
		}
		if d := planar.Distance(p, w.Geometry.(orb.Point)); d > 1 {
			t.Errorf("%s: cluster point %d at %v, ST_AsMVT at %v", where, featureID(f), p, w.Geometry)
		}
		// A point within one unit of a cell's side may have been rounded
		// across it.
		cell := [2]int{int(math.Floor(p[0] / tiles.ClusterCell)), int(math.Floor(p[1] / tiles.ClusterCell))}
		if !nearCellSide(p) {
			if other, dup := cells[cell]; dup {
				t.Errorf("%s: cell %v holds features %d and %d", where, cell, other, featureID(f))
			}
			cells[cell] = featureID(f)
		}
		n := 1
		props := w.Properties
		if v, ok := f.Properties[tiles.PointCount]; ok {
			n = int(toFloat(v))
			props = map[string]any{tiles.PointCount: v}
			for _, k := range keep {
				if v, ok := w.Properties[k]; ok {
					props[k] = v
				}
			}
			// Its counts by level, and by kind (stations), which ST_AsMVT
			// has not: each at least one, together no more than it stands
			// for.
			levels, kinds := 0, 0
			for k, lv := range f.Properties {
				if strings.HasPrefix(k, tiles.LevelCountPrefix) {
					props[k] = lv
					if c := int(toFloat(lv)); c < 1 {
						t.Errorf("%s: feature %d has %s %v", where, featureID(f), k, lv)
					} else if strings.HasPrefix(k, tiles.CountByPrefix("kind")) {
						kinds += c
					} else {
						levels += c
					}
				}
			}
			if levels > n || kinds > n {
				t.Errorf("%s: feature %d stands for %d points, %d by level, %d by kind", where, featureID(f), n, levels, kinds)
			}
		}
		compareProps(t, where, featureID(f), f.Properties, props)
		sum += n
	}
	slack := 0
	for _, f := range want.Features {
		if nearEdge(f.Geometry.(orb.Point)) {
			slack++
		}
	}
	if d := sum - len(want.Features); d < -slack || d > slack {
		t.Errorf("%s: clusters count %d points, ST_AsMVT has %d (%d on the buffer's edge)", where, sum, len(want.Features), slack)
	}
}

func comparePolygons(t *testing.T, where string, got, want *mvt.Layer) {
	t.Helper()
	byID := map[uint64]*geojson.Feature{}
	for _, f := range want.Features {
		byID[featureID(f)] = f
	}
	for _, f := range got.Features {
		w, ok := byID[featureID(f)]
		if !ok {
			if !tiny(f.Geometry) {
				t.Errorf("%s: polygon %d (%v) is not in ST_AsMVT's tile", where, featureID(f), f.Geometry.Bound())
			}
			continue
		}
		gb, wb := f.Geometry.Bound(), w.Geometry.Bound()
		ga, wa := math.Abs(planar.Area(f.Geometry)), math.Abs(planar.Area(w.Geometry))
		if d := boundsDiff(gb, wb); d > 2 && (d > 4 || math.Abs(ga-wa) > 8) {
			t.Errorf("%s: polygon %d bound %v, ST_AsMVT %v (areas %.0f, %.0f)", where, featureID(f), gb, wb, ga, wa)
		}
		if math.Abs(ga-wa) > 0.01*wa+perimeter(w.Geometry) {
			t.Errorf("%s: polygon %d area %.0f, ST_AsMVT %.0f", where, featureID(f), ga, wa)
		}
		compareProps(t, where, featureID(f), f.Properties, w.Properties)
	}
	for _, f := range want.Features {
		if !hasID(got, featureID(f)) && !tiny(f.Geometry) {
			t.Errorf("%s: ST_AsMVT's polygon %d (%v) is missing", where, featureID(f), f.Geometry.Bound())
		}
	}
}

func compareProps(t *testing.T, where string, id uint64, got, want map[string]any) {
	t.Helper()
	keys := func(m map[string]any) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	if fmt.Sprint(keys(got)) != fmt.Sprint(keys(want)) {
		t.Errorf("%s: feature %d keys %v, ST_AsMVT %v", where, id, keys(got), keys(want))
		return
	}
	for k, w := range want {
		g := got[k]
		if gf, ok := isNumber(g); ok {
			if wf, ok := isNumber(w); ok && math.Abs(gf-wf) <= 1e-9*math.Max(1, math.Abs(wf)) {
				continue
			}
		}
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("%s: feature %d %s = %v (%T), ST_AsMVT %v (%T)", where, id, k, g, g, w, w)
		}
	}
}

func isNumber(v any) (float64, bool) {
	switch v.(type) {
	case float64, float32, int64, uint64, int, int32, uint32:
		return toFloat(v), true
	}
	return 0, false
}

func toFloat(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case float32:
		return float64(n)
	case int64:
		return float64(n)
	case uint64:
		return float64(n)
	case int:
		return float64(n)
	case int32:
		return float64(n)
	case uint32:
		return float64(n)
	}
	return math.NaN()
}

func hasID(l *mvt.Layer, id uint64) bool {
	for _, f := range l.Features {
		if featureID(f) == id {
			return true
		}
	}
	return false
}

// nearEdge reports whether a point lies on or within one unit of the
// buffer's edge (-256 and 4096+256), or past it.
func nearEdge(p orb.Point) bool {
	for _, v := range p {
		if v <= -255 || v >= 4351 {
			return true
		}
	}
	return false
}

// nearCellSide reports whether a point lies within one unit of a side of
// its cell.
func nearCellSide(p orb.Point) bool {
	for _, v := range p {
		if r := math.Mod(math.Mod(v, tiles.ClusterCell)+tiles.ClusterCell, tiles.ClusterCell); r <= 1 || r >= tiles.ClusterCell-1 {
			return true
		}
	}
	return false
}

// tiny reports whether a geometry is less than two tile units across.
func tiny(g orb.Geometry) bool {
	b := g.Bound()
	return b.Max[0]-b.Min[0] < 2 || b.Max[1]-b.Min[1] < 2
}

// inner is the part of a buffered tile where bounds are compared: the tile
// and the inner half of its buffer. The outer half only hides seams; there
// each encoder clips and nudges differently, and PostGIS leaves hairs along
// the clip's edge.
var inner = orb.Bound{Min: orb.Point{-128, -128}, Max: orb.Point{4096 + 128, 4096 + 128}}

// boundsDiff returns how far apart two bounds' sides are, or 0 if either
// reaches into the outer half of the buffer (past inner).
func boundsDiff(a, b orb.Bound) float64 {
	if !inner.Contains(a.Min) || !inner.Contains(a.Max) || !inner.Contains(b.Min) || !inner.Contains(b.Max) {
		return 0
	}
	d := 0.0
	for _, side := range [][2]float64{{a.Min[0], b.Min[0]}, {a.Min[1], b.Min[1]}, {a.Max[0], b.Max[0]}, {a.Max[1], b.Max[1]}} {
		d = math.Max(d, math.Abs(side[0]-side[1]))
	}
	return d
}

// perimeter is the length of all of g's rings (0 for a geometry without).
func perimeter(g orb.Geometry) float64 {
	var p float64
	testfix.Segments(g, func(a, b orb.Point) { p += planar.Distance(a, b) })
	return p
}
