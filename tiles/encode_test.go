package tiles

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/gogo/protobuf/proto"
	"github.com/onemapgis/onemap"
	kernel "github.com/onemapgis/onemap/internal/planar"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/encoding/mvt/vectortile"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/planar"
	"github.com/paulmach/orb/project"
	"github.com/tidwall/rtree"
)

// memSource is a Source over records held in slices: a linear scan, in the
// slices' order.
type memSource map[string][]*onemap.Record

func (m memSource) Search(layer string, b orb.Bound, fn func(*onemap.Record) bool) {
	for _, r := range m[layer] {
		if r.Bound.Intersects(b) && !fn(r) {
			return
		}
	}
}

// shuffled returns a copy of m with each layer's records in a random order.
func (m memSource) shuffled(rng *rand.Rand) memSource {
	out := memSource{}
	for l, rs := range m {
		rs = slices.Clone(rs)
		rng.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
		out[l] = rs
	}
	return out
}

// catalogLayer returns a layer of the catalogue.
func catalogLayer(t testing.TB, id string) onemap.Layer {
	t.Helper()
	l, err := onemap.NewCatalog().Layer(id)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// record returns a record of layer l with the values given by field name.
func record(t testing.TB, l onemap.Layer, id int64, g orb.Geometry, values map[string]any) *onemap.Record {
	t.Helper()
	vals := make([]any, len(l.Fields))
	for k, v := range values {
		i := l.FieldIndex(k)
		if i < 0 {
			t.Fatalf("layer %s has no field %q", l.ID, k)
		}
		vals[i] = v
	}
	r, err := onemap.NewRecord(id, 1, g, vals)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// mercatorWidth is the width of the Web Mercator world, in meters.
const mercatorWidth = 2 * math.Pi * orb.EarthRadius

// lonLat returns the WGS-84 point at tile coordinates (x, y) of tile t.
func lonLat(t maptile.Tile, x, y float64) orb.Point {
	world := math.Ldexp(onemap.TileExtent, int(t.Z))
	wx, wy := float64(t.X)*onemap.TileExtent+x, float64(t.Y)*onemap.TileExtent+y
	return project.Mercator.ToWGS84(orb.Point{(wx/world - 0.5) * mercatorWidth, (0.5 - wy/world) * mercatorWidth})
}

// tilePolygon returns the polygon whose rings are given in tile coordinates
// of t, in WGS-84.
func tilePolygon(t maptile.Tile, rings ...[]orb.Point) orb.Polygon {
	var p orb.Polygon
	for _, r := range rings {
		var ring orb.Ring
		for _, q := range r {
			ring = append(ring, lonLat(t, q[0], q[1]))
		}
		if ring[0] != ring[len(ring)-1] {
			ring = append(ring, ring[0])
		}
		p = append(p, ring)
	}
	return p
}

// box returns the ring of a rectangle, counter-clockwise in lon/lat (so
// counter-clockwise on screen, the wrong way for an MVT exterior).
func box(x0, y0, x1, y1 float64) []orb.Point {
	return []orb.Point{{x0, y1}, {x1, y1}, {x1, y0}, {x0, y0}, {x0, y1}}
}

func mustEncode(t testing.TB, src Source, tile maptile.Tile, specs ...onemap.TileLayer) []byte {
	t.Helper()
	b, err := Encode(src, tile, specs)
	if err != nil {
		t.Fatalf("Encode(%v): %v", tile, err)
	}
	return b
}

// decode decodes a tile with orb, by layer name.
func decode(t testing.TB, b []byte) map[string]*mvt.Layer {
	t.Helper()
	out := map[string]*mvt.Layer{}
	if b == nil {
		return out
	}
	ls, err := mvt.Unmarshal(b)
	if err != nil {
		t.Fatalf("mvt.Unmarshal: %v", err)
	}
	for _, l := range ls {
		if out[l.Name] != nil {
			t.Fatalf("layer %s twice", l.Name)
		}
		out[l.Name] = l
	}
	return out
}

// decodeRaw decodes a tile's protocol buffer, keeping value types.
func decodeRaw(t testing.TB, b []byte) *vectortile.Tile {
	t.Helper()
	var vt vectortile.Tile
	if err := proto.Unmarshal(b, &vt); err != nil {
		t.Fatalf("proto.Unmarshal: %v", err)
	}
	return &vt
}

func ids(l *mvt.Layer) []int64 {
	if l == nil {
		return nil
	}
	var out []int64
	for _, f := range l.Features {
		out = append(out, int64(f.ID.(float64)))
	}
	return out
}

func featureByID(l *mvt.Layer, id int64) *geojson.Feature {
	if l == nil {
		return nil
	}
	for _, f := range l.Features {
		if int64(f.ID.(float64)) == id {
			return f
		}
	}
	return nil
}

// polygonsOf returns a decoded geometry as a multipolygon.
func polygonsOf(t testing.TB, g orb.Geometry) orb.MultiPolygon {
	t.Helper()
	switch g := g.(type) {
	case orb.Polygon:
		return orb.MultiPolygon{g}
	case orb.MultiPolygon:
		return g
	}
	t.Fatalf("geometry %T is not a polygon", g)
	return nil
}

// checkPolygons checks a decoded polygon geometry the way the MVT 2.1 spec
// asks, independently of the encoder's own checks: exterior rings with
// positive area in tile coordinates (the surveyor's formula; clockwise on
// screen, y down), holes negative, integer coordinates inside the buffered
// tile, and no two edges that cross or touch (brute force) but consecutive
// edges of a ring at their shared point and edges of two polygons' exterior
// rings at a shared corner (OGC lets polygons touch at points).
func checkPolygons(t testing.TB, where string, g orb.Geometry) {
	t.Helper()
	mp := polygonsOf(t, g)
	type edge struct {
		a, b             orb.Point
		part, ring, i, n int
		exterior         bool
	}
	var edges []edge
	ringNo := 0
	for pi, p := range mp {
		for ri, r := range p {
			if len(r) < 4 || r[0] != r[len(r)-1] {
				t.Errorf("%s: polygon %d ring %d has %d points or is not closed", where, pi, ri, len(r))
				continue
			}
			area := 0.0
			for i := 0; i+1 < len(r); i++ {
				area += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
			}
			if ri == 0 && area <= 0 {
				t.Errorf("%s: polygon %d exterior ring has area %v, want > 0 (clockwise in tile coordinates)", where, pi, area/2)
			}
			if ri > 0 && area >= 0 {
				t.Errorf("%s: polygon %d hole %d has area %v, want < 0", where, pi, ri, area/2)
			}
			for i := 0; i+1 < len(r); i++ {
				for _, v := range r[i] {
					if v != math.Trunc(v) || v < -onemap.TileBuffer || v > onemap.TileExtent+onemap.TileBuffer {
						t.Errorf("%s: coordinate %v is not an integer in the buffered tile", where, r[i])
					}
				}
				edges = append(edges, edge{r[i], r[i+1], pi, ringNo, i, len(r) - 1, ri == 0})
			}
			ringNo++
		}
	}
	orient := func(a, b, c orb.Point) float64 { return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0]) }
	on := func(a, b, p orb.Point) bool {
		return orient(a, b, p) == 0 && math.Min(a[0], b[0]) <= p[0] && p[0] <= math.Max(a[0], b[0]) &&
			math.Min(a[1], b[1]) <= p[1] && p[1] <= math.Max(a[1], b[1])
	}
	faults := 0
	for i := range edges {
		for j := i + 1; j < len(edges) && faults < 5; j++ {
			e, f := edges[i], edges[j]
			if e.ring == f.ring && (f.i-e.i == 1 || f.i-e.i == e.n-1) {
				// Consecutive: only the shared point, and no folding back.
				a, m, c := e.a, e.b, f.b
				if f.i-e.i == e.n-1 {
					a, m, c = f.a, e.a, e.b
				}
				if orient(a, m, c) == 0 && (c[0]-m[0])*(a[0]-m[0])+(c[1]-m[1])*(a[1]-m[1]) > 0 {
					t.Errorf("%s: edges %v and %v fold back", where, e, f)
					faults++
				}
				continue
			}
			if e.part != f.part && e.exterior && f.exterior {
				// A shared corner x, the edges leaving it towards a and c,
				// and not along one line the same way.
				var x, a, c orb.Point
				shared := true
				switch {
				case e.a == f.a:
					x, a, c = e.a, e.b, f.b
				case e.a == f.b:
					x, a, c = e.a, e.b, f.a
				case e.b == f.a:
					x, a, c = e.b, e.a, f.b
				case e.b == f.b:
					x, a, c = e.b, e.a, f.a
				default:
					shared = false
				}
				if shared && (orient(x, a, c) != 0 || (a[0]-x[0])*(c[0]-x[0])+(a[1]-x[1])*(c[1]-x[1]) < 0) {
					continue
				}
			}
			d1, d2 := orient(f.a, f.b, e.a), orient(f.a, f.b, e.b)
			d3, d4 := orient(e.a, e.b, f.a), orient(e.a, e.b, f.b)
			if (d1*d2 < 0 && d3*d4 < 0) || on(f.a, f.b, e.a) || on(f.a, f.b, e.b) || on(e.a, e.b, f.a) || on(e.a, e.b, f.b) {
				t.Errorf("%s: edges %v–%v and %v–%v meet", where, e.a, e.b, f.a, f.b)
				faults++
			}
		}
	}
	// Holes inside their polygon's exterior; polygons not inside each other.
	for pi, p := range mp {
		for ri, h := range p[1:] {
			if !planar.RingContains(p[0], h[0]) {
				t.Errorf("%s: polygon %d hole %d is outside its exterior ring", where, pi, ri+1)
			}
		}
		// The middle of an edge lies on no other ring, where a corner may.
		m := orb.Point{(p[0][0][0] + p[0][1][0]) / 2, (p[0][0][1] + p[0][1][1]) / 2}
		for qi, q := range mp {
			if qi != pi && planar.PolygonContains(q, m) {
				t.Errorf("%s: polygon %d lies inside polygon %d", where, pi, qi)
			}
		}
	}
}

// multiArea returns the area of a multipolygon in tile units.
func multiArea(mp orb.MultiPolygon) float64 {
	a := 0.0
	for _, p := range mp {
		a += planar.Area(p)
	}
	return a
}

var tileZ14 = maptile.At(orb.Point{102.4, 25.55}, 14)

func TestEncode_empty(t *testing.T) {
	grids := catalogLayer(t, onemap.LayerGrids)
	src := memSource{}
	if b := mustEncode(t, src, tileZ14, onemap.TileLayer{Layer: grids}); b != nil {
		t.Errorf("Encode(no records) = %d bytes, want nil", len(b))
	}
	if b := mustEncode(t, src, tileZ14); b != nil {
		t.Errorf("Encode(no specs) = %d bytes, want nil", len(b))
	}
	// A feature entirely outside the buffered tile.
	src[grids.ID] = []*onemap.Record{record(t, grids, 1, tilePolygon(tileZ14, box(5000, 100, 5100, 200)), nil)}
	if b := mustEncode(t, src, tileZ14, onemap.TileLayer{Layer: grids}); b != nil {
		t.Errorf("Encode(feature outside) = %d bytes, want nil", len(b))
	}
}

func TestEncode_invalid(t *testing.T) {
	grids := catalogLayer(t, onemap.LayerGrids)
	cameras := catalogLayer(t, onemap.LayerCameras)
	p := lonLat(tileZ14, 100.25, 100.25)
	src := memSource{
		grids.ID:   {record(t, grids, 1, tilePolygon(tileZ14, box(10, 10, 90, 90)), nil)},
		cameras.ID: {record(t, cameras, 2, orb.MultiPoint{p}, nil)},
	}
	for _, tc := range []struct {
		name  string
		tile  maptile.Tile
		specs []onemap.TileLayer
		code  string
	}{
		{"tile", maptile.New(4, 0, 1), nil, onemap.EINVALID},
		{"zoom", maptile.New(0, 0, 23), nil, onemap.EINVALID},
		{"twice", tileZ14, []onemap.TileLayer{{Layer: grids}, {Layer: grids, MinZoom: 20}}, onemap.EINTERNAL},
		{"field", tileZ14, []onemap.TileLayer{{Layer: grids, Fields: []string{"nope"}}}, onemap.EINTERNAL},
		{"levels", tileZ14, []onemap.TileLayer{{Layer: cameras, Levels: []string{"red"}}}, onemap.EINTERNAL},
		{"cluster", tileZ14, []onemap.TileLayer{{Layer: cameras, ClusterBelow: 16}}, onemap.EINTERNAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Encode(src, tc.tile, tc.specs)
			if err == nil {
				t.Fatalf("Encode = %d bytes, want an error", len(b))
			}
			if got := onemap.ErrorCode(err); got != tc.code {
				t.Errorf("Encode error %v has code %s, want %s", err, got, tc.code)
			}
		})
	}
}

// TestEncode_points checks which points a tile keeps: those in the buffered
// tile, -256 to 4352 on both axes, edges included, before rounding.
func TestEncode_points(t *testing.T) {
	st := catalogLayer(t, onemap.LayerStations)
	tile := tileZ14
	at := map[int64]orb.Point{
		1: {100.2, 200.3},     // inside
		2: {-200.2, 4000.4},   // in the left buffer
		3: {4300.3, 4340.2},   // in the bottom-right buffer
		4: {-255.7, 10.2},     // rounds onto the buffer's edge
		5: {-256.3, 10.2},     // rounds onto it from outside
		6: {4351.6, 4351.6},   // rounds onto the corner
		7: {4352.4, 100.2},    // outside
		8: {-1000.1, -1000.2}, // far outside
	}
	want := []int64{1, 2, 3, 4, 6}
	var recs []*onemap.Record
	for id, p := range at {
		recs = append(recs, record(t, st, id, lonLat(tile, p[0], p[1]), map[string]any{"name": "s" + strconv.Itoa(int(id))}))
	}
	l := decode(t, mustEncode(t, memSource{st.ID: recs}, tile, onemap.TileLayer{Layer: st, Fields: []string{"name"}}))[st.ID]
	if got := ids(l); !slices.Equal(got, want) {
		t.Fatalf("ids = %v, want %v", got, want)
	}
	for _, id := range want {
		f := featureByID(l, id)
		p := at[id]
		wantP := orb.Point{math.Round(p[0]), math.Round(p[1])}
		if got := f.Geometry.(orb.Point); got != wantP {
			t.Errorf("feature %d at %v, want %v", id, got, wantP)
		}
		if got := f.Properties["name"]; got != "s"+strconv.Itoa(int(id)) {
			t.Errorf("feature %d name = %v", id, got)
		}
	}
	if l.Version != 2 || l.Extent != onemap.TileExtent {
		t.Errorf("layer version %d extent %d, want 2 and %d", l.Version, l.Extent, onemap.TileExtent)
	}
}

// TestEncode_polygonWinding checks ring orientation in tile coordinates
// whatever the input's: exterior rings positive (clockwise on screen), holes
// negative.
func TestEncode_polygonWinding(t *testing.T) {
	grids := catalogLayer(t, onemap.LayerGrids)
	outer, hole := box(1000.3, 1000.3, 3000.3, 3000.3), box(1500.3, 1500.3, 2000.3, 2000.3)
	rev := func(r []orb.Point) []orb.Point { r = slices.Clone(r); slices.Reverse(r); return r }
	for _, tc := range []struct {
		name        string
		outer, hole []orb.Point
	}{
		{"ccw-cw", outer, rev(hole)}, // GeoJSON's right-hand rule in lon/lat
		{"cw-ccw", rev(outer), hole},
		{"ccw-ccw", outer, hole},
		{"cw-cw", rev(outer), rev(hole)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := memSource{grids.ID: {record(t, grids, 7, tilePolygon(tileZ14, tc.outer, tc.hole), nil)}}
			l := decode(t, mustEncode(t, src, tileZ14, onemap.TileLayer{Layer: grids}))[grids.ID]
			if len(l.Features) != 1 {
				t.Fatalf("%d features, want 1", len(l.Features))
			}
			g := l.Features[0].Geometry
			checkPolygons(t, tc.name, g)
			p, ok := g.(orb.Polygon)
			if !ok || len(p) != 2 {
				t.Fatalf("geometry %v, want a polygon with one hole", g)
			}
			// orb's CCW is a positive surveyor's area: clockwise on screen.
			if p[0].Orientation() != orb.CCW || p[1].Orientation() != orb.CW {
				t.Errorf("orientations %v, %v; want exterior positive, hole negative", p[0].Orientation(), p[1].Orientation())
			}
			if got, want := planar.Area(p), 2000.0*2000-500*500; math.Abs(got-want) > 8 {
				t.Errorf("area %v, want %v", got, want)
			}
		})
	}
}

// TestEncode_polygonClip checks clipping at the buffer: nothing beyond it,
// and separate parts stay separate where Sutherland-Hodgman clipping would
// join them along the edge.
func TestEncode_polygonClip(t *testing.T) {
	grids := catalogLayer(t, onemap.LayerGrids)
	// A U whose arms reach down through the bottom buffer edge (y = 4352)
	// and whose bottom lies below it: clipped, the arms are two polygons.
	u := []orb.Point{{1000.5, 3000.5}, {1400.5, 3000.5}, {1400.5, 5000.5}, {2600.5, 5000.5}, {2600.5, 3000.5},
		{3000.5, 3000.5}, {3000.5, 6000.5}, {1000.5, 6000.5}, {1000.5, 3000.5}}
	slices.Reverse(u)
	// A polygon larger than the buffered tile.
	big := box(-1000, -1000, 6000, 6000)
	src := memSource{grids.ID: {
		record(t, grids, 1, tilePolygon(tileZ14, u), nil),
		record(t, grids, 2, tilePolygon(tileZ14, big), nil),
	}}
	l := decode(t, mustEncode(t, src, tileZ14, onemap.TileLayer{Layer: grids}))[grids.ID]
	if got := ids(l); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("ids %v, want [1 2]", got)
	}
	gu := featureByID(l, 1).Geometry
	checkPolygons(t, "U", gu)
	mp := polygonsOf(t, gu)
	if len(mp) != 2 {
		t.Fatalf("U clipped into %d polygons, want 2: %v", len(mp), mp)
	}
	for _, p := range mp {
		b := p.Bound()
		if b.Max[1] != onemap.TileExtent+onemap.TileBuffer || b.Min[1] != 3000 && b.Min[1] != 3001 {
			t.Errorf("arm %v, want from y 3000 to the buffer's edge", b)
		}
	}
	if got, want := multiArea(mp), 2*400.0*(4352-3000.5); math.Abs(got-want) > 1000 {
		t.Errorf("U area %v, want about %v", got, want)
	}
	gb := featureByID(l, 2).Geometry
	checkPolygons(t, "big", gb)
	if got, want := gb.Bound(), (orb.Bound{Min: orb.Point{-onemap.TileBuffer, -onemap.TileBuffer}, Max: orb.Point{onemap.TileExtent + onemap.TileBuffer, onemap.TileExtent + onemap.TileBuffer}}); got != want {
		t.Errorf("big polygon bound %v, want the buffered tile %v", got, want)
	}
	if p, ok := gb.(orb.Polygon); !ok || len(p) != 1 || len(p[0]) != 5 {
		t.Errorf("big polygon %v, want the buffered tile's square", gb)
	}
}

// TestEncode_polygonHoles checks holes inside the tile, across its edge and
// around it.
func TestEncode_polygonHoles(t *testing.T) {
	grids := catalogLayer(t, onemap.LayerGrids)
	tile := tileZ14
	src := memSource{grids.ID: {
		// A hole inside the tile.
		record(t, grids, 1, tilePolygon(tile, box(100.5, 100.5, 1000.5, 1000.5), box(300.5, 300.5, 600.5, 600.5)), nil),
		// A hole across the buffer's right edge: it becomes a notch.
		record(t, grids, 2, tilePolygon(tile, box(3000.5, 1000.5, 8000.5, 2000.5), box(4000.5, 1200.5, 5000.5, 1800.5)), nil),
		// A polygon around the whole tile whose hole holds the tile: absent.
		record(t, grids, 3, tilePolygon(tile, box(-9000, -9000, 9000, 9000), box(-5000, -5000, 5000, 5000)), nil),
		// A polygon around the tile with a hole inside the tile.
		record(t, grids, 4, tilePolygon(tile, box(-9000, -9000, 9000, 9000), box(2000.5, 2000.5, 2500.5, 2500.5)), nil),
	}}
	l := decode(t, mustEncode(t, src, tile, onemap.TileLayer{Layer: grids}))[grids.ID]
	if got := ids(l); !slices.Equal(got, []int64{1, 2, 4}) {
		t.Fatalf("ids %v, want [1 2 4]", got)
	}
	for _, tc := range []struct {
		id    int64
		holes int
		area  float64
	}{
		{1, 1, 900*900 - 300*300},
		{2, 0, (4352-3000.5)*1000 - (4352-4000.5)*600},
		{4, 1, 4608*4608 - 500*500},
	} {
		g := featureByID(l, tc.id).Geometry
		checkPolygons(t, fmt.Sprint("feature ", tc.id), g)
		mp := polygonsOf(t, g)
		if len(mp) != 1 || len(mp[0])-1 != tc.holes {
			t.Errorf("feature %d: %v, want one polygon with %d holes", tc.id, g, tc.holes)
		}
		if got := multiArea(mp); math.Abs(got-tc.area) > 0.002*tc.area {
			t.Errorf("feature %d area %v, want %v", tc.id, got, tc.area)
		}
	}
}

// TestEncode_collapse checks that what is too small for the tile goes: a
// polygon under a unit across, a hole under a unit, a sliver.
func TestEncode_collapse(t *testing.T) {
	grids := catalogLayer(t, onemap.LayerGrids)
	tile := tileZ14
	src := memSource{grids.ID: {
		record(t, grids, 1, tilePolygon(tile, box(100.1, 100.1, 100.4, 100.4)), nil),
		record(t, grids, 2, tilePolygon(tile, box(200.2, 200.2, 400.2, 400.2), box(300.1, 300.1, 300.3, 300.3)), nil),
		record(t, grids, 3, tilePolygon(tile, box(500.1, 500.1, 900.1, 500.3)), nil),
		record(t, grids, 4, tilePolygon(tile, box(1000.2, 1000.2, 1001.3, 1001.3)), nil),
	}}
	l := decode(t, mustEncode(t, src, tile, onemap.TileLayer{Layer: grids}))[grids.ID]
	if got := ids(l); !slices.Equal(got, []int64{2, 4}) {
		t.Fatalf("ids %v, want [2 4]", got)
	}
	if p := featureByID(l, 2).Geometry.(orb.Polygon); len(p) != 1 {
		t.Errorf("feature 2 = %v, want its sub-unit hole gone", p)
	}
	checkPolygons(t, "feature 4", featureByID(l, 4).Geometry)
	// Ten zooms lower, all are under a unit across and go.
	low := maptile.New(tile.X>>10, tile.Y>>10, tile.Z-10)
	if b := mustEncode(t, src, low, onemap.TileLayer{Layer: grids}); b != nil {
		t.Errorf("zoom %d: %d bytes, want an empty tile", low.Z, len(b))
	}
}

// TestEncode_simplify checks that lines within a unit of straight are
// straightened below the layer's maximum zoom and kept at it.
func TestEncode_simplify(t *testing.T) {
	grids := catalogLayer(t, onemap.LayerGrids)
	tile := tileZ14
	// A square whose top edge zigzags by 0.6 units at 100 points: rounded,
	// by a unit.
	var r []orb.Point
	for i := 0; i <= 100; i++ {
		r = append(r, orb.Point{1000.5 + 10*float64(i), 1000.2 + 0.6*float64(i%2)})
	}
	r = append(r, orb.Point{2000.5, 2000.5}, orb.Point{1000.5, 2000.5}, r[0])
	src := memSource{grids.ID: {record(t, grids, 1, tilePolygon(tile, r), nil)}}
	for _, tc := range []struct {
		maxZoom    maptile.Zoom
		minPoints  int
		maxPoints  int
		simplified bool
	}{
		{tile.Z + 1, 5, 5, true},
		{tile.Z, 50, 200, false},
	} {
		l := decode(t, mustEncode(t, src, tile, onemap.TileLayer{Layer: grids, MaxZoom: tc.maxZoom}))[grids.ID]
		p := l.Features[0].Geometry.(orb.Polygon)
		checkPolygons(t, "wobbly", p)
		if n := len(p[0]); n < tc.minPoints || n > tc.maxPoints {
			t.Errorf("max zoom %d: %d points, want %d to %d", tc.maxZoom, n, tc.minPoints, tc.maxPoints)
		}
	}
}

// TestEncode_lines checks that lines are clipped at the buffer, rounded and
// simplified; no layer has lines today, but a Record may hold them.
func TestEncode_lines(t *testing.T) {
	l := onemap.Layer{ID: "roads"}
	var zigzag []orb.Point
	for i := 0; i <= 60; i++ {
		zigzag = append(zigzag, orb.Point{-1000.5 + 100*float64(i), 2000.2 + 0.6*float64(i%2)})
	}
	ls := orb.LineString{}
	for _, p := range zigzag {
		ls = append(ls, lonLat(tileZ14, p[0], p[1]))
	}
	src := memSource{l.ID: {{ID: 1, Geometry: ls, Bound: ls.Bound()}}}
	for _, tc := range []struct {
		maxZoom maptile.Zoom
		points  int
	}{{tileZ14.Z + 1, 2}, {tileZ14.Z, 48}} {
		got := decode(t, mustEncode(t, src, tileZ14, onemap.TileLayer{Layer: l, MaxZoom: tc.maxZoom}))[l.ID]
		g, ok := got.Features[0].Geometry.(orb.LineString)
		if !ok {
			t.Fatalf("geometry %v, want a line", got.Features[0].Geometry)
		}
		if g[0][0] != -onemap.TileBuffer || g[len(g)-1][0] != onemap.TileExtent+onemap.TileBuffer {
			t.Errorf("max zoom %d: line from %v to %v, want from the buffer's edge to the other's", tc.maxZoom, g[0], g[len(g)-1])
		}
		if len(g) != tc.points {
			t.Errorf("max zoom %d: %d points, want %d", tc.maxZoom, len(g), tc.points)
		}
	}
}

// TestEncode_polygonSpanningTiles cuts the county outline into every tile
// at a few zooms: every piece valid, and the pieces' areas inside their
// tiles add up to the outline's.
func TestEncode_polygonSpanningTiles(t *testing.T) {
	county := countyOutline(t)
	grids := catalogLayer(t, onemap.LayerGrids)
	src := memSource{grids.ID: {record(t, grids, 1, county, nil)}}
	for _, z := range []maptile.Zoom{6, 9, 11, 12} {
		t.Run(fmt.Sprint("z", z), func(t *testing.T) {
			f := newFrame(maptile.New(0, 0, z))
			want := 0.0 // the outline's area in world tile units
			for i, r := range county {
				pr := make(orb.Ring, len(r))
				for j, p := range r {
					pr[j] = f.toTile(p)
				}
				a := math.Abs(planar.Area(pr))
				if i > 0 {
					a = -a
				}
				want += a
			}
			b := county.Bound()
			min, max := maptile.At(orb.Point{b.Min[0], b.Max[1]}, z), maptile.At(orb.Point{b.Max[0], b.Min[1]}, z)
			got, n := 0.0, 0
			for x := min.X; x <= max.X; x++ {
				for y := min.Y; y <= max.Y; y++ {
					tile := maptile.New(x, y, z)
					l := decode(t, mustEncode(t, src, tile, onemap.TileLayer{Layer: grids, MaxZoom: 14}))[grids.ID]
					if l == nil {
						continue
					}
					n++
					g := l.Features[0].Geometry
					checkPolygons(t, fmt.Sprint(tile), g)
					// The area inside the tile proper, without the buffer.
					for _, p := range polygonsOf(t, g) {
						got += planar.Area(clipToTile(p))
					}
				}
			}
			if n < 1 {
				t.Fatal("no tiles")
			}
			// Simplification and rounding move the outline by about a unit.
			if d := math.Abs(got - want); d > 0.01*want+2*float64(len(county[0])) {
				t.Errorf("%d tiles: area %.0f, want %.0f", n, got, want)
			}
			t.Logf("%d tiles, area %.0f (outline %.0f)", n, got, want)
		})
	}
}

// clipToTile clips a polygon in tile coordinates to the tile without its
// buffer; orb's Sutherland-Hodgman clipping keeps the area right.
func clipToTile(p orb.Polygon) orb.Polygon {
	out := orb.Polygon{}
	for _, r := range p {
		c := clipRingSH(r)
		if len(c) >= 4 {
			out = append(out, c)
		}
	}
	if len(out) == 0 || len(p[0]) == 0 {
		return nil
	}
	return out
}

func clipRingSH(r orb.Ring) orb.Ring {
	return clip.Ring(orb.Bound{Max: orb.Point{onemap.TileExtent, onemap.TileExtent}}, slices.Clone(r))
}

// countyOutline reads the demo county's outline (1,192 vertices).
func countyOutline(t testing.TB) orb.Polygon {
	t.Helper()
	data, err := os.ReadFile("../demo/wuding/wuding-county.geojson")
	if err != nil {
		t.Fatal(err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(data)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := fc.Features[0].Geometry.(orb.Polygon)
	if !ok {
		t.Fatalf("outline is a %T", fc.Features[0].Geometry)
	}
	return p
}

func TestEncode_properties(t *testing.T) {
	st := catalogLayer(t, onemap.LayerStations)
	p := lonLat(tileZ14, 1000.2, 1000.2)
	src := memSource{st.ID: {
		record(t, st, 1, p, map[string]any{
			"name": "县政务服务中心", "services": []string{"户籍", "社保"}, "grid_id": int64(42),
			"version": int64(-3), "synthetic": true, "kind": nil,
		}),
		record(t, st, 2, p, map[string]any{"name": "村卫生室", "services": []string{}, "grid_id": int64(42), "synthetic": false}),
	}}
	heading := catalogLayer(t, onemap.LayerCameras)
	src[heading.ID] = []*onemap.Record{record(t, heading, 3, p, map[string]any{"heading": 12.5, "fov": float64(90)})}
	fields := []string{"synthetic", "name", "kind", "services", "grid_id", "version"}
	b := mustEncode(t, src, tileZ14, onemap.TileLayer{Layer: st, Fields: fields}, onemap.TileLayer{Layer: heading, Fields: []string{"heading", "fov"}})
	vt := decodeRaw(t, b)
	if len(vt.Layers) != 2 || vt.Layers[0].GetName() != st.ID || vt.Layers[1].GetName() != heading.ID {
		t.Fatalf("layers %v, want stations then cameras", vt.Layers)
	}
	l := vt.Layers[0]
	if !slices.Equal(l.Keys, fields) {
		t.Errorf("keys %q, want the fields in order %q", l.Keys, fields)
	}
	typed := func(v *vectortile.Tile_Value) string {
		switch {
		case v.StringValue != nil:
			return "string " + *v.StringValue
		case v.UintValue != nil:
			return fmt.Sprint("uint ", *v.UintValue)
		case v.SintValue != nil:
			return fmt.Sprint("sint ", *v.SintValue)
		case v.DoubleValue != nil:
			return fmt.Sprint("double ", *v.DoubleValue)
		case v.BoolValue != nil:
			return fmt.Sprint("bool ", *v.BoolValue)
		}
		return "other"
	}
	props := func(l *vectortile.Tile_Layer, f *vectortile.Tile_Feature) []string {
		var out []string
		for i := 0; i+1 < len(f.Tags); i += 2 {
			out = append(out, l.Keys[f.Tags[i]]+"="+typed(l.Values[f.Tags[i+1]]))
		}
		return out
	}
	want := [][]string{
		{"synthetic=bool true", "name=string 县政务服务中心", "services=string 户籍;社保", "grid_id=uint 42", "version=sint -3"},
		{"synthetic=bool false", "name=string 村卫生室", "services=string ", "grid_id=uint 42"},
	}
	for i, f := range l.Features {
		if got := props(l, f); !slices.Equal(got, want[i]) {
			t.Errorf("feature %d properties %q, want %q", f.GetId(), got, want[i])
		}
	}
	if len(l.Values) != 8 {
		t.Errorf("%d values, want 8 (42 written once)", len(l.Values))
	}
	if got, want := props(vt.Layers[1], vt.Layers[1].Features[0]), []string{"heading=double 12.5", "fov=double 90"}; !slices.Equal(got, want) {
		t.Errorf("camera properties %q, want %q", got, want)
	}
}

func TestEncode_levels(t *testing.T) {
	rp := catalogLayer(t, onemap.LayerRiskPoints)
	var recs []*onemap.Record
	for i, lv := range []string{"red", "orange", "yellow", "blue", ""} {
		recs = append(recs, record(t, rp, int64(i+1), lonLat(tileZ14, (ClusterCell+10.2)*float64(i+1), 50.2), map[string]any{"level": lv}))
	}
	src := memSource{rp.ID: recs}
	for _, tc := range []struct {
		levels []string
		want   []int64
	}{
		{nil, []int64{1, 2, 3, 4, 5}},
		{[]string{"red", "yellow"}, []int64{1, 3}},
		{[]string{"blue"}, []int64{4}},
		{[]string{}, nil},
	} {
		for _, cluster := range []maptile.Zoom{0, tileZ14.Z + 1} {
			l := decode(t, mustEncode(t, src, tileZ14, onemap.TileLayer{Layer: rp, Levels: tc.levels, ClusterBelow: cluster}))[rp.ID]
			if got := ids(l); !slices.Equal(got, tc.want) {
				t.Errorf("levels %q cluster below %d: ids %v, want %v", tc.levels, cluster, got, tc.want)
			}
		}
	}
}

func TestEncode_zoomRange(t *testing.T) {
	st := catalogLayer(t, onemap.LayerStations)
	grids := catalogLayer(t, onemap.LayerGrids)
	src := memSource{
		st.ID:    {record(t, st, 1, lonLat(tileZ14, 10.2, 10.2), nil)},
		grids.ID: {record(t, grids, 2, tilePolygon(tileZ14, box(-1000, -1000, 6000, 6000)), nil)},
	}
	z := tileZ14.Z
	for _, tc := range []struct {
		min, max maptile.Zoom
		present  bool
	}{
		{0, 0, true}, // 0 is no maximum
		{z, z, true},
		{z + 1, 0, false},
		{0, z - 1, false},
		{z - 2, z + 2, true},
	} {
		b := mustEncode(t, src, tileZ14, onemap.TileLayer{Layer: st, MinZoom: tc.min, MaxZoom: tc.max}, onemap.TileLayer{Layer: grids})
		ls := decode(t, b)
		if (ls[st.ID] != nil) != tc.present {
			t.Errorf("zooms %d to %d at %d: stations present %v, want %v", tc.min, tc.max, z, ls[st.ID] != nil, tc.present)
		}
		if ls[grids.ID] == nil {
			t.Errorf("zooms %d to %d: grids missing", tc.min, tc.max)
		}
	}
}

// TestEncode_stable checks that the same records give the same bytes,
// whatever order the source returns them in.
func TestEncode_stable(t *testing.T) {
	seed := testSeed(t)
	src, specs := syntheticCounty(t, 4000, 300)
	rng := rand.New(rand.NewPCG(seed, 2))
	for _, z := range []maptile.Zoom{9, 12, 14} {
		tile := maptile.At(orb.Point{102.35, 25.7}, z)
		want := mustEncode(t, src, tile, specs...)
		if len(want) == 0 {
			t.Fatalf("%v: empty tile", tile)
		}
		for i := range 3 {
			if got := mustEncode(t, src, tile, specs...); !bytes.Equal(got, want) {
				t.Fatalf("%v: encoding %d differs", tile, i)
			}
			if got := mustEncode(t, src.shuffled(rng), tile, specs...); !bytes.Equal(got, want) {
				t.Fatalf("%v: encoding of shuffled records %d differs", tile, i)
			}
		}
		// Features by id; clustered points by cell, row by row.
		f := newFrame(tile)
		byID := map[int64]*onemap.Record{}
		for _, recs := range src {
			for _, r := range recs {
				byID[r.ID] = r
			}
		}
		clustered := map[string]bool{}
		for _, s := range specs {
			clustered[s.Layer.ID] = tile.Z < s.ClusterBelow
		}
		for _, l := range decode(t, want) {
			if !clustered[l.Name] {
				if !slices.IsSorted(ids(l)) {
					t.Errorf("%v layer %s: ids not sorted", tile, l.Name)
				}
				continue
			}
			var cells [][2]float64
			for _, ft := range l.Features {
				x, y := f.worldXY(byID[int64(ft.ID.(float64))].Geometry.(orb.Point))
				cells = append(cells, [2]float64{math.Floor(y / ClusterCell), math.Floor(x / ClusterCell)})
			}
			if !slices.IsSortedFunc(cells, func(a, b [2]float64) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) }) {
				t.Errorf("%v layer %s: clustered points not in the order of their cells", tile, l.Name)
			}
		}
	}
}

// testSeed returns the seed of a randomized test: SEED if set, else 1. It
// logs it so that a failure can be reproduced.
func testSeed(t testing.TB) uint64 {
	seed := uint64(1)
	if s := os.Getenv("SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SEED=%q: %v", s, err)
		}
		seed = n
	}
	t.Logf("seed %d (set SEED to repeat)", seed)
	return seed
}

func TestEncode_cluster(t *testing.T) {
	rp := catalogLayer(t, onemap.LayerRiskPoints)
	tile := tileZ14
	// Four points in cell (1, 1) of the tile, one alone in cell (5, 1).
	const c = ClusterCell
	recs := []*onemap.Record{
		record(t, rp, 10, lonLat(tile, c+6.2, c+6.2), map[string]any{"level": "yellow", "name": "a"}),
		record(t, rp, 11, lonLat(tile, c+36.2, c+56.2), map[string]any{"level": "orange", "name": "b"}),
		record(t, rp, 9, lonLat(tile, c+63.2, c+1.2), map[string]any{"level": "blue", "name": "c"}),
		record(t, rp, 12, lonLat(tile, c+16.2, c+16.2), map[string]any{"level": "orange", "name": "d"}),
		record(t, rp, 20, lonLat(tile, 5*c+10.2, c+6.2), map[string]any{"level": "blue", "name": "e"}),
	}
	src := memSource{rp.ID: recs}
	spec := onemap.TileLayer{Layer: rp, Fields: []string{"name", "level"}, ClusterBelow: tile.Z + 1}
	l := decode(t, mustEncode(t, src, tile, spec))[rp.ID]
	if got := ids(l); !slices.Equal(got, []int64{11, 20}) {
		t.Fatalf("ids %v, want [11 20]: the most severe, then the lowest id", got)
	}
	f := featureByID(l, 11)
	if f.Geometry.(orb.Point) != (orb.Point{c + 36, c + 56}) || f.Properties["name"] != "b" || f.Properties[PointCount] != 4.0 {
		t.Errorf("cluster = %v %v, want point 11 at its place with point_count 4", f.Geometry, f.Properties)
	}
	if f := featureByID(l, 20); f.Properties[PointCount] != nil {
		t.Errorf("single point has point_count %v", f.Properties[PointCount])
	}
	// A point that stands for several keeps only the ClusterFields; one
	// alone in its cell keeps every field.
	spec.ClusterFields = []string{"level"}
	l = decode(t, mustEncode(t, src, tile, spec))[rp.ID]
	// It also says how many of each level it stands for (none red: no
	// point_count_red), so that the map can show the mix.
	if p := featureByID(l, 11).Properties; !maps.Equal(p, map[string]any{"level": "orange", PointCount: 4.0,
		LevelCountPrefix + "orange": 2.0, LevelCountPrefix + "yellow": 1.0, LevelCountPrefix + "blue": 1.0}) {
		t.Errorf("cluster with ClusterFields [level]: properties %v, want level orange, point_count 4 and its levels 2 orange, 1 yellow, 1 blue", p)
	}
	// A caller who may not read the level gets no counts by level either.
	blind := onemap.TileLayer{Layer: rp, Fields: []string{"name"}, ClusterBelow: tile.Z + 1}
	if p := featureByID(decode(t, mustEncode(t, src, tile, blind))[rp.ID], 11).Properties; !maps.Equal(p, map[string]any{"name": "b", PointCount: 4.0}) {
		t.Errorf("cluster for a caller without the level: properties %v, want its name and point_count 4, no count by level", p)
	}
	if p := featureByID(l, 20).Properties; !maps.Equal(p, map[string]any{"name": "e", "level": "blue"}) {
		t.Errorf("single point with ClusterFields [level]: properties %v, want name e and level blue", p)
	}
	spec.ClusterFields = nil
	// Not clustered at ClusterBelow.
	spec.ClusterBelow = tile.Z
	if got := ids(decode(t, mustEncode(t, src, tile, spec))[rp.ID]); len(got) != 5 {
		t.Errorf("at ClusterBelow: ids %v, want all 5", got)
	}
}

// TestEncode_clusterTiles clusters random points over a block of tiles and
// checks that the counts add up and that the tiles agree where their
// buffers overlap.
func TestEncode_clusterTiles(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 7))
	hh := catalogLayer(t, onemap.LayerHouseholds)
	const z = 11
	center := maptile.At(orb.Point{102.35, 25.7}, z)
	levels := []string{"red", "orange", "yellow", "blue"}
	var recs []*onemap.Record
	// Points over the 3×3 tiles around center, densest in the middle; some
	// on cell edges.
	origin := maptile.New(center.X-1, center.Y-1, z)
	for i := range 20000 {
		x, y := rng.NormFloat64()*1500+1.5*onemap.TileExtent, rng.NormFloat64()*1500+1.5*onemap.TileExtent
		if i%10 == 0 {
			x = math.Round(x/ClusterCell) * ClusterCell
		}
		x, y = math.Max(0, math.Min(x, 3*onemap.TileExtent-1)), math.Max(0, math.Min(y, 3*onemap.TileExtent-1))
		recs = append(recs, record(t, hh, int64(i+1), lonLat(origin, x, y), map[string]any{"level": levels[rng.IntN(4)]}))
	}
	src := memSource{hh.ID: recs}
	byID := map[int64]*onemap.Record{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	// cellOf returns the cell of a record, in cells from the world's
	// top-left.
	cellOf := func(f *frame, r *onemap.Record) [2]int64 {
		x, y := f.worldXY(r.Geometry.(orb.Point))
		return [2]int64{int64(math.Floor(x / ClusterCell)), int64(math.Floor(y / ClusterCell))}
	}
	spec := onemap.TileLayer{Layer: hh, Fields: []string{"level"}, ClusterBelow: 14}
	type cellFeature struct {
		id    int64
		count int
		at    orb.Point // world tile units
	}
	cells := map[[2]int64]cellFeature{}
	for dx := range uint32(3) {
		for dy := range uint32(3) {
			tile := maptile.New(origin.X+dx, origin.Y+dy, z)
			l := decode(t, mustEncode(t, src, tile, spec))[hh.ID]
			f := newFrame(tile)
			// The points in the buffered tile.
			want := 0
			for _, r := range recs {
				x, y := f.worldXY(r.Geometry.(orb.Point))
				x, y = x-f.x0, y-f.y0
				if x >= -onemap.TileBuffer && x < onemap.TileExtent+onemap.TileBuffer && y >= -onemap.TileBuffer && y < onemap.TileExtent+onemap.TileBuffer {
					want++
				}
			}
			sum := 0
			seen := map[[2]int64]bool{}
			for _, ft := range l.Features {
				n := 1
				if v, ok := ft.Properties[PointCount]; ok {
					n = int(v.(float64))
				}
				sum += n
				p := ft.Geometry.(orb.Point)
				w := orb.Point{p[0] + f.x0, p[1] + f.y0}
				c := cellOf(f, byID[int64(ft.ID.(float64))])
				if seen[c] {
					t.Errorf("%v: cell %v twice", tile, c)
				}
				seen[c] = true
				cf := cellFeature{int64(ft.ID.(float64)), n, w}
				if old, ok := cells[c]; ok && old != cf {
					t.Errorf("%v: cell %v is %+v here, %+v in a neighbour", tile, c, cf, old)
				}
				cells[c] = cf
			}
			if sum != want {
				t.Errorf("%v: point counts add up to %d, want %d", tile, sum, want)
			}
			if len(l.Features) > clusterSide*clusterSide {
				t.Errorf("%v: %d features", tile, len(l.Features))
			}
		}
	}
	// Each representative is the most severe point of its cell, then the
	// lowest id.
	rank := map[string]int{"red": 0, "orange": 1, "yellow": 2, "blue": 3}
	best := map[[2]int64]*onemap.Record{}
	f := newFrame(origin)
	for _, r := range recs {
		c := cellOf(f, r)
		b := best[c]
		lr, lb := "", ""
		if b != nil {
			lr, lb = r.Value(hh.FieldIndex("level")).(string), b.Value(hh.FieldIndex("level")).(string)
		}
		if b == nil || rank[lr] < rank[lb] || rank[lr] == rank[lb] && r.ID < b.ID {
			best[c] = r
		}
	}
	for c, cf := range cells {
		if best[c] == nil || best[c].ID != cf.id {
			t.Errorf("cell %v represented by %d, want %v", c, cf.id, best[c])
		}
	}
}

// TestClipPolygon checks the rectangle clipping on shapes with edges and
// corners on the box's boundary.
func TestClipPolygon(t *testing.T) {
	b := orb.Bound{Max: orb.Point{10, 10}}
	sq := func(x0, y0, x1, y1 float64) orb.Ring {
		return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
	}
	for _, tc := range []struct {
		name  string
		p     orb.Polygon
		parts int
		area  float64
	}{
		{"inside", orb.Polygon{sq(2, 2, 8, 8)}, 1, 36},
		{"covers", orb.Polygon{sq(-5, -5, 15, 15)}, 1, 100},
		{"outside", orb.Polygon{sq(12, 2, 18, 8)}, 0, 0},
		{"overlaps", orb.Polygon{sq(5, -5, 15, 5)}, 1, 25},
		{"edge on boundary", orb.Polygon{sq(0, 2, 5, 8)}, 1, 30},
		{"outside touching", orb.Polygon{sq(-5, 2, 0, 8)}, 0, 0},
		{"corner touching", orb.Polygon{sq(10, 10, 15, 15)}, 0, 0},
		{"same as box", orb.Polygon{sq(0, 0, 10, 10)}, 1, 100},
		{"hole across", orb.Polygon{sq(-5, -5, 15, 15), reversed(sq(5, 5, 15, 8))}, 1, 85},
		{"hole around box", orb.Polygon{sq(-9, -9, 19, 19), reversed(sq(-5, -5, 15, 15))}, 0, 0},
		{"hole inside", orb.Polygon{sq(-5, -5, 15, 15), reversed(sq(2, 2, 4, 4))}, 1, 96},
		{"comb", orb.Polygon{{{1, 5}, {2, 5}, {2, 12}, {4, 12}, {4, 5}, {6, 5}, {6, 12}, {8, 12}, {8, 5}, {9, 5}, {9, 14}, {1, 14}, {1, 5}}}, 3, 20},
		{"comb with a hole across", orb.Polygon{{{1, 5}, {9, 5}, {9, 14}, {1, 14}, {1, 5}}, {{2, 7}, {2, 12}, {8, 12}, {8, 7}, {2, 7}}}, 1, 8*5 - 6*3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			if kernel.TwiceArea(p[0]) < 0 {
				p[0] = reversed(p[0])
			}
			got := clipPolygon(b, p)
			if len(got) != tc.parts {
				t.Fatalf("clipPolygon = %v, want %d parts", got, tc.parts)
			}
			if a := multiArea(got); math.Abs(a-tc.area) > 1e-9 {
				t.Errorf("area %v, want %v", a, tc.area)
			}
			for _, q := range got {
				if kernel.TwiceArea(q[0]) <= 0 {
					t.Errorf("exterior %v not positive", q[0])
				}
				if !within(q.Bound(), b) {
					t.Errorf("part %v outside the box", q)
				}
			}
		})
	}
}

func reversed(r orb.Ring) orb.Ring {
	r = slices.Clone(r)
	slices.Reverse(r)
	return r
}

func TestSnapRing(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   orb.Ring
		want orb.Ring
	}{
		{"square", orb.Ring{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}, orb.Ring{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}},
		{"rounding", orb.Ring{{0.2, 0.1}, {3.8, 0}, {4, 4.4}, {0, 3.6}, {0.2, 0.1}}, orb.Ring{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}},
		{"repeated", orb.Ring{{0, 0}, {0.2, 0.2}, {4, 0}, {4, 4}, {4.1, 4}, {0, 4}, {0, 0}}, orb.Ring{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}},
		{"collinear", orb.Ring{{0, 0}, {2, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 2}, {0, 0}}, orb.Ring{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}},
		{"collinear seam", orb.Ring{{2, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}, {2, 0}}, orb.Ring{{4, 0}, {4, 4}, {0, 4}, {0, 0}, {4, 0}}},
		{"spike", orb.Ring{{0, 0}, {4, 0}, {4, 4}, {6, 4}, {4, 4}, {0, 4}, {0, 0}}, orb.Ring{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}},
		{"seam spike", orb.Ring{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 6}, {0, 0}}, orb.Ring{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}},
		{"spike at start", orb.Ring{{0, 6}, {0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 6}}, orb.Ring{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}},
		{"flat", orb.Ring{{0, 0}, {4, 0.2}, {8, 0}, {4, -0.2}, {0, 0}}, nil},
		{"tiny", orb.Ring{{0.1, 0.1}, {0.4, 0.1}, {0.4, 0.4}, {0.1, 0.1}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := orb.Bound{Min: orb.Point{-256, -256}, Max: orb.Point{4352, 4352}}
			if got := snapRing(slices.Clone(tc.in), b); !slices.Equal(got, tc.want) {
				t.Errorf("snapRing(%v) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestPolygonFaults(t *testing.T) {
	sq := func(x0, y0, x1, y1 float64) orb.Ring {
		return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
	}
	for _, tc := range []struct {
		name   string
		mp     orb.MultiPolygon
		faults []ringID // with first unset
		kept   int      // rings left by repairPolygons
	}{
		{"valid", orb.MultiPolygon{{sq(0, 0, 10, 10), reversed(sq(2, 2, 4, 4))}, {sq(20, 0, 30, 10)}}, nil, 3},
		{"island in hole", orb.MultiPolygon{{sq(0, 0, 10, 10), reversed(sq(2, 2, 8, 8))}, {sq(4, 4, 6, 6)}}, nil, 3},
		{"bowtie", orb.MultiPolygon{{{{0, 0}, {4, 4}, {4, 0}, {0, 4}, {0, 0}}}}, []ringID{{0, 0}}, 1},
		{"wrong way", orb.MultiPolygon{{reversed(sq(0, 0, 4, 4))}}, []ringID{{0, 0}}, 0},
		{"hole touches", orb.MultiPolygon{{sq(0, 0, 10, 10), reversed(sq(0, 2, 4, 4))}}, []ringID{{0, 1}}, 1},
		{"hole outside", orb.MultiPolygon{{sq(0, 0, 10, 10), reversed(sq(12, 2, 14, 4))}}, []ringID{{0, 1}}, 1},
		{"holes nested", orb.MultiPolygon{{sq(0, 0, 10, 10), reversed(sq(1, 1, 9, 9)), reversed(sq(2, 2, 3, 3))}}, []ringID{{0, 2}}, 2},
		{"parts overlap", orb.MultiPolygon{{sq(0, 0, 10, 10)}, {sq(5, 5, 20, 20)}}, []ringID{{0, 0}}, 1},
		{"part inside", orb.MultiPolygon{{sq(0, 0, 10, 10)}, {sq(2, 2, 4, 4)}}, []ringID{{1, 0}}, 1},
		{"self-touching", orb.MultiPolygon{{{{0, 0}, {4, 0}, {2, 2}, {4, 4}, {0, 4}, {2, 2}, {0, 0}}}}, []ringID{{0, 0}}, 2},
		{"figure eight", orb.MultiPolygon{{{{0, 0}, {4, 0}, {2, 2}, {0, 4}, {4, 4}, {2, 2}, {0, 0}}}}, []ringID{{0, 0}}, 1},
		{"spike crossing", orb.MultiPolygon{{{{0, 0}, {10, 0}, {10, 10}, {5, 10}, {5, -3}, {4, 10}, {0, 10}, {0, 0}}}}, []ringID{{0, 0}}, 2},
		{"parts share a corner", orb.MultiPolygon{{sq(0, 0, 4, 4)}, {sq(4, 4, 8, 8)}}, nil, 2},
		{"parts share an edge", orb.MultiPolygon{{sq(0, 0, 4, 4)}, {sq(4, 0, 8, 4)}}, []ringID{{1, 0}}, 1},
		{"parts share a corner and overlap", orb.MultiPolygon{{sq(0, 0, 4, 4)}, {{{4, 4}, {1, 1}, {4, 1}, {4, 4}}}}, []ringID{{1, 0}}, 1},
		// A repeated corner is the fault of its own ring only, not of the
		// smaller part whose corner it meets.
		{"repeated corner where parts meet", orb.MultiPolygon{{sq(0, 0, 4, 4)}, {{{4, 4}, {4, 4}, {12, 4}, {12, 12}, {4, 12}, {4, 4}}}}, []ringID{{1, 0}}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := polygonFaults(tc.mp, false)
			if !slices.Equal(got, tc.faults) {
				t.Errorf("polygonFaults = %v, want %v", got, tc.faults)
			}
			if v := validPolygons(tc.mp); v != (len(tc.faults) == 0) {
				t.Errorf("validPolygons = %v", v)
			}
			r := repairPolygons(cloneMultiPolygon(tc.mp))
			n := 0
			for _, p := range r {
				n += len(p)
			}
			if n != tc.kept || !validPolygons(r) {
				t.Errorf("repairPolygons = %v, want %d valid rings", r, tc.kept)
			}
		})
	}
}

// FuzzEncode encodes random polygons, some self-touching or with holes that
// stray, at random zooms: Encode must not panic, and what it writes must
// decode into valid polygons.
func FuzzEncode(f *testing.F) {
	f.Add(uint64(1), uint8(12), uint8(8), uint16(300))
	f.Add(uint64(2), uint8(4), uint8(40), uint16(3000))
	f.Add(uint64(3), uint8(16), uint8(5), uint16(9000))
	f.Add(uint64(4), uint8(0), uint8(200), uint16(50))
	grids := onemap.Layer{ID: "grids", Geometry: onemap.GeometryMultiPolygon}
	f.Fuzz(func(t *testing.T, seed uint64, zoom, vertices uint8, size uint16) {
		rng := rand.New(rand.NewPCG(seed, 3))
		z := maptile.Zoom(zoom % 19)
		tile := maptile.At(orb.Point{102.35, 25.7}, z)
		n := 3 + int(vertices)%120
		var recs []*onemap.Record
		for id := range 4 {
			// A star-shaped ring around a random centre, radius up to size
			// units, and a hole that may or may not lie inside it.
			cx, cy := rng.Float64()*onemap.TileExtent, rng.Float64()*onemap.TileExtent
			var ring, hole []orb.Point
			for i := range n {
				a := 2 * math.Pi * float64(i) / float64(n)
				r := (0.2 + rng.Float64()) * float64(size)
				ring = append(ring, orb.Point{cx + r*math.Cos(a), cy + r*math.Sin(a)})
				if i%3 == 0 {
					hr := 0.3 * float64(size) * rng.Float64()
					hole = append(hole, orb.Point{cx + hr*math.Cos(-a), cy + hr*math.Sin(-a)})
				}
			}
			ring = append(ring, ring[0])
			p := tilePolygon(tile, ring)
			if len(hole) >= 3 && rng.IntN(2) == 0 {
				hole = append(hole, hole[0])
				p = tilePolygon(tile, ring, hole)
			}
			recs = append(recs, &onemap.Record{ID: int64(id + 1), Geometry: orb.MultiPolygon{p}, Bound: p.Bound()})
		}
		b, err := Encode(memSource{grids.ID: recs}, tile, []onemap.TileLayer{{Layer: grids}})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range decode(t, b) {
			for _, ft := range l.Features {
				checkPolygons(t, fmt.Sprint("feature ", ft.ID), ft.Geometry)
			}
		}
	})
}

// syntheticCounty returns a county like the demo's over lon 102.0–102.7, lat
// 25.3–26.1: about nPolygons grids that tile it, with wiggly shared
// boundaries of some 100 vertices each, and nPoints points, most of them
// cameras, gathered around a few seats; and the specs of every layer with
// every field. The same arguments give the same data.
func syntheticCounty(t testing.TB, nPoints, nPolygons int) (memSource, []onemap.TileLayer) {
	const lon0, lat0, lon1, lat1 = 102.0, 25.3, 102.7, 26.1
	rng := rand.New(rand.NewPCG(532329, 1))
	catalog := onemap.NewCatalog()
	layer := func(id string) onemap.Layer {
		l, err := catalog.Layer(id)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	src := memSource{}
	var specs []onemap.TileLayer
	for _, l := range catalog.Layers() {
		spec := onemap.TileLayer{Layer: l, MinZoom: l.MinZoom, MaxZoom: l.MaxZoom}
		for _, f := range l.Fields {
			spec.Fields = append(spec.Fields, f.Name)
		}
		if l.Geometry == onemap.GeometryPoint {
			spec.ClusterBelow = 14
			if l.ID == onemap.LayerCameras {
				spec.ClusterBelow = 16
			}
		}
		specs = append(specs, spec)
	}
	system := map[string]any{"version": int64(1), "created_at": "2025-06-30T08:00:00Z", "created_by": "seed", "synthetic": true}
	with := func(m map[string]any) map[string]any {
		for k, v := range system {
			m[k] = v
		}
		return m
	}

	// Grids: a jittered lattice whose edges wiggle, each edge drawn once
	// and shared by the two cells on either side of it.
	cols := int(math.Round(math.Sqrt(float64(nPolygons))))
	rows := (nPolygons + cols - 1) / cols
	dx, dy := (lon1-lon0)/float64(cols), (lat1-lat0)/float64(rows)
	corner := make([][]orb.Point, cols+1)
	for i := range corner {
		corner[i] = make([]orb.Point, rows+1)
		for j := range corner[i] {
			jx, jy := 0.0, 0.0
			if i > 0 && i < cols && j > 0 && j < rows {
				jx, jy = (rng.Float64()-0.5)*0.3*dx, (rng.Float64()-0.5)*0.3*dy
			}
			corner[i][j] = orb.Point{lon0 + float64(i)*dx + jx, lat0 + float64(j)*dy + jy}
		}
	}
	edge := func(a, b orb.Point, key uint64) []orb.Point {
		er := rand.New(rand.NewPCG(key, 9))
		const n = 25
		out := make([]orb.Point, 0, n+1)
		nx, ny := -(b[1] - a[1]), b[0]-a[0]
		off := 0.0
		for k := 0; k <= n; k++ {
			s := float64(k) / n
			off += (er.Float64() - 0.5) * 0.02
			w := off * math.Sin(math.Pi*s)
			out = append(out, orb.Point{a[0] + s*(b[0]-a[0]) + w*nx, a[1] + s*(b[1]-a[1]) + w*ny})
		}
		return out
	}
	hEdge := func(i, j int) []orb.Point { return edge(corner[i][j], corner[i+1][j], uint64(2*(i*(rows+1)+j))) }
	vEdge := func(i, j int) []orb.Point { return edge(corner[i][j], corner[i][j+1], uint64(2*(i*(rows+1)+j)+1)) }
	gl := layer(onemap.LayerGrids)
	id := int64(0)
	for i := range cols {
		for j := range rows {
			var ring orb.Ring
			ring = append(ring, hEdge(i, j)...)
			ring = append(ring, vEdge(i+1, j)[1:]...)
			top := hEdge(i, j+1)
			slices.Reverse(top)
			ring = append(ring, top[1:]...)
			left := vEdge(i, j)
			slices.Reverse(left)
			ring = append(ring, left[1:]...)
			id++
			src[gl.ID] = append(src[gl.ID], record(t, gl, id, orb.MultiPolygon{{ring}}, with(map[string]any{
				"level": "group", "code": fmt.Sprintf("532329%06d", id), "name": fmt.Sprintf("第%d组", id),
				"parent_id": int64(1 + id/12), "worker_name": "张三", "worker_phone": fmt.Sprintf("1387800%04d", id),
				"households": int64(20 + rng.IntN(200)), "population": int64(80 + rng.IntN(800)),
			})))
		}
	}

	// Points: a quarter uniform, the rest around six seats.
	seats := []orb.Point{{102.40, 25.53}, {102.10, 25.46}, {102.33, 25.68}, {102.25, 25.78}, {102.27, 26.05}, {102.07, 25.88}}
	place := func() orb.Point {
		if rng.IntN(4) == 0 {
			return orb.Point{lon0 + rng.Float64()*(lon1-lon0), lat0 + rng.Float64()*(lat1-lat0)}
		}
		c := seats[rng.IntN(len(seats))]
		return orb.Point{c[0] + rng.NormFloat64()*0.03, c[1] + rng.NormFloat64()*0.03}
	}
	levels := []string{"red", "orange", "yellow", "blue"}
	for k := range nPoints {
		id++
		p := place()
		switch {
		case k%50 == 0:
			l := layer(onemap.LayerStations)
			src[l.ID] = append(src[l.ID], record(t, l, id, p, with(map[string]any{
				"kind": "卫生室", "level": "village", "name": fmt.Sprintf("站点%d", id), "address": "某村委会旁",
				"phone": "0878-8712345", "opening_hours": "08:30-17:30", "services": []string{"看病", "开药"}, "grid_id": int64(1 + id%100),
			})))
		case k%20 == 1:
			l := layer(onemap.LayerRiskPoints)
			src[l.ID] = append(src[l.ID], record(t, l, id, p, with(map[string]any{
				"kind": "地质灾害", "name": fmt.Sprintf("隐患点%d", id), "level": levels[rng.IntN(4)], "grid_id": int64(1 + id%1500),
				"responsible_name": "李四", "responsible_phone": fmt.Sprintf("1390878%04d", id%10000), "description": "滑坡隐患",
				"last_assessed_on": "2025-04-01", "next_assessment_due": "2025-07-01",
			})))
		case k%7 == 2:
			l := layer(onemap.LayerHouseholds)
			src[l.ID] = append(src[l.ID], record(t, l, id, p, with(map[string]any{
				"kind": "邻里纠纷", "level": levels[rng.IntN(4)], "grid_id": int64(1 + id%1500),
				"responsible_name": "王五", "responsible_phone": fmt.Sprintf("1380878%04d", id%10000),
				"last_assessed_on": "2025-04-01", "next_assessment_due": "2025-07-01",
			})))
		default:
			l := layer(onemap.LayerCameras)
			src[l.ID] = append(src[l.ID], record(t, l, id, p, with(map[string]any{
				"device_code": fmt.Sprintf("53232900001310%06d", id), "name": fmt.Sprintf("摄像机%d", id), "kind": "枪机",
				"status": "online", "heading": float64(rng.IntN(360)), "fov": 60.0, "grid_id": int64(1 + id%1500),
			})))
		}
	}
	return src, specs
}

// BenchmarkEncode encodes tiles of a synthetic county of 15,000 points and
// 1,500 grids (the demo county's size) at the county's centre: every layer
// with every field, points clustered below zoom 14 (cameras 16).
func BenchmarkEncode(b *testing.B) {
	src, specs := syntheticCounty(b, 15000, 1500)
	var points, polygons []onemap.TileLayer
	for _, s := range specs {
		if s.Layer.Geometry == onemap.GeometryPoint {
			points = append(points, s)
		} else {
			polygons = append(polygons, s)
		}
	}
	for _, z := range []maptile.Zoom{8, 10, 12, 14, 16} {
		tile := maptile.At(orb.Point{102.40, 25.53}, z)
		for _, set := range []struct {
			name  string
			specs []onemap.TileLayer
		}{{"all", specs}, {"points", points}, {"grids", polygons}} {
			b.Run(fmt.Sprintf("z%d-%s", z, set.name), func(b *testing.B) {
				// Shapes kept, and made before the timer starts, as a
				// server's are.
				e := NewEncoder(64 << 20)
				if _, err := e.Encode(src, tile, set.specs); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				var n int
				for b.Loop() {
					t, err := e.Encode(src, tile, set.specs)
					if err != nil {
						b.Fatal(err)
					}
					n = len(t)
				}
				b.ReportMetric(float64(n), "bytes/tile")
			})
		}
	}
}

// rtreeSource is a Source over an R-tree per layer, as the replica keeps.
type rtreeSource map[string]*rtree.RTreeG[*onemap.Record]

func (s rtreeSource) Search(layer string, b orb.Bound, fn func(*onemap.Record) bool) {
	if tr := s[layer]; tr != nil {
		tr.Search(b.Min, b.Max, func(_, _ [2]float64, r *onemap.Record) bool { return fn(r) })
	}
}

// province is 2,000,000 risk households over Yunnan (lon 97.5–106.2, lat
// 21.1–29.2), a tenth spread evenly and the rest around 129 county seats,
// each with its own telephone number, in an R-tree.
var province = sync.OnceValues(func() (rtreeSource, onemap.TileLayer) {
	const n = 2_000_000
	l, _ := onemap.NewCatalog().Layer(onemap.LayerHouseholds)
	rng := rand.New(rand.NewPCG(53, 2))
	seats := make([]orb.Point, 129)
	for i := range seats {
		seats[i] = orb.Point{98 + rng.Float64()*7.7, 21.6 + rng.Float64()*7.1}
	}
	levels := []string{"red", "orange", "yellow", "blue"}
	kinds := []string{"邻里纠纷", "婚姻家庭", "土地权属", "劳资纠纷"}
	names := []string{"张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇"}
	field := func(name string) int { return l.FieldIndex(name) }
	tr := new(rtree.RTreeG[*onemap.Record])
	for i := range n {
		var p orb.Point
		if i%10 == 0 {
			p = orb.Point{97.5 + rng.Float64()*8.7, 21.1 + rng.Float64()*8.1}
		} else {
			s := seats[rng.IntN(len(seats))]
			p = orb.Point{s[0] + rng.NormFloat64()*0.12, s[1] + rng.NormFloat64()*0.12}
		}
		v := make([]any, len(l.Fields))
		v[field("kind")] = kinds[rng.IntN(4)]
		v[field("level")] = levels[rng.IntN(4)]
		v[field("grid_id")] = int64(rng.IntN(150000))
		v[field("responsible_name")] = names[rng.IntN(len(names))]
		v[field("responsible_phone")] = fmt.Sprintf("13%09d", i)
		v[field("last_assessed_on")] = "2025-04-01"
		v[field("next_assessment_due")] = "2025-07-01"
		v[field("version")] = int64(1)
		v[field("synthetic")] = true
		r, err := onemap.NewRecord(int64(i+1), 1, p, v)
		if err != nil {
			panic(err)
		}
		tr.Insert(p, p, r)
	}
	spec := onemap.TileLayer{Layer: l, ClusterBelow: 14}
	for _, f := range l.Fields {
		spec.Fields = append(spec.Fields, f.Name)
	}
	return rtreeSource{l.ID: tr}, spec
})

// BenchmarkProvince encodes the densest tiles of 2,000,000 clustered
// points over Yunnan from an R-tree, zooms 6 to 12, every field: the cost
// grows with the points under the tile, not with its features. search is the
// R-tree search alone. It builds the data first (some seconds, 1 GB); -short
// skips it.
func BenchmarkProvince(b *testing.B) {
	if testing.Short() {
		b.Skip("builds 2,000,000 records")
	}
	src, spec := province()
	// The densest tile at each zoom, found by counting points per tile.
	densest := map[maptile.Zoom]maptile.Tile{}
	counts := map[maptile.Tile]int{}
	src[spec.Layer.ID].Scan(func(min, _ [2]float64, _ *onemap.Record) bool {
		for z := maptile.Zoom(6); z <= 12; z += 2 {
			t := maptile.At(min, z)
			counts[t]++
			if counts[t] > counts[densest[z]] {
				densest[z] = t
			}
		}
		return true
	})
	for z := maptile.Zoom(6); z <= 12; z += 2 {
		tile := densest[z]
		n := 0
		src.Search(spec.Layer.ID, newFrame(tile).query, func(*onemap.Record) bool { n++; return true })
		b.Run(fmt.Sprintf("z%d-search", z), func(b *testing.B) {
			for b.Loop() {
				k := 0
				src.Search(spec.Layer.ID, newFrame(tile).query, func(*onemap.Record) bool { k++; return true })
			}
			b.ReportMetric(float64(n), "points/tile")
		})
		b.Run(fmt.Sprintf("z%d", z), func(b *testing.B) {
			b.ReportAllocs()
			var size, features int
			for b.Loop() {
				t := mustEncode(b, src, tile, spec)
				size = len(t)
			}
			features = len(decode(b, mustEncode(b, src, tile, spec))[spec.Layer.ID].Features)
			b.ReportMetric(float64(n), "points/tile")
			b.ReportMetric(float64(features), "features/tile")
			b.ReportMetric(float64(size), "bytes/tile")
		})
	}
}
