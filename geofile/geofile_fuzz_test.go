package geofile

import (
	"bytes"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

// FuzzGeoJSONRoundTrip reads fuzzed GeoJSON and, when it is accepted, writes
// the records back and reads them again: the same geometries and the same
// number of features must come back (read → write → read), so that what an
// import accepts an export gives back as it was. FuzzReadGeoJSON and
// FuzzReadCSV (geofile_test.go) check the refusals.
func FuzzGeoJSONRoundTrip(f *testing.F) {
	for _, s := range []string{
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[102.4,25.5]},"properties":{"name":"站","n":3}}]}`,
		`{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]},"properties":null}`,
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"LineString","coordinates":[[0,0],[1e-9,2]]},"properties":{"a":[1,"b",null]}},{"type":"Feature","geometry":{"type":"Point","coordinates":[-180,-90]}}]}`,
		"\ufeff{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2,3]}}",
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"GeometryCollection","geometries":[]}}]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		recs, err := ReadGeoJSON(strings.NewReader(in))
		if err != nil {
			if onemap.ErrorCode(err) != onemap.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		fs := make([]*onemap.Feature, len(recs))
		for i, r := range recs {
			fs[i] = &onemap.Feature{ID: int64(i + 1), Geometry: r.Geometry, Properties: r.Properties}
		}
		var buf bytes.Buffer
		if err := WriteGeoJSON(&buf, fs); err != nil {
			return // properties JSON cannot carry (a NaN never gets this far; this is belt and braces)
		}
		again, err := ReadGeoJSON(&buf)
		if err != nil {
			t.Fatalf("%s\nwritten back as\n%s\nno longer reads: %v", in, buf.String(), err)
		}
		if len(again) != len(recs) {
			t.Fatalf("%d features read back as %d", len(recs), len(again))
		}
		for i := range recs {
			if !orb.Equal(recs[i].Geometry, again[i].Geometry) {
				t.Fatalf("feature %d: %v read back as %v", i, recs[i].Geometry, again[i].Geometry)
			}
		}
	})
}
