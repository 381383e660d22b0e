package geofile

import (
	"bytes"
	"testing"

	"github.com/onemapgis/onemap"
)

// TestRead_places: every record, and every refusal about one feature,
// carries the feature's 1-based number and, where the format has lines,
// the line it starts on; a Shapefile's have none.
func TestRead_places(t *testing.T) {
	fs := sampleFeatures()
	var gj, kml bytes.Buffer
	if err := Write(GeoJSON, &gj, fs); err != nil {
		t.Fatal(err)
	}
	if err := Write(KML, &kml, fs); err != nil {
		t.Fatal(err)
	}
	csv := []byte("lon,lat,name\n102.4,25.5,a\n102.5,25.6,b\n")
	for _, c := range []struct {
		format   Format
		data     []byte
		withLine bool
	}{
		{GeoJSON, gj.Bytes(), true},
		{KML, kml.Bytes(), true},
		{Shapefile, zipFiles(t, writeShp(t, fs)), false},
		{CSV, csv, true},
	} {
		recs, err := Read(c.format, c.data, ReadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", c.format, err)
		}
		prev := 0
		for i, r := range recs {
			if r.Feature != i+1 || c.withLine != (r.Line > 0) || c.withLine && r.Line <= prev {
				t.Errorf("%s record %d (%s): feature %d, line %d", c.format, i+1, r.Where, r.Feature, r.Line)
			}
			prev = r.Line
		}
	}
	if recs, _ := Read(CSV, csv, ReadOptions{}); recs[1].Line != 3 || recs[1].Where != "line 3" {
		t.Errorf("CSV second row: line %d, where %q; want 3", recs[1].Line, recs[1].Where)
	}

	for _, c := range []struct {
		format        Format
		data          string
		feature, line int
		field         string
	}{
		{GeoJSON, "{\"type\":\"FeatureCollection\",\"features\":[\n{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[102.4,25.5]}},\n{\"type\":\"Feature\",\"geometry\":null}]}", 2, 3, ""},
		{KML, "<kml><Document>\n<Placemark><Point><coordinates>102.4,25.5</coordinates></Point></Placemark>\n\n<Placemark><name>x</name></Placemark>\n</Document></kml>", 2, 4, ""},
		{CSV, "lon,lat\n102.4,25.5\nx,25.6\n", 2, 3, ""},
	} {
		_, err := Read(c.format, []byte(c.data), ReadOptions{})
		feature, line := onemap.ErrorPlace(err)
		if onemap.ErrorCode(err) != onemap.EINVALID || feature != c.feature || line != c.line || onemap.ErrorField(err) != c.field {
			t.Errorf("%s: %v at feature %d line %d; want feature %d line %d", c.format, err, feature, line, c.feature, c.line)
		}
	}
	// Too many vertices: the geometry of a feature, with its place.
	_, err := Read(GeoJSON, gj.Bytes(), ReadOptions{MaxVertices: 10}) // the third has 15
	if feature, line := onemap.ErrorPlace(err); feature != 3 || line < 3 || onemap.ErrorField(err) != "geometry" {
		t.Errorf("too many vertices: %v at feature %d line %d field %q; want feature 3, its line, geometry", err, feature, line, onemap.ErrorField(err))
	}
}
