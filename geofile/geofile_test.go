package geofile

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

func TestReadGeoJSON(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		in := `{"type": "FeatureCollection",
"features": [
  {"type": "Feature", "geometry": {"type": "Point", "coordinates": [102.4, 25.5]}, "properties": {"name": "一"}},
  {"type": "Feature", "geometry": {"type": "Point", "coordinates": [102.5, 25.6]}, "properties": null}
]}`
		recs, err := ReadGeoJSON(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 || recs[0].Where != "feature 1 (line 3)" || recs[1].Where != "feature 2 (line 4)" {
			t.Fatalf("records = %+v", recs)
		}
		if recs[0].Geometry != (orb.Point{102.4, 25.5}) || recs[0].Properties["name"] != "一" {
			t.Errorf("record 1 = %+v", recs[0])
		}
	})
	for name, tc := range map[string]struct{ in, want string }{
		"syntax":        {"{\"type\": \"FeatureCollection\",\n\"features\": [\n{\"type\": \"Feature\",, }]}", "line 3: malformed JSON"},
		"no geometry":   {"{\"type\":\"FeatureCollection\",\"features\":[\n{\"type\":\"Feature\",\"properties\":{}}]}", "feature 1 (line 2): geometry is missing"},
		"bad geometry":  {"{\"type\":\"FeatureCollection\",\"features\":[\n{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":\"x\"}}]}", "feature 1 (line 2): geometry"},
		"not a feature": {"{\"type\":\"FeatureCollection\",\"features\":[\n1]}", "feature 1 (line 2)"},
		"truncated":     {"{\"type\":\"FeatureCollection\",\"features\":[", "ends too early"},
		"array":         {"[]", "line 1: a GeoJSON file must hold a JSON object"},
		"geometry only": {`{"type":"Point","coordinates":[1,2]}`, `not a FeatureCollection or Feature`},
	} {
		t.Run("Err/"+name, func(t *testing.T) {
			_, err := ReadGeoJSON(strings.NewReader(tc.in))
			if onemap.ErrorCode(err) != onemap.EINVALID || !strings.Contains(onemap.ErrorMessage(err), tc.want) {
				t.Errorf("err = %v; want EINVALID containing %q", err, tc.want)
			}
		})
	}
}

func TestReadCSV(t *testing.T) {
	types := map[string]onemap.FieldType{"services": onemap.FieldStrings, "heading": onemap.FieldNumber}
	recs, err := ReadCSV(strings.NewReader("\xef\xbb\xbfname,lon,lat,services,heading\n卫生室,102.4,25.5,门诊;接种,90\n"), "lon", "lat", types)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Where != "line 2" || recs[0].Geometry != (orb.Point{102.4, 25.5}) {
		t.Fatalf("records = %+v", recs)
	}
	if s := recs[0].Properties["services"].([]any); len(s) != 2 || s[1] != "接种" || recs[0].Properties["heading"] != 90.0 {
		t.Errorf("properties = %v", recs[0].Properties)
	}
	for name, tc := range map[string]struct{ in, want string }{
		"bad lon":    {"name,lon,lat\na,102.4,25.5\nb,东经,25.5\n", "line 3: lon=\"东经\""},
		"no columns": {"name,x,y\na,1,2\n", "line 1: the header needs columns"},
		"bad number": {"name,lon,lat,heading\na,102.4,25.5,north\n", "line 2: column \"heading\""},
		"quote":      {"name,lon,lat\n\"a,102.4,25.5\n", "line 2"},
		"empty":      {"", "line 1: the file is empty"},
	} {
		t.Run("Err/"+name, func(t *testing.T) {
			_, err := ReadCSV(strings.NewReader(tc.in), "lon", "lat", types)
			if onemap.ErrorCode(err) != onemap.EINVALID || !strings.Contains(onemap.ErrorMessage(err), tc.want) {
				t.Errorf("err = %v; want EINVALID containing %q", err, tc.want)
			}
		})
	}
}

func TestWriteGeoJSON_roundTrip(t *testing.T) {
	fs := []*onemap.Feature{{ID: 7, Geometry: orb.Point{102.4, 25.5}, Properties: map[string]any{"name": "站"}}}
	var buf bytes.Buffer
	if err := WriteGeoJSON(&buf, fs); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadGeoJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Geometry != fs[0].Geometry || recs[0].Properties["name"] != "站" {
		t.Errorf("round trip = %+v", recs)
	}
}

func FuzzReadGeoJSON(f *testing.F) {
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{}}]}`)
	f.Add(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}`)
	f.Fuzz(func(t *testing.T, in string) {
		recs, err := ReadGeoJSON(strings.NewReader(in))
		if err != nil {
			if c := onemap.ErrorCode(err); c != onemap.EINVALID {
				t.Fatalf("error %v has code %s, want invalid", err, c)
			}
			return
		}
		for _, r := range recs {
			if r.Geometry == nil || r.Where == "" {
				t.Fatalf("record without geometry or place: %+v", r)
			}
		}
	})
}

func FuzzReadCSV(f *testing.F) {
	f.Add("name,lon,lat\na,102.4,25.5\n")
	f.Fuzz(func(t *testing.T, in string) {
		_, err := ReadCSV(strings.NewReader(in), "lon", "lat", nil)
		if err != nil && onemap.ErrorCode(err) != onemap.EINVALID {
			t.Fatalf("error %v is not EINVALID", err)
		}
	})
}

// TestRead_vertexLimits: a file with a feature of more vertices than one
// geometry may have, or more than an import takes in all, is refused before
// its coordinates are converted, naming the feature.
func TestRead_vertexLimits(t *testing.T) {
	square := func(x float64) string {
		return fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[%g,25],[%g,25],[%g,25.1],[%g,25.1],[%g,25]]]},"properties":{}}`,
			x, x+0.1, x+0.1, x, x)
	}
	file := []byte(`{"type":"FeatureCollection","features":[` + "\n" + square(102) + ",\n" + square(102.2) + ",\n" + square(102.4) + "\n]}")
	for _, tc := range []struct {
		most, total int
		want        string
	}{
		{4, 0, "feature 1 (line 2): 5 vertices, more than the 4 one geometry may have"},
		{5, 14, "feature 3 (line 4): the file's features have more than 14 vertices together"},
	} {
		// GCJ-02 would be converted: the limits come first.
		_, err := Read(GeoJSON, file, ReadOptions{CRS: "GCJ-02", MaxVertices: tc.most, MaxTotalVertices: tc.total})
		if onemap.ErrorCode(err) != onemap.EINVALID || onemap.ErrorField(err) != "geometry" || !strings.Contains(onemap.ErrorMessage(err), tc.want) {
			t.Errorf("limits %d, %d: %v; want EINVALID saying %q", tc.most, tc.total, err, tc.want)
		}
	}
	if recs, err := Read(GeoJSON, file, ReadOptions{MaxVertices: 5, MaxTotalVertices: 15}); err != nil || len(recs) != 3 {
		t.Errorf("at the limits: %d records, %v", len(recs), err)
	}
}
