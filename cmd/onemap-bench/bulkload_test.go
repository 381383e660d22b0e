package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/geofile"
)

// TestWriteCamerasCSV: the file the bulk mode writes is one that `onemap
// import` reads (the same reader), every camera with its fields and place;
// a dome has no heading or field of view.
func TestWriteCamerasCSV(t *testing.T) {
	m := newCameraMaker(1, yunnan)
	var cams []camera
	for _, p := range provinceSpread().points(1, 200) {
		c, err := m.camera(p)
		if err != nil {
			t.Fatal(err)
		}
		cams = append(cams, c)
	}
	name := filepath.Join(t.TempDir(), "cameras.csv")
	if err := writeCamerasCSV(name, cams); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	types := map[string]onemap.FieldType{}
	l, err := onemap.NewCatalog().Layer(onemap.LayerCameras)
	if err != nil {
		t.Fatal(err)
	}
	for _, fl := range l.Fields {
		types[fl.Name] = fl.Type
	}
	recs, err := geofile.ReadCSV(f, "lon", "lat", types)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(cams) {
		t.Fatalf("read %d records, wrote %d", len(recs), len(cams))
	}
	fixed, domes := 0, 0
	for i, r := range recs {
		c := cams[i]
		if r.Properties["device_code"] != c.DeviceCode || r.Properties["name"] != c.Name || r.Properties["kind"] != c.Kind {
			t.Fatalf("record %d: %v, want %+v", i, r.Properties, c)
		}
		if r.Geometry == nil || r.Geometry.Bound().Min != c.Point {
			t.Fatalf("record %d at %v, want %v", i, r.Geometry, c.Point)
		}
		_, hasHeading := r.Properties["heading"]
		if c.Fixed {
			fixed++
		} else {
			domes++
		}
		if hasHeading && r.Properties["heading"] != nil && !c.Fixed {
			t.Fatalf("record %d: a dome with heading %v", i, r.Properties["heading"])
		}
	}
	if fixed == 0 || domes == 0 {
		t.Errorf("%d fixed cameras and %d domes: the test shows nothing", fixed, domes)
	}
}

// TestImportSteps reads the steps of a bulk load from onemap's JSON log,
// as `onemap import --log-level debug --log-format json` writes them.
func TestImportSteps(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	log.Info("migrated", "file", "0032")
	log.Debug("bulk import step", "step", "copy to staging", "took", 1500*time.Millisecond)
	log.Debug("bulk import step", "step", "insert + history", "took", 3*time.Second)
	steps := importSteps(buf.String())
	want := []bulkStep{{name: "copy to staging", took: 1500 * time.Millisecond}, {name: "insert + history", took: 3 * time.Second}}
	if len(steps) != len(want) {
		t.Fatalf("steps %+v, want %+v", steps, want)
	}
	for i := range want {
		if steps[i] != want[i] {
			t.Errorf("step %d: %+v, want %+v", i, steps[i], want[i])
		}
	}
}
