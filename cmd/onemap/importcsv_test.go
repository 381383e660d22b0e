package main

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/geofile"
	"github.com/onemapgis/onemap/postgis"
)

// TestCSVFields_sameAsNormalize: the bulk path's reader of a CSV table
// (csvFields: each row's fields by place, no map a row) gives every row
// of a table as Normalize gives the map CSVRecords makes of it: the same
// values for the same fields, or the same error, word for word, in every
// point layer, over rows good and bad (unknown, read-only and "id"
// columns, values out of their enums or types, blank and missing required
// fields, coordinates that are not numbers or out of range, lists); and it
// takes the good rows by place.
func TestCSVFields_sameAsNormalize(t *testing.T) {
	catalog := onemap.NewCatalog()
	r := rand.New(rand.NewPCG(48, 1))
	for _, id := range []string{onemap.LayerCameras, onemap.LayerStations, onemap.LayerHouseholds, onemap.LayerRiskPoints} {
		l, err := catalog.Layer(id)
		if err != nil {
			t.Fatal(err)
		}
		if l.Geometry != onemap.GeometryPoint {
			continue
		}
		types := map[string]onemap.FieldType{}
		for _, f := range l.Fields {
			types[f.Name] = f.Type
		}
		// The header: the layer's fields (read-only ones too), "id", a
		// column no field has, the coordinates.
		header := []string{"lon", "lat", "id", "nonesuch"}
		for _, f := range l.Fields {
			header = append(header, f.Name)
		}
		r.Shuffle(len(header), func(i, j int) { header[i], header[j] = header[j], header[i] })
		var text strings.Builder
		text.WriteString(strings.Join(header, ",") + "\n")
		const rows = 3000
		for range rows {
			cells := make([]string, len(header))
			for i, h := range header {
				cells[i] = csvCell(r, h, types[h], l.Fields)
			}
			text.WriteString(strings.Join(cells, ",") + "\n")
		}
		byMap, err := geofile.CSVRecords(strings.NewReader(text.String()), "lon", "lat", types)
		if err != nil {
			t.Fatal(err)
		}
		t2, err := geofile.NewCSVRows(strings.NewReader(text.String()), "lon", "lat", types)
		if err != nil {
			t.Fatal(err)
		}
		direct := newCSVFields(&l, t2)
		if direct == nil {
			t.Fatalf("%s: no direct reader for header %v", id, header)
		}
		writable := postgis.ImportFields(&l)
		good, refused := 0, 0
		for n := range rows {
			rec, ok1, err1 := byMap()
			var want postgis.ImportRow
			if err1 == nil && ok1 {
				want, ok1, err1 = normalizedRow(&l, rec)
			}
			got, ok2, err2 := direct.row()
			if fmt.Sprint(err1) != fmt.Sprint(err2) || ok1 != ok2 {
				t.Fatalf("%s row %d: map path %v, %v; direct %v, %v", id, n+1, ok1, err1, ok2, err2)
			}
			if err1 != nil {
				refused++
				continue
			}
			if got.Fields == nil {
				t.Fatalf("%s row %d (%s): taken through a map, not by place", id, n+1, got.Where)
			}
			good++
			props := map[string]any{}
			for i, v := range got.Fields {
				if v != nil {
					props[writable[i].Name] = v
				}
			}
			if !reflect.DeepEqual(props, want.Feature.Properties) || got.Where != want.Where || !reflect.DeepEqual(got.Feature.Geometry, want.Feature.Geometry) {
				t.Fatalf("%s row %d: by place %s %v %v; by map %s %v %v", id, n+1, got.Where, got.Feature.Geometry, props, want.Where, want.Feature.Geometry, want.Feature.Properties)
			}
		}
		t.Logf("%s: %d rows taken by place, %d refused", id, good, refused)
		if good < rows/20 || refused < rows/20 {
			t.Errorf("%s: %d rows taken, %d refused: the test compares too few of one", id, good, refused)
		}
		if _, ok, err := direct.row(); ok || err != nil {
			t.Errorf("%s: past the last row: %v, %v", id, ok, err)
		}
	}
}

// csvCell is a random cell of column h (type typ): most often a good
// value, sometimes empty or bad.
func csvCell(r *rand.Rand, h string, typ onemap.FieldType, fields []onemap.Field) string {
	var f onemap.Field
	for _, x := range fields {
		if x.Name == h {
			f = x
		}
	}
	if r.IntN(40) == 0 {
		return ""
	}
	bad := r.IntN(60) == 0
	switch h {
	case "lon", "lat":
		switch {
		case bad && r.IntN(2) == 0:
			return "north"
		case bad:
			return "200"
		case h == "lon":
			return fmt.Sprintf("%.6f", 102+r.Float64())
		default:
			return fmt.Sprintf("%.6f", 25+r.Float64())
		}
	case "id", "nonesuch":
		if r.IntN(8) == 0 {
			return "7"
		}
		return ""
	case "device_code":
		return fmt.Sprintf("53%018d", r.Int64N(1e17))
	}
	if f.ReadOnly {
		if r.IntN(10) == 0 {
			return "x"
		}
		return ""
	}
	if f.Enum != nil {
		if bad {
			return "nonesuch"
		}
		return f.Enum[r.IntN(len(f.Enum))]
	}
	switch typ {
	case onemap.FieldInteger, onemap.FieldNumber:
		if bad {
			return []string{"many", "1.5", "-3"}[r.IntN(3)]
		}
		return fmt.Sprint(r.IntN(300))
	case onemap.FieldBoolean:
		if bad {
			return "perhaps"
		}
		return []string{"t", "false", "1"}[r.IntN(3)]
	case onemap.FieldDate:
		if bad {
			return "2026-13-40"
		}
		return fmt.Sprintf("2026-%02d-%02d", 1+r.IntN(12), 1+r.IntN(28))
	case onemap.FieldStrings:
		return "甲; 乙;丙"
	}
	if f.Phone {
		if bad {
			return "call me"
		}
		return "0878-8711111"
	}
	if bad {
		return []string{" ", strings.Repeat("长", 120), "a\x00b"}[r.IntN(3)]
	}
	return fmt.Sprintf("名%d", r.IntN(1000))
}
