package geofile

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func TestKML_roundTrip(t *testing.T) {
	fs := sampleFeatures()
	fs = append(fs,
		&onemap.Feature{ID: 4, Geometry: orb.Point{102.4, 25.5}, Properties: map[string]any{"name": "卫生室", "services": []any{"门诊", "接种"}}},
		&onemap.Feature{ID: 5, Geometry: orb.LineString{{102.4, 25.5}, {102.5, 25.6}}, Properties: map[string]any{"description": "<b>路</b> & 桥"}},
	)
	var buf bytes.Buffer
	if err := Write(KML, &buf, fs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `<kml xmlns="http://www.opengis.net/kml/2.2">`) || !strings.Contains(buf.String(), `<SimpleField name="level" type="double">`) {
		t.Errorf("KML lacks the namespace or the Schema:\n%s", buf.String())
	}
	recs, err := Read(KML, buf.Bytes(), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Lists go out as JSON text and come back as text.
	fs[3].Properties["services"] = `["门诊","接种"]`
	sameFeatures(t, "kml", recs, fs)
	if !strings.HasPrefix(recs[0].Where, `feature 1 (Placemark "狮山镇第一网格", line `) {
		t.Errorf("Where = %q", recs[0].Where)
	}
}

const kmlSample = `<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">
<Document>
  <name>武定</name>
  <Folder><name>网格</name>
    <Placemark>
      <name> 猫街 </name>
      <ExtendedData>
        <Data name="code"><value>532329102</value></Data>
        <SchemaData schemaUrl="#none"><SimpleData name="grid_level">village</SimpleData></SchemaData>
      </ExtendedData>
      <MultiGeometry>
        <Polygon><outerBoundaryIs><LinearRing><coordinates>
          102.30,25.50,1800 102.30,25.60,1800 102.40,25.60,1800 102.40,25.50,1800 102.30,25.50,1800
        </coordinates></LinearRing></outerBoundaryIs>
        <innerBoundaryIs><LinearRing><coordinates>102.32,25.52 102.35,25.52 102.35,25.55 102.32,25.55</coordinates></LinearRing></innerBoundaryIs>
        </Polygon>
        <Polygon><outerBoundaryIs><LinearRing><coordinates>102.41, 25.50 102.45, 25.50 102.45, 25.55 102.41, 25.50</coordinates></LinearRing></outerBoundaryIs></Polygon>
      </MultiGeometry>
    </Placemark>
    <Folder>
      <Placemark><name>站</name><Point><gx:altitudeMode>clampToGround</gx:altitudeMode><coordinates>102.4,25.5</coordinates></Point></Placemark>
    </Folder>
  </Folder>
</Document>
</kml>`

func TestKML_read(t *testing.T) {
	recs, err := Read(KML, []byte(kmlSample), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	mp, ok := recs[0].Geometry.(orb.MultiPolygon)
	if !ok || len(mp) != 2 || len(mp[0]) != 2 || len(mp[0][1]) != 5 || len(mp[1][0]) != 4 {
		t.Fatalf("geometry = %v; want two polygons, the first with a hole closed to 5 points", recs[0].Geometry)
	}
	if mp[0][0].Orientation() != orb.CCW || mp[0][1].Orientation() != orb.CW || mp[1][0][1] != (orb.Point{102.45, 25.50}) {
		t.Errorf("rings not in RFC 7946 orientation or mis-parsed: %v", mp)
	}
	want := map[string]any{"name": "猫街", "code": "532329102", "grid_level": "village"}
	for k, v := range want {
		if recs[0].Properties[k] != v {
			t.Errorf("property %s = %#v, want %#v", k, recs[0].Properties[k], v)
		}
	}
	if recs[1].Geometry != (orb.Point{102.4, 25.5}) || recs[1].Where != `feature 2 (Placemark "站", line 22)` {
		t.Errorf("record 2 = %+v", recs[1])
	}

	t.Run("GBK with BOM", func(t *testing.T) {
		g, err := simplifiedchinese.GBK.NewEncoder().String(strings.Replace(kmlSample, `encoding="UTF-8"`, `encoding="GBK"`, 1))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := Read(KML, []byte("\ufeff"+g), ReadOptions{})
		if err != nil || len(recs) != 2 || recs[0].Properties["name"] != "猫街" {
			t.Fatalf("Read(GBK KML) = %v, %v", recs, err)
		}
	})
	t.Run("KMZ", func(t *testing.T) {
		kmz := zipFiles(t, map[string][]byte{"doc.kml": []byte(kmlSample), "files/icon.png": {1, 2, 3}})
		if f, err := DetectFormat("upload.kmz", kmz); err != nil || f != KML {
			t.Errorf("DetectFormat(kmz) = %v, %v", f, err)
		}
		recs, err := Read(KML, kmz, ReadOptions{})
		if err != nil || len(recs) != 2 {
			t.Fatalf("Read(KMZ) = %d records, %v", len(recs), err)
		}
	})
}

func TestKML_errors(t *testing.T) {
	pm := func(body string) string {
		return "<kml><Document>\n<Placemark><name>a</name><Point><coordinates>1,2</coordinates></Point></Placemark>\n<Placemark>\n<name>b</name>" + body + "</Placemark></Document></kml>"
	}
	for name, tc := range map[string]struct{ in, want string }{
		"syntax":      {"<kml><Document>\n<Placemark><name>a</Placemark>", "feature 1 (line 2): malformed KML: XML syntax error on line 2"},
		"not kml":     {"<gpx></gpx>", "not a KML document"},
		"no geometry": {pm(""), `feature 2 (Placemark "b", line 3): the Placemark has no geometry`},
		"coordinate": {pm("<Polygon><outerBoundaryIs><LinearRing><coordinates>1,2 3,4 5,x 1,2</coordinates></LinearRing></outerBoundaryIs></Polygon>"),
			`feature 2 (Placemark "b", line 3): Polygon 1 outer ring: coordinate 3 "5,x" is not lon,lat[,alt]`},
		"short ring": {pm("<Polygon><outerBoundaryIs><LinearRing><coordinates>1,2 3,4 1,2</coordinates></LinearRing></outerBoundaryIs></Polygon>"),
			"Polygon 1 outer ring has 3 coordinates"},
		"latitude": {pm("<Point><coordinates>102.4,95</coordinates></Point>"), `feature 2 (Placemark "b", line 3): coordinate [102.4 95] is not a longitude/latitude`},
		"typed": {"<kml><Schema id=\"s\"><SimpleField name=\"n\" type=\"int\"/></Schema><Placemark><ExtendedData><SchemaData schemaUrl=\"#s\"><SimpleData name=\"n\">many</SimpleData></SchemaData></ExtendedData><Point><coordinates>1,2</coordinates></Point></Placemark></kml>",
			`feature 1 (line 1): SimpleData "n": "many" is not a number`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Read(KML, []byte(tc.in), ReadOptions{})
			wantInvalid(t, err, tc.want)
		})
	}
}

// TestKML_GDAL has GDAL read the KML we write, and we read the KML GDAL
// writes.
func TestKML_GDAL(t *testing.T) {
	ogr2ogr := needGDAL(t, "ogr2ogr")
	dir := t.TempDir()
	fs := sampleFeatures()
	var buf bytes.Buffer
	if err := Write(KML, &buf, fs); err != nil {
		t.Fatal(err)
	}
	kmlPath := filepath.Join(dir, "grids.kml")
	os.WriteFile(kmlPath, buf.Bytes(), 0o644)
	out := filepath.Join(dir, "gdal.geojson")
	if b, err := exec.Command(ogr2ogr, "-f", "GeoJSON", "-lco", "RFC7946=YES", out, kmlPath).CombinedOutput(); err != nil {
		t.Fatalf("ogr2ogr: %v\n%s", err, b)
	}
	data, _ := os.ReadFile(out)
	recs, err := Read(GeoJSON, data, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(fs) {
		t.Fatalf("GDAL read %d features, want %d", len(recs), len(fs))
	}
	for i, r := range recs {
		if !orb.Equal(r.Geometry, fs[i].Geometry) {
			t.Errorf("GDAL read feature %d as %v, want %v", i+1, r.Geometry, fs[i].Geometry)
		}
		if r.Properties["Name"] != fs[i].Properties["name"] && r.Properties["name"] != fs[i].Properties["name"] {
			t.Errorf("GDAL read feature %d name %v, want %v", i+1, r.Properties, fs[i].Properties["name"])
		}
	}

	in := filepath.Join(dir, "in.geojson")
	var gj bytes.Buffer
	WriteGeoJSON(&gj, fs)
	os.WriteFile(in, gj.Bytes(), 0o644)
	gdalKML := filepath.Join(dir, "gdal.kml")
	if b, err := exec.Command(ogr2ogr, "-f", "KML", "-dsco", "NameField=name", gdalKML, in).CombinedOutput(); err != nil {
		t.Fatalf("ogr2ogr: %v\n%s", err, b)
	}
	data, _ = os.ReadFile(gdalKML)
	recs, err = Read(KML, data, ReadOptions{})
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	sameFeatures(t, "GDAL KML", recs, gdalBoolsAsNumbers(fs))
}

func FuzzReadKML(f *testing.F) {
	f.Add([]byte(`<kml><Placemark><name>a</name><Point><coordinates>1,2</coordinates></Point></Placemark></kml>`))
	f.Add([]byte(kmlSample))
	f.Fuzz(func(t *testing.T, in []byte) {
		recs, err := readKML(in)
		if err != nil {
			if onemap.ErrorCode(err) != onemap.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
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
