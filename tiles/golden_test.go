package tiles

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb/encoding/mvt/vectortile"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// loadFixture reads a GeoJSON file of testdata into records, by the layer
// each feature's "layer" property names; the other properties become the
// record's values, typed by the layer's fields.
func loadFixture(t testing.TB, src memSource, name string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	catalog := onemap.NewCatalog()
	for _, f := range fc.Features {
		l, err := catalog.Layer(f.Properties.MustString("layer"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		values := map[string]any{}
		for k, v := range f.Properties {
			if k == "layer" || v == nil {
				continue
			}
			fd, ok := l.Field(k)
			if !ok {
				t.Fatalf("%s: layer %s has no field %q", name, l.ID, k)
			}
			switch fd.Type {
			case onemap.FieldInteger:
				v = int64(v.(float64))
			case onemap.FieldStrings:
				s := []string{}
				for _, e := range v.([]any) {
					s = append(s, e.(string))
				}
				v = s
			}
			values[k] = v
		}
		src[l.ID] = append(src[l.ID], record(t, l, int64(f.ID.(float64)), f.Geometry, values))
	}
}

// fixtureSpecs returns the specs the golden tiles are cut with.
func fixtureSpecs(t testing.TB) []onemap.TileLayer {
	return []onemap.TileLayer{
		{Layer: catalogLayer(t, onemap.LayerGrids), Fields: []string{"level", "parent_id", "code", "name", "households", "population", "synthetic"}},
		{Layer: catalogLayer(t, onemap.LayerRiskPoints), Fields: []string{"kind", "name", "level", "grid_id", "description", "last_assessed_on", "synthetic"}, ClusterBelow: 14},
		{Layer: catalogLayer(t, onemap.LayerStations), Fields: []string{"kind", "level", "name", "phone", "services", "grid_id", "opening_hours"}},
	}
}

// goldenTiles are the tiles cut from the fixtures: a z14 tile and its
// eastern neighbour, which a polygon spans; their parents at zooms 13, 12
// and 10, where the risk points are clustered.
var goldenTiles = []maptile.Tile{
	maptile.New(12852, 6988, 14),
	maptile.New(12853, 6988, 14),
	maptile.New(6426, 3494, 13),
	maptile.New(3213, 1747, 12),
	maptile.New(803, 436, 10),
}

// TestEncode_golden encodes the fixtures' tiles and compares them, decoded to
// tile-coordinate JSON, with testdata/golden; go test -update rewrites them.
func TestEncode_golden(t *testing.T) {
	src := memSource{}
	loadFixture(t, src, "polygons.geojson")
	loadFixture(t, src, "points.geojson")
	specs := fixtureSpecs(t)
	levels := append([]onemap.TileLayer(nil), specs...)
	levels[1].Levels = []string{"red", "orange"}
	type goldenCase struct {
		name  string
		tile  maptile.Tile
		specs []onemap.TileLayer
	}
	var cases []goldenCase
	for _, tile := range goldenTiles {
		cases = append(cases, goldenCase{fmt.Sprintf("%d-%d-%d", tile.Z, tile.X, tile.Y), tile, specs})
	}
	cases = append(cases, goldenCase{"12-3213-1747-red-orange", goldenTiles[3], levels})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := mustEncode(t, src, tc.tile, tc.specs...)
			got := tileJSON(t, tc.tile, b)
			path := filepath.Join("testdata", "golden", tc.name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("tile %v differs from %s (go test -update rewrites it); got:\n%s", tc.tile, path, got)
			}
			for _, l := range decode(t, b) {
				for _, f := range l.Features {
					if l.Name == onemap.LayerGrids {
						checkPolygons(t, fmt.Sprintf("%s feature %v", l.Name, f.ID), f.Geometry)
					}
				}
			}
		})
	}
}

// tileJSON decodes an MVT tile into JSON in tile coordinates, one feature a
// line: per layer its name, version, extent and keys in order, and per
// feature its id, its properties with their MVT value types, and its
// geometry as orb decodes it (GeoJSON in tile coordinates, integers).
func tileJSON(t testing.TB, tile maptile.Tile, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "{\"tile\": \"%d/%d/%d\", \"bytes\": %d, \"layers\": [", tile.Z, tile.X, tile.Y, len(b))
	if len(b) == 0 {
		buf.WriteString("]}\n")
		return buf.Bytes()
	}
	raw := decodeRaw(t, b)
	layers := decode(t, b)
	for i, rl := range raw.Layers {
		if i > 0 {
			buf.WriteString(",")
		}
		keys, _ := json.Marshal(rl.Keys)
		fmt.Fprintf(&buf, "\n {\"name\": %q, \"version\": %d, \"extent\": %d, \"keys\": %s, \"features\": [",
			rl.GetName(), rl.GetVersion(), rl.GetExtent(), keys)
		l := layers[rl.GetName()]
		for j, rf := range rl.Features {
			props := map[string]map[string]any{}
			for k := 0; k+1 < len(rf.Tags); k += 2 {
				props[rl.Keys[rf.Tags[k]]] = typedValue(rl.Values[rf.Tags[k+1]])
			}
			p, err := json.Marshal(props)
			if err != nil {
				t.Fatal(err)
			}
			g, err := json.Marshal(geojson.NewGeometry(l.Features[j].Geometry))
			if err != nil {
				t.Fatal(err)
			}
			if j > 0 {
				buf.WriteString(",")
			}
			fmt.Fprintf(&buf, "\n  {\"id\": %d, \"properties\": %s, \"geometry\": %s}", rf.GetId(), p, g)
		}
		buf.WriteString("\n ]}")
	}
	buf.WriteString("\n]}\n")
	return buf.Bytes()
}

// typedValue returns an MVT value as {type: value}.
func typedValue(v *vectortile.Tile_Value) map[string]any {
	switch {
	case v.StringValue != nil:
		return map[string]any{"string": *v.StringValue}
	case v.FloatValue != nil:
		return map[string]any{"float": *v.FloatValue}
	case v.DoubleValue != nil:
		return map[string]any{"double": *v.DoubleValue}
	case v.IntValue != nil:
		return map[string]any{"int": *v.IntValue}
	case v.UintValue != nil:
		return map[string]any{"uint": *v.UintValue}
	case v.SintValue != nil:
		return map[string]any{"sint": *v.SintValue}
	case v.BoolValue != nil:
		return map[string]any{"bool": *v.BoolValue}
	}
	return map[string]any{"none": nil}
}
