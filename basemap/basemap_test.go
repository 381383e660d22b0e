package basemap_test

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/basemap"
	"github.com/onemapgis/onemap/basemap/basemaptest"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	_ "modernc.org/sqlite"
)

// TestTileID holds the Hilbert tile ids to those of the PMTiles reference
// implementation (go-pmtiles' ZxyToID, run once for these tiles).
func TestTileID(t *testing.T) {
	for _, c := range [][4]uint64{
		{0, 0, 0, 0}, {1, 0, 0, 1}, {1, 0, 1, 2}, {1, 1, 1, 3}, {1, 1, 0, 4}, {2, 0, 0, 5},
		{3, 5, 2, 76}, {12, 3300, 1700, 19007455}, {15, 26709, 14049, 1221704967},
		{16, 53418, 28099, 4886819872}, {22, 3000000, 1700000, 20260888736085},
	} {
		if got := basemap.TileID(uint8(c[0]), uint32(c[1]), uint32(c[2])); got != c[3] {
			t.Errorf("TileID(%d, %d, %d) = %d, want %d", c[0], c[1], c[2], got, c[3])
		}
	}
}

// fixtureTiles are tiles of the demo county at a few zooms, each with
// its own bytes.
func fixtureTiles(make func(maptile.Tile) []byte) map[maptile.Tile][]byte {
	out := map[maptile.Tile][]byte{}
	for _, tl := range []maptile.Tile{{X: 0, Y: 0, Z: 0}, {X: 3, Y: 1, Z: 2}, {X: 3212, Y: 1748, Z: 12}, {X: 3213, Y: 1748, Z: 12},
		{X: 26709, Y: 14049, Z: 15}, {X: 26710, Y: 14049, Z: 15}, {X: 26709, Y: 14050, Z: 15}, {X: 53418, Y: 28099, Z: 16}} {
		out[tl] = make(tl)
	}
	return out
}

func name(tl maptile.Tile) string {
	return string(rune('a'+tl.Z)) + "/" + string(rune('0'+tl.X%10)) + "/" + string(rune('0'+tl.Y%10))
}

// check opens the archive and checks its info and every tile, and that
// tiles it lacks are nil.
func check(t *testing.T, path string, want onemap.BasemapInfo, tiles map[maptile.Tile][]byte) {
	t.Helper()
	a, err := basemap.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	in := a.Info()
	if in.Format != want.Format || in.Encoding != want.Encoding || in.MinZoom != want.MinZoom || in.MaxZoom != want.MaxZoom {
		t.Errorf("info = %+v, want format %s encoding %q zooms %d-%d", in, want.Format, want.Encoding, want.MinZoom, want.MaxZoom)
	}
	if want.Name != "" && (in.Name != want.Name || in.Attribution != want.Attribution) {
		t.Errorf("name, attribution = %q, %q; want %q, %q", in.Name, in.Attribution, want.Name, want.Attribution)
	}
	if len(want.VectorLayers) > 0 && (len(in.VectorLayers) != len(want.VectorLayers) || in.VectorLayers[0].ID != want.VectorLayers[0].ID) {
		t.Errorf("vector layers = %+v, want %+v", in.VectorLayers, want.VectorLayers)
	}
	if !want.Bounds.IsZero() && !in.Bounds.Equal(want.Bounds) {
		t.Errorf("bounds = %v, want %v", in.Bounds, want.Bounds)
	}
	for tl, b := range tiles {
		got, err := a.Tile(t.Context(), tl)
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("tile %v = %q, %v; want %q", tl, got, err, b)
		}
	}
	for _, tl := range []maptile.Tile{{X: 1, Y: 1, Z: 2}, {X: 3214, Y: 1748, Z: 12}, {X: 26711, Y: 14049, Z: 15}, {X: 0, Y: 0, Z: 16}} {
		if got, err := a.Tile(t.Context(), tl); got != nil || err != nil {
			t.Errorf("missing tile %v = %q, %v; want nil", tl, got, err)
		}
	}
}

func TestOpen_mbtiles(t *testing.T) {
	dir := t.TempDir()
	vec := fixtureTiles(func(tl maptile.Tile) []byte { return basemaptest.Gzip([]byte("mvt " + name(tl))) })
	path := filepath.Join(dir, "vector.mbtiles")
	basemaptest.WriteMBTiles(t, path, map[string]string{"name": "测试底图", "format": "pbf", "minzoom": "0", "maxzoom": "16",
		"bounds": "102.0,25.3,102.6,26.0", "center": "102.4,25.53,12", "attribution": "© 测试",
		"json": `{"vector_layers":[{"id":"transportation","fields":{"class":"String"}}]}`}, vec)
	check(t, path, onemap.BasemapInfo{Name: "测试底图", Attribution: "© 测试", Format: "pbf", Encoding: "gzip", MinZoom: 0, MaxZoom: 16,
		Bounds:       orb.Bound{Min: orb.Point{102.0, 25.3}, Max: orb.Point{102.6, 26.0}},
		VectorLayers: []onemap.BasemapLayer{{ID: "transportation"}}}, vec)

	// A raster archive with neither format nor zooms in its metadata: read
	// from the tiles.
	ras := fixtureTiles(func(tl maptile.Tile) []byte { return basemaptest.PNG(name(tl)) })
	path = filepath.Join(dir, "raster.mbtiles")
	basemaptest.WriteMBTiles(t, path, map[string]string{"name": "影像"}, ras)
	check(t, path, onemap.BasemapInfo{Format: "png", MinZoom: 0, MaxZoom: 16}, ras)
}

func TestOpen_pmtiles(t *testing.T) {
	dir := t.TempDir()
	vec := fixtureTiles(func(tl maptile.Tile) []byte { return basemaptest.Gzip([]byte("mvt " + name(tl))) })
	meta := map[string]any{"name": "测试底图", "attribution": "© 测试",
		"vector_layers": []map[string]any{{"id": "place", "fields": map[string]string{"name": "String"}}}}
	for _, leaf := range []int{0, 3} { // all in the root; in leaf directories of three
		path := filepath.Join(dir, "vector.pmtiles")
		basemaptest.WritePMTiles(t, path, 1, 2, meta, vec, leaf)
		check(t, path, onemap.BasemapInfo{Name: "测试底图", Attribution: "© 测试", Format: "pbf", Encoding: "gzip", MinZoom: 0, MaxZoom: 16,
			Bounds:       orb.Bound{Min: orb.Point{102.0, 25.3}, Max: orb.Point{102.6, 26.0}},
			VectorLayers: []onemap.BasemapLayer{{ID: "place"}}}, vec)
	}
	ras := fixtureTiles(func(tl maptile.Tile) []byte { return basemaptest.PNG(name(tl)) })
	path := filepath.Join(dir, "raster.pmtiles")
	basemaptest.WritePMTiles(t, path, 2, 1, map[string]any{}, ras, 0)
	check(t, path, onemap.BasemapInfo{Format: "png", MinZoom: 0, MaxZoom: 16}, ras)
}

// TestOpen_refused: what is not an archive, or an archive this server
// cannot serve as it is, is refused with an EINVALID error naming the file.
func TestOpen_refused(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.mbtiles")
	os.WriteFile(text, []byte("not a tile archive"), 0o644)
	brotli := filepath.Join(dir, "brotli.pmtiles")
	basemaptest.WritePMTiles(t, brotli, 1, 3, map[string]any{}, map[maptile.Tile][]byte{{}: []byte("x")}, 0)
	noTiles := filepath.Join(dir, "empty.mbtiles")
	db, _ := sql.Open("sqlite", noTiles)
	db.Exec(`CREATE TABLE metadata (name text, value text)`)
	db.Close()
	for _, path := range []string{text, brotli, noTiles, filepath.Join(dir, "absent.pmtiles")} {
		_, err := basemap.Open(path)
		if onemap.ErrorCode(err) != onemap.EINVALID || !bytes.Contains([]byte(err.Error()), []byte(path)) {
			t.Errorf("Open(%s) = %v, want EINVALID naming the file", path, err)
		}
	}
}
