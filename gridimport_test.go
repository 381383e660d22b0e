package onemap

import (
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func TestGridImportRows(t *testing.T) {
	l, err := NewCatalog().Layer(LayerGrids)
	if err != nil {
		t.Fatal(err)
	}
	env := orb.Bound{Min: orb.Point{100, 20}, Max: orb.Point{110, 30}}
	sq := orb.Polygon{{{101, 21}, {101.1, 21}, {101.1, 21.1}, {101, 21}}}
	feats := []ImportFeature{
		{Where: "feature 1 (line 2)", Feature: 1, Line: 2, Geometry: sq, Properties: map[string]any{
			"LEVEL": "group", "名称": " 一组 ", "code": 530123001001001.0, "parent_code": 530123001001.0,
			"HOUSEHOLDS": "12", "population": 40.0, "worker_pho": "13800001111", "fid": 7.0, "colour": "red"}},
		{Where: "feature 2 (line 9)", Feature: 2, Line: 9, Geometry: sq, Properties: map[string]any{
			"层级": "village", "Name": "村", "code": "530123001001", "上级编码": "530123001", "户数": "", "Notes": nil, "area_m2": 3.0}},
		{Where: "feature 3 (line 14)", Feature: 3, Line: 14, Geometry: sq, Properties: map[string]any{"level": "group", "name": "二组"}},
	}
	rows, ignored, err := GridImportRows(&l, feats, env)
	if err != nil {
		t.Fatal(err)
	}
	// Parents first, the file's order within a level.
	if len(rows) != 3 || rows[0].Feature != 2 || rows[1].Feature != 1 || rows[2].Feature != 3 {
		t.Fatalf("rows: %+v", rows)
	}
	if r := rows[0]; r.Where != "feature 2 (line 9)" || r.Line != 9 || r.ParentCode != "530123001" ||
		!reflect.DeepEqual(r.Properties, map[string]any{"level": "village", "name": "村", "code": "530123001001"}) {
		t.Errorf("village row: %+v", r)
	}
	want := map[string]any{"level": "group", "name": "一组", "code": "530123001001001", "households": 12.0, "population": 40.0,
		"worker_phone": "13800001111"}
	if r := rows[1]; r.ParentCode != "530123001001" || !reflect.DeepEqual(r.Properties, want) {
		t.Errorf("group row: %+v, want properties %v", r, want)
	}
	if !reflect.DeepEqual(ignored, []string{"Notes", "colour"}) {
		t.Errorf("ignored: %q, want [Notes colour]", ignored)
	}

	for _, c := range []struct {
		name    string
		feat    ImportFeature
		field   string
		message string
	}{
		{"whole number", ImportFeature{Where: "feature 4 (line 20)", Feature: 4, Line: 20, Geometry: sq,
			Properties: map[string]any{"population": "12.5"}}, "population", `feature 4 (line 20): field "population": "12.5" is not a whole number`},
		{"outside", ImportFeature{Where: "feature 5", Feature: 5, Geometry: orb.Polygon{{{1, 1}, {2, 1}, {2, 2}, {1, 1}}}},
			"geometry", "feature 5: "},
		{"parent code", ImportFeature{Where: "feature 6 (line 30)", Feature: 6, Line: 30, Geometry: sq,
			Properties: map[string]any{"parent_code": "53\x00"}}, "parent_code", "feature 6 (line 30): "},
	} {
		_, _, err := GridImportRows(&l, []ImportFeature{feats[0], c.feat}, env)
		feature, line := ErrorPlace(err)
		if ErrorCode(err) != EINVALID || ErrorField(err) != c.field || feature != c.feat.Feature || line != c.feat.Line ||
			!strings.HasPrefix(ErrorMessage(err), c.message) {
			t.Errorf("%s: %v (field %q, feature %d, line %d); want EINVALID for field %q at feature %d line %d, %q…",
				c.name, err, ErrorField(err), feature, line, c.field, c.feat.Feature, c.feat.Line, c.message)
		}
	}
}
