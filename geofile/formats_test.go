package geofile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/crs"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/geojson"
)

func TestDetectFormat(t *testing.T) {
	shp := zipFiles(t, map[string][]byte{"a/grids.shp": {0}})
	kmz := zipFiles(t, map[string][]byte{"doc.kml": {0}})
	for _, tc := range []struct {
		name string
		head []byte
		want Format
	}{
		{"grids.geojson", nil, GeoJSON},
		{"grids.JSON", nil, GeoJSON},
		{"grids.zip", shp, Shapefile},
		{"grids.zip", kmz, KML},
		{"grids.kml", nil, KML},
		{"grids.kmz", nil, KML},
		{"stations.csv", nil, CSV},
		{"upload", shp, Shapefile},
		{"upload", kmz, KML},
		{"upload", []byte("\xef\xbb\xbf  {\"type\":"), GeoJSON},
		{"upload", []byte(`<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2">`), KML},
		{"upload", []byte("name,lon,lat\n"), CSV},
	} {
		got, err := DetectFormat(tc.name, tc.head)
		if err != nil || got != tc.want {
			t.Errorf("DetectFormat(%q, %.12q) = %q, %v; want %q", tc.name, tc.head, got, err, tc.want)
		}
	}
	_, err := DetectFormat("grids.shp", nil)
	wantInvalid(t, err, "grids.shp is one part of a Shapefile; zip the .shp")
	_, err = DetectFormat("upload.bin", []byte{0, 1, 2})
	wantInvalid(t, err, `cannot tell the format of "upload.bin"`)
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"GeoJSON": GeoJSON, "shp": Shapefile, ".zip": Shapefile, "kmz": KML, "csv": CSV} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := ParseFormat("gpx")
	wantInvalid(t, err, `unknown format "gpx"`)
}

// TestRoundTrip imports, exports and imports again in each format: the
// second import must equal the first.
func TestRoundTrip(t *testing.T) {
	var src bytes.Buffer
	if err := WriteGeoJSON(&src, sampleFeatures()); err != nil {
		t.Fatal(err)
	}
	points := "lon,lat,name,services,heading\n102.4,25.5,卫生室,门诊;接种,90\n102.41,25.51,\"警务室, 猫街\",,\n"
	for _, tc := range []struct {
		format Format
		input  []byte
	}{{GeoJSON, src.Bytes()}, {Shapefile, nil}, {KML, nil}, {CSV, []byte(points)}} {
		t.Run(string(tc.format), func(t *testing.T) {
			opt := ReadOptions{Types: map[string]onemap.FieldType{"services": onemap.FieldStrings, "heading": onemap.FieldNumber}}
			input := tc.input
			if input == nil {
				// Start from the GeoJSON, exported once to this format.
				recs, err := Read(GeoJSON, src.Bytes(), opt)
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if err := Write(tc.format, &buf, toFeatures(recs)); err != nil {
					t.Fatal(err)
				}
				input = buf.Bytes()
			}
			first, err := Read(tc.format, input, opt)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := Write(tc.format, &out, toFeatures(first)); err != nil {
				t.Fatal(err)
			}
			second, err := Read(tc.format, out.Bytes(), opt)
			if err != nil {
				t.Fatal(err)
			}
			sameFeatures(t, string(tc.format)+" import→export→import", second, toFeatures(first))
			if tc.format != CSV {
				sameFeatures(t, string(tc.format)+" against the source", second, sampleFeatures())
			}
		})
	}
	t.Run("csv/polygon", func(t *testing.T) {
		err := Write(CSV, &bytes.Buffer{}, sampleFeatures())
		wantInvalid(t, err, "feature 1 (id 1) is a Polygon; CSV holds points only")
	})
}

// control is a control point: the same place in a source CRS and in WGS-84.
type control struct {
	src    string // where the pair is published
	in     orb.Point
	wgs    orb.Point
	within float64 // metres
}

// controlPoints per CRS; the sources are those of crs/crs_test.go:
//   - Gauss-Krüger: PROJ 9.1.1 (Debian proj-bin 9.1.1-1+b1),
//     `printf '25.3 101.9\n25.530 102.404\n26.1 102.6\n' | cs2cs -d 4 EPSG:4490 EPSG:4543`;
//   - GCJ-02: wandergis/coordtransform test/app.js and googollee/eviltransform
//     python/test.py (full precision);
//   - BD-09: Jun Cai's R package geoChina, conv() documentation, Beijing
//     railway station (5 decimals at both ends: up to 1.4 m from rounding).
func controlPoints() map[crs.CRS][]control {
	const proj = "PROJ cs2cs EPSG:4490→EPSG:4543"
	gk := []control{
		{proj, orb.Point{489929.6378, 2799290.4625}, orb.Point{101.9, 25.3}, 0.001},
		{proj, orb.Point{540607.3594, 2824827.6028}, orb.Point{102.404, 25.530}, 0.001},
		{proj, orb.Point{560020.3562, 2888051.7096}, orb.Point{102.6, 26.1}, 0.001},
	}
	zone := make([]control, len(gk))
	for i, c := range gk {
		c.in[0] += 34e6
		zone[i] = c
	}
	return map[crs.CRS][]control{
		crs.WGS84:    {{"identity", orb.Point{102.404, 25.53}, orb.Point{102.404, 25.53}, 0}},
		crs.CGCS2000: {{"identity (CGCS2000 = WGS-84 here)", orb.Point{102.404, 25.53}, orb.Point{102.404, 25.53}, 0}},
		crs.GK102:    append(gk, zone[0]), // a prefixed easting is recognised
		crs.GKZone34: append(zone, gk[0]),
		crs.GCJ02: {
			{"coordtransform", orb.Point{116.41024449916938, 39.91640428150164}, orb.Point{116.404, 39.915}, 0.01},
			{"eviltransform shanghai", orb.Point{121.531541859215, 31.17530398364597}, orb.Point{121.5272106, 31.1774276}, 0.01},
			{"eviltransform shenzhen", orb.Point{113.9171764808363, 22.540796131694766}, orb.Point{113.912316, 22.543847}, 0.01},
			{"eviltransform beijing", orb.Point{116.38404722455657, 39.91334545536069}, orb.Point{116.377817, 39.911954}, 0.01},
		},
		crs.BD09: {{"geoChina Beijing railway station", orb.Point{116.43351, 39.90851}, orb.Point{116.42079, 39.90105}, 1.5}},
	}
}

// TestRead_controlPoints reads each CRS's control points through every
// format that can carry them, with the CRS chosen by the caller or, for
// Shapefiles, read from the .prj, and checks where they land.
func TestRead_controlPoints(t *testing.T) {
	for c, cps := range controlPoints() {
		mp := orb.MultiPoint{}
		for _, cp := range cps {
			mp = append(mp, cp.in)
		}
		fs := []*onemap.Feature{{ID: 1, Geometry: mp, Properties: map[string]any{"name": "control"}}}
		check := func(t *testing.T, recs []Record) {
			t.Helper()
			if len(recs) != 1 {
				t.Fatalf("%d records", len(recs))
			}
			got := recs[0].Geometry.(orb.MultiPoint)
			for i, cp := range cps {
				d := geo.Distance(got[i], cp.wgs)
				t.Logf("%s %s %.4f → %.9f: %.2g m from %.9f", c, cp.src, cp.in, got[i], d, cp.wgs)
				if d > cp.within {
					t.Errorf("%s (%s): %.4f landed at %.9f, %.4f m from %.9f; want within %g m", c, cp.src, cp.in, got[i], d, cp.wgs, cp.within)
				}
			}
		}
		var gj, kml, shp bytes.Buffer
		WriteGeoJSON(&gj, fs)
		writeKML(&kml, fs, "control")
		writeShapefile(&shp, fs, "control")
		t.Run(string(c)+"/geojson", func(t *testing.T) {
			recs, err := Read(GeoJSON, gj.Bytes(), ReadOptions{CRS: c})
			if err != nil {
				t.Fatal(err)
			}
			check(t, recs)
		})
		t.Run(string(c)+"/kml", func(t *testing.T) {
			if !c.Geographic() {
				t.Skip("KML holds longitude/latitude only")
			}
			recs, err := Read(KML, kml.Bytes(), ReadOptions{CRS: c})
			if err != nil {
				t.Fatal(err)
			}
			check(t, recs)
		})
		t.Run(string(c)+"/shapefile", func(t *testing.T) {
			files := unzipFiles(t, shp.Bytes())
			opt := ReadOptions{CRS: c}
			if wkt := c.WKT(); wkt != "" {
				files["control.prj"] = []byte(wkt) // the CRS comes from the .prj
				opt.CRS = ""
			}
			recs, err := Read(Shapefile, zipFiles(t, files), opt)
			if err != nil {
				t.Fatal(err)
			}
			check(t, recs)
		})
		t.Run(string(c)+"/geojson-crs-member", func(t *testing.T) {
			if c == crs.GCJ02 || c == crs.BD09 {
				t.Skip("GCJ-02 and BD-09 have no EPSG code")
			}
			var doc map[string]any
			json.Unmarshal(gj.Bytes(), &doc)
			doc["crs"] = map[string]any{"type": "name", "properties": map[string]any{"name": "urn:ogc:def:crs:EPSG::" + strings.TrimPrefix(string(c), "EPSG:")}}
			b, _ := json.Marshal(doc)
			recs, err := Read(GeoJSON, b, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			check(t, recs)
		})
	}
}

func TestRead_crsErrors(t *testing.T) {
	fc := geojson.NewFeatureCollection()
	fc.Append(geojson.NewFeature(orb.Point{102.4, 25.5}))
	fc.Append(geojson.NewFeature(orb.Point{540607.3594, 2824827.6028}))
	projected, _ := json.Marshal(fc)
	_, err := Read(GeoJSON, projected, ReadOptions{})
	wantInvalid(t, err, "feature 2 (line 1): coordinate [540607.3594 2.8248276028e+06] is not a longitude/latitude in degrees (read as EPSG:4326); the file does not say its coordinate system")
	_, err = Read(GeoJSON, projected, ReadOptions{CRS: "EPSG:4543"})
	wantInvalid(t, err, "feature 1 (line 1): easting 102.400 m, northing 25.500 m is outside 3-degree Gauss-Kruger zone 34 (read as EPSG:4543)")
	_, err = Read(GeoJSON, projected, ReadOptions{CRS: "EPSG:4524"})
	wantInvalid(t, err, "EPSG:4524 is CGCS2000 3-degree Gauss-Kruger zone 36")
	withCRS := `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:3857"}},` + strings.TrimPrefix(string(projected), "{")
	_, err = Read(GeoJSON, []byte(withCRS), ReadOptions{})
	wantInvalid(t, err, `the "crs" member: unsupported coordinate system EPSG:3857`)
	// A chosen CRS wins over the member.
	if _, err := Read(GeoJSON, []byte(withCRS), ReadOptions{CRS: crs.GK102}); err == nil || !strings.Contains(err.Error(), "feature 1") {
		t.Errorf("err = %v; want feature 1 outside the zone", err)
	}
	if _, err := Read("gpx", nil, ReadOptions{}); onemap.ErrorCode(err) != onemap.EINVALID {
		t.Errorf("Read(gpx) err = %v", err)
	}
}

func ExampleRead() {
	// A grid drawn on a Gauss-Krüger (CGCS2000, 102°E) survey, as GeoJSON.
	data := []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"近城"},
"geometry":{"type":"Point","coordinates":[540607.3594,2824827.6028]}}]}`)
	recs, err := Read(GeoJSON, data, ReadOptions{CRS: crs.GK102})
	if err != nil {
		fmt.Println(err)
		return
	}
	p := recs[0].Geometry.(orb.Point)
	fmt.Printf("%s %s: %.6f, %.6f\n", recs[0].Where, recs[0].Properties["name"], p[0], p[1])
	// Output: feature 1 (line 1) 近城: 102.404000, 25.530000
}
