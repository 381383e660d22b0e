package geofile

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

// endlessFile is a reader of a file of n records made as they are read
// (head, then record(i) for i = 1…n joined by sep, then tail), which
// counts the bytes read.
type endlessFile struct {
	head, sep, tail string
	record          func(i int) string
	n, i            int
	buf             []byte
	read            int64
}

func (f *endlessFile) Read(p []byte) (int, error) {
	for len(f.buf) < len(p) && f.i <= f.n+1 {
		switch {
		case f.i == 0:
			f.buf = append(f.buf, f.head...)
		case f.i <= f.n:
			if f.i > 1 {
				f.buf = append(f.buf, f.sep...)
			}
			f.buf = append(f.buf, f.record(f.i)...)
		default:
			f.buf = append(f.buf, f.tail...)
		}
		f.i++
	}
	if len(f.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, f.buf)
	f.buf = f.buf[n:]
	f.read += int64(n)
	return n, nil
}

// TestGeoJSONRecords_streams checks that a stream reads a large file a
// feature at a time (a few hundred KB read for the first features of a
// file of about 20 MB) and numbers each feature's line as ReadGeoJSON
// does, to the last.
func TestGeoJSONRecords_streams(t *testing.T) {
	const n = 200_000
	f := &endlessFile{head: "{\"type\": \"FeatureCollection\",\n\"features\": [\n", sep: ",\n", tail: "\n]}\n", n: n,
		record: func(i int) string {
			return fmt.Sprintf(`{"type": "Feature", "geometry": {"type": "Point", "coordinates": [102.%06d, 25.5]}, "properties": {"n": %d}}`, i, i)
		}}
	next := GeoJSONRecords(f)
	for i := 1; i <= 3; i++ {
		rec, ok, err := next()
		if err != nil || !ok {
			t.Fatalf("record %d: %v, %v", i, ok, err)
		}
		if want := fmt.Sprintf("feature %d (line %d)", i, i+2); rec.Where != want || rec.Properties["n"] != float64(i) {
			t.Errorf("record %d: %s %v, want %s", i, rec.Where, rec.Properties, want)
		}
	}
	if f.read > 1<<20 {
		t.Errorf("read %d bytes for 3 features: the file is not streamed", f.read)
	}
	var last Record
	for i := 4; ; i++ {
		rec, ok, err := next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			if i != n+1 {
				t.Errorf("%d features, want %d", i-1, n)
			}
			break
		}
		last = rec
	}
	if want := fmt.Sprintf("feature %d (line %d)", n, n+2); last.Where != want || last.Geometry != (orb.Point{102.0 + float64(n)/1e6, 25.5}) {
		t.Errorf("last record %s %v, want %s", last.Where, last.Geometry, want)
	}
	if _, ok, err := next(); ok || err != nil {
		t.Errorf("after the end: %v, %v", ok, err)
	}
}

// TestGeoJSONRecords_typeLast checks the members in any order: a
// FeatureCollection whose "type" follows its features, a Feature whose
// "type" follows its geometry, and a file that turns out to be neither
// refused at its end.
func TestGeoJSONRecords_typeLast(t *testing.T) {
	recs, err := ReadGeoJSON(strings.NewReader(`{"features": [
{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}}], "name": "x", "type": "FeatureCollection"}`))
	if err != nil || len(recs) != 1 || recs[0].Where != "feature 1 (line 2)" {
		t.Errorf("type last: %+v, %v", recs, err)
	}
	recs, err = ReadGeoJSON(strings.NewReader(`{"geometry": {"type": "Point", "coordinates": [1, 2]}, "properties": {"a": 1}, "type": "Feature"}`))
	if err != nil || len(recs) != 1 || recs[0].Geometry != (orb.Point{1, 2}) || recs[0].Properties["a"] != 1.0 {
		t.Errorf("single feature: %+v, %v", recs, err)
	}
	next := GeoJSONRecords(strings.NewReader(`{"features": [
{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}}], "type": "GeometryCollection"}`))
	if _, ok, err := next(); !ok || err != nil {
		t.Fatalf("first: %v, %v", ok, err)
	}
	if _, _, err := next(); onemap.ErrorCode(err) != onemap.EINVALID || !strings.Contains(onemap.ErrorMessage(err), "not a FeatureCollection") {
		t.Errorf("at the end: %v", err)
	}
}

// TestGeoJSONRecords_limit checks ReadGeoJSON's size limit on a stream.
func TestGeoJSONRecords_limit(t *testing.T) {
	f := &endlessFile{head: `{"type": "FeatureCollection", "features": [`, sep: ",", tail: "]}", n: 10_000,
		record: func(int) string {
			return `{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}}`
		}}
	_, err := collect(geoJSONRecords(f, 64<<10))
	if onemap.ErrorCode(err) != onemap.EINVALID || !strings.Contains(onemap.ErrorMessage(err), "larger than") {
		t.Errorf("err = %v", err)
	}
}

// TestCSVRecords_streams checks that a CSV stream reads a row at a time.
func TestCSVRecords_streams(t *testing.T) {
	const n = 200_000
	f := &endlessFile{head: "name,lon,lat,heading\n", sep: "\n", tail: "\n", n: n,
		record: func(i int) string { return fmt.Sprintf("camera %d,102.5,25.5,%d", i, i%360) }}
	next, err := CSVRecords(f, "lon", "lat", map[string]onemap.FieldType{"heading": onemap.FieldNumber})
	if err != nil {
		t.Fatal(err)
	}
	rec, ok, err := next()
	if err != nil || !ok || rec.Where != "line 2" || rec.Properties["name"] != "camera 1" || rec.Properties["heading"] != 1.0 {
		t.Fatalf("first row: %+v %v %v", rec, ok, err)
	}
	if f.read > 1<<20 {
		t.Errorf("read %d bytes for one row: the file is not streamed", f.read)
	}
	rows := 1
	for {
		rec, ok, err = next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		rows++
		if rows == n && rec.Where != fmt.Sprintf("line %d", n+1) {
			t.Errorf("last row at %s", rec.Where)
		}
	}
	if rows != n {
		t.Errorf("%d rows, want %d", rows, n)
	}
}
