package geofile

import (
	"archive/zip"
	"bytes"
	"io"
	"maps"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

// sampleFeatures are three grids around Wuding's county seat in WGS-84,
// rings in RFC 7946 orientation: a polygon with a hole; a multipolygon; and
// a multipolygon whose second part is an island inside the first part's
// hole (the case that needs "smallest containing outer ring").
func sampleFeatures() []*onemap.Feature {
	sq := func(x0, y0, x1, y1 float64, ccw bool) orb.Ring {
		r := orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
		if !ccw {
			r.Reverse()
		}
		return r
	}
	return []*onemap.Feature{
		{ID: 1, Layer: "grids", Geometry: orb.Polygon{sq(102.30, 25.50, 102.40, 25.60, true), sq(102.32, 25.52, 102.35, 25.55, false)},
			Properties: map[string]any{"name": "狮山镇第一网格", "code": "532329101001", "level": 3.0, "area_km2": 12.5, "active": true}},
		{ID: 2, Layer: "grids", Geometry: orb.MultiPolygon{{sq(102.41, 25.50, 102.45, 25.55, true)}, {sq(102.46, 25.50, 102.48, 25.52, true)}},
			Properties: map[string]any{"name": "东坡", "level": 4.0, "active": false, "area_km2": 0.123456789}},
		{ID: 3, Layer: "grids", Geometry: orb.MultiPolygon{
			{sq(102.50, 25.50, 102.60, 25.60, true), sq(102.51, 25.51, 102.59, 25.59, false)},
			{sq(102.52, 25.52, 102.53, 25.53, true)},
		}, Properties: map[string]any{"name": "环州 \"岛\"", "code": "532329103"}},
	}
}

// zipFiles makes a zip of the named files, in name order.
func zipFiles(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[name])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func unzipFiles(t testing.TB, data []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = b
	}
	return out
}

func wantInvalid(t testing.TB, err error, want string) {
	t.Helper()
	if onemap.ErrorCode(err) != onemap.EINVALID || !strings.Contains(onemap.ErrorMessage(err), want) {
		t.Errorf("err = %v; want EINVALID containing %q", err, want)
	}
}

// sameFeatures checks that recs hold fs's geometries (exactly) and
// properties.
func sameFeatures(t testing.TB, what string, recs []Record, fs []*onemap.Feature) {
	t.Helper()
	if len(recs) != len(fs) {
		t.Fatalf("%s: %d records, want %d", what, len(recs), len(fs))
	}
	for i, r := range recs {
		if !orb.Equal(r.Geometry, fs[i].Geometry) {
			t.Errorf("%s: %s geometry = %v, want %v", what, r.Where, r.Geometry, fs[i].Geometry)
		}
		if !reflect.DeepEqual(r.Properties, fs[i].Properties) {
			t.Errorf("%s: %s properties = %#v, want %#v", what, r.Where, r.Properties, fs[i].Properties)
		}
	}
}

// toFeatures turns records back into features, as the importer would.
func toFeatures(recs []Record) []*onemap.Feature {
	fs := make([]*onemap.Feature, len(recs))
	for i, r := range recs {
		fs[i] = &onemap.Feature{ID: int64(i + 1), Layer: "grids", Geometry: r.Geometry, Properties: r.Properties}
	}
	return fs
}

// needGDAL returns the path of a GDAL tool, skipping the test without it
// unless CI=true (then the test fails: `make test` installs gdal-bin).
func needGDAL(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found; install gdal-bin", tool)
	}
	t.Skipf("%s not found; install gdal-bin to run this test", tool)
	return ""
}
