package tiles

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
)

// needGDAL skips the test if GDAL's command-line tools are missing, except
// on CI (CI=true), where it fails.
func needGDAL(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"ogr2ogr", "ogrinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not found (install gdal-bin): %v", tool, err)
			}
			t.Skipf("%s not found (install gdal-bin)", tool)
		}
	}
}

// runGDAL runs one of GDAL's tools and returns its output; an error, or an
// error message, fails the test.
func runGDAL(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || bytes.Contains(stderr.Bytes(), []byte("ERROR")) {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// writeTile writes b as dir/{z}/{x}/{y}.pbf, the path from which GDAL's MVT
// driver reads the tile's address, and returns the path.
func writeTile(t *testing.T, dir string, tile maptile.Tile, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, fmt.Sprint(tile.Z), fmt.Sprint(tile.X), fmt.Sprint(tile.Y)+".pbf")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// gdalFeature is a feature as GDAL reads it.
type gdalFeature struct {
	props map[string]string
	valid string // "1" if GEOS finds the geometry valid; polygons only
	why   string
	holes string
}

// gdalRead reads the tile at path with GDAL: every layer's features by id,
// their properties as text, and for the polygon layers whether GEOS (through
// SpatiaLite's ST_IsValid) finds each geometry valid.
func gdalRead(t *testing.T, path string, polygonLayers []string) map[string]map[int64]*gdalFeature {
	t.Helper()
	out := map[string]map[int64]*gdalFeature{}
	dir := filepath.Join(t.TempDir(), "csv") // ogr2ogr makes it
	runGDAL(t, "ogr2ogr", "-f", "CSV", dir, "-oo", "CLIP=NO", "-lco", "GEOMETRY=AS_WKT", path)
	files, err := filepath.Glob(filepath.Join(dir, "*.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		layer := strings.TrimSuffix(filepath.Base(f), ".csv")
		rows := readCSV(t, f)
		out[layer] = map[int64]*gdalFeature{}
		for _, row := range rows[1:] {
			gf := &gdalFeature{props: map[string]string{}}
			var id int64
			for i, col := range rows[0] {
				switch col {
				case "WKT":
				case "mvt_id":
					id, err = strconv.ParseInt(row[i], 10, 64)
					if err != nil {
						t.Fatalf("%s: mvt_id %q", f, row[i])
					}
				default:
					if row[i] != "" {
						gf.props[col] = row[i]
					}
				}
			}
			if out[layer][id] != nil {
				t.Errorf("%s layer %s: id %d twice", path, layer, id)
			}
			out[layer][id] = gf
		}
	}
	for _, layer := range polygonLayers {
		if out[layer] == nil {
			continue
		}
		sql := fmt.Sprintf("SELECT mvt_id, ST_IsValid(geometry) AS valid, ST_IsValidReason(geometry) AS why, "+
			"ST_NumInteriorRing(ST_GeometryN(geometry, 1)) AS holes FROM %q", layer)
		res := filepath.Join(t.TempDir(), "valid.csv")
		runGDAL(t, "ogr2ogr", "-f", "CSV", res, "-oo", "CLIP=NO", "-dialect", "SQLite", "-sql", sql, path)
		rows := readCSV(t, res)
		if !slices.Equal(rows[0], []string{"mvt_id", "valid", "why", "holes"}) {
			t.Fatalf("validity query gave columns %q", rows[0])
		}
		for _, row := range rows[1:] {
			id, _ := strconv.ParseInt(row[0], 10, 64)
			if gf := out[layer][id]; gf != nil {
				gf.valid, gf.why, gf.holes = row[1], row[2], row[3]
			}
		}
	}
	return out
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(rows) == 0 {
		t.Fatalf("%s: empty", path)
	}
	return rows
}

// gdalText returns a decoded MVT value as GDAL's CSV writes it.
func gdalText(v any) string {
	switch v := v.(type) {
	case bool:
		if v {
			return "1"
		}
		return "0"
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// gdalCase is a tile for GDAL to read.
type gdalCase struct {
	name  string
	src   Source
	tile  maptile.Tile
	specs []onemap.TileLayer
}

// gdalCases returns the tiles of the fixtures, and unless short, of the
// synthetic county, the county's outline and random polygons.
func gdalCases(t *testing.T, short bool) []gdalCase {
	var cases []gdalCase
	fixtures := memSource{}
	loadFixture(t, fixtures, "polygons.geojson")
	loadFixture(t, fixtures, "points.geojson")
	for _, tile := range goldenTiles {
		cases = append(cases, gdalCase{"fixtures", fixtures, tile, fixtureSpecs(t)})
	}
	if short {
		return cases
	}
	county, specs := syntheticCounty(t, 6000, 600)
	for _, z := range []maptile.Zoom{8, 10, 12, 14, 15} {
		for _, p := range []orb.Point{{102.40, 25.53}, {102.21, 25.93}, {102.6, 25.4}} {
			cases = append(cases, gdalCase{"county", county, maptile.At(p, z), specs})
		}
	}
	grids := catalogLayer(t, onemap.LayerGrids)
	outline := countyOutline(t)
	outlineSrc := memSource{grids.ID: {record(t, grids, 1, outline, nil)}}
	for _, z := range []maptile.Zoom{7, 9, 10} {
		b := outline.Bound()
		min, max := maptile.At(orb.Point{b.Min[0], b.Max[1]}, z), maptile.At(orb.Point{b.Max[0], b.Min[1]}, z)
		for x := min.X; x <= max.X; x++ {
			for y := min.Y; y <= max.Y; y++ {
				cases = append(cases, gdalCase{"outline", outlineSrc, maptile.New(x, y, z), []onemap.TileLayer{{Layer: grids}}})
			}
		}
	}
	rng := rand.New(rand.NewPCG(testSeed(t), 11))
	for i := range 12 {
		tile := maptile.At(orb.Point{102.35, 25.7}, maptile.Zoom(4+2*(i%6)))
		cases = append(cases, gdalCase{"random", randomPolygons(t, rng, tile, 6), tile, []onemap.TileLayer{{Layer: grids}}})
	}
	return cases
}

// TestEncode_gdal has GDAL's MVT driver, an independent decoder, read tiles
// of the fixtures, the synthetic county, the county's outline and random
// polygons: it must find the same layers, features, ids and properties as
// orb's decoder, and GEOS must find every polygon valid. With -short it
// reads the fixtures' tiles only.
func TestEncode_gdal(t *testing.T) {
	needGDAL(t)
	if out := runGDAL(t, "ogrinfo", "--formats"); !bytes.Contains(out, []byte("MVT -vector-")) {
		t.Fatalf("GDAL has no MVT driver:\n%s", out)
	}
	dir := t.TempDir()
	var tilesRead, polygons atomic.Int64
	t.Run("tiles", func(t *testing.T) {
		for _, tc := range gdalCases(t, testing.Short()) {
			t.Run(fmt.Sprintf("%s/%d-%d-%d", tc.name, tc.tile.Z, tc.tile.X, tc.tile.Y), func(t *testing.T) {
				t.Parallel()
				b := mustEncode(t, tc.src, tc.tile, tc.specs...)
				if b == nil {
					return
				}
				var polygonLayers []string
				for _, s := range tc.specs {
					if s.Layer.Geometry != onemap.GeometryPoint {
						polygonLayers = append(polygonLayers, s.Layer.ID)
					}
				}
				got := gdalRead(t, writeTile(t, filepath.Join(dir, tc.name), tc.tile, b), polygonLayers)
				tilesRead.Add(1)
				polygons.Add(int64(compareGDAL(t, decode(t, b), got, polygonLayers)))
			})
		}
	})
	t.Logf("GDAL read %d tiles, %d polygon features", tilesRead.Load(), polygons.Load())
	if !testing.Short() && (tilesRead.Load() < 40 || polygons.Load() < 500) {
		t.Errorf("only %d tiles and %d polygons checked", tilesRead.Load(), polygons.Load())
	}
}

// compareGDAL compares what GDAL read of a tile with what orb decoded and
// returns how many polygons it checked.
func compareGDAL(t *testing.T, want map[string]*mvt.Layer, got map[string]map[int64]*gdalFeature, polygonLayers []string) int {
	t.Helper()
	polygons := 0
	for name, l := range want {
		g := got[name]
		if len(g) != len(l.Features) {
			t.Errorf("layer %s: GDAL reads %d features, orb %d", name, len(g), len(l.Features))
		}
		for _, f := range l.Features {
			id := int64(f.ID.(float64))
			gf := g[id]
			if gf == nil {
				t.Errorf("layer %s: GDAL has no feature %d", name, id)
				continue
			}
			for k, v := range f.Properties {
				want := gdalText(v)
				if gv := gf.props[k]; gv != want {
					if a, err := strconv.ParseFloat(gv, 64); err != nil || math.Abs(a-v.(float64)) > 1e-9*math.Abs(a) {
						t.Errorf("layer %s feature %d: GDAL reads %s = %q, orb %q", name, id, k, gv, want)
					}
				}
			}
			if len(gf.props) > len(f.Properties) {
				t.Errorf("layer %s feature %d: GDAL reads properties %v, orb %v", name, id, gf.props, f.Properties)
			}
			if slices.Contains(polygonLayers, name) {
				polygons++
				if gf.valid != "1" {
					t.Errorf("layer %s feature %d: GEOS finds it invalid: %s", name, id, gf.why)
				}
				if p, ok := f.Geometry.(orb.Polygon); ok && gf.holes != strconv.Itoa(len(p)-1) {
					t.Errorf("layer %s feature %d: GDAL reads %s holes, orb %d", name, id, gf.holes, len(p)-1)
				}
			}
		}
	}
	for name := range got {
		if want[name] == nil {
			t.Errorf("GDAL reads a layer %s orb does not", name)
		}
	}
	return polygons
}

// randomPolygons returns n random star-shaped polygons in tile t, some
// with a hole, some spiky, some wider than the tile.
func randomPolygons(t testing.TB, rng *rand.Rand, tile maptile.Tile, n int) memSource {
	grids := catalogLayer(t, onemap.LayerGrids)
	var recs []*onemap.Record
	for id := range n {
		cx, cy := rng.Float64()*onemap.TileExtent, rng.Float64()*onemap.TileExtent
		size := math.Exp(rng.Float64()*8) * 2 // 2 to 6000 units
		k := 3 + rng.IntN(150)
		var ring, hole []orb.Point
		for i := range k {
			a := 2 * math.Pi * float64(i) / float64(k)
			r := size * (0.3 + rng.Float64())
			ring = append(ring, orb.Point{cx + r*math.Cos(a), cy + r*math.Sin(a)})
			hole = append(hole, orb.Point{cx + 0.2*size*math.Cos(-a), cy + 0.2*size*math.Sin(-a)})
		}
		p := tilePolygon(tile, ring)
		if rng.IntN(2) == 0 {
			p = tilePolygon(tile, ring, hole)
		}
		recs = append(recs, record(t, grids, int64(id+1), p, nil))
	}
	return memSource{grids.ID: recs}
}

// TestGDAL_detectsInvalid checks that the GDAL check can fail: GEOS must
// find invalid a bow tie, and a U that orb's Sutherland-Hodgman clipping cuts
// into one ring with a zero-width bridge along the tile's edge.
func TestGDAL_detectsInvalid(t *testing.T) {
	needGDAL(t)
	tile := tileZ14
	u := orb.Polygon{{{1000, 3000}, {1000, 6000}, {3000, 6000}, {3000, 3000}, {2600, 3000}, {2600, 5000}, {1400, 5000}, {1400, 3000}, {1000, 3000}}}
	layer := &mvt.Layer{Name: "grids", Version: 2, Extent: onemap.TileExtent, Features: []*geojson.Feature{
		{ID: 1, Geometry: orb.Polygon{{{0, 0}, {100, 100}, {100, 0}, {0, 100}, {0, 0}}}},
		{ID: 2, Geometry: u},
	}}
	layer.Clip(orb.Bound{Min: orb.Point{-onemap.TileBuffer, -onemap.TileBuffer}, Max: orb.Point{onemap.TileExtent + onemap.TileBuffer, onemap.TileExtent + onemap.TileBuffer}})
	b, err := mvt.Marshal(mvt.Layers{layer})
	if err != nil {
		t.Fatal(err)
	}
	got := gdalRead(t, writeTile(t, t.TempDir(), tile, b), []string{"grids"})
	for _, id := range []int64{1, 2} {
		if f := got["grids"][id]; f == nil || f.valid != "0" {
			t.Errorf("feature %d: GDAL reads %+v, want it invalid", id, f)
		}
	}
}
