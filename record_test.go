package onemap

import (
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/paulmach/orb"
)

func TestNewRecord(t *testing.T) {
	values := []any{
		nil, "", "名称", int64(0), int64(-3), int64(math.MaxInt64), int64(math.MinInt64), 300, int32(-7),
		0.0, math.Copysign(0, -1), 12.5, math.Inf(-1), true, false, []string{}, []string{"户籍", "", "社保"},
		[]string(nil), string(make([]byte, 300)), nil,
	}
	want := []any{
		nil, "", "名称", int64(0), int64(-3), int64(math.MaxInt64), int64(math.MinInt64), int64(300), int64(-7),
		0.0, math.Copysign(0, -1), 12.5, math.Inf(-1), true, false, []string{}, []string{"户籍", "", "社保"},
		nil, string(make([]byte, 300)), nil,
	}
	p := orb.Point{102.4, 25.5}
	r, err := NewRecord(7, 2, p, values)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != 7 || r.Version != 2 || r.Geometry != p || r.Bound != p.Bound() {
		t.Errorf("record %+v", r)
	}
	for i, w := range want {
		if got := r.Value(i); !reflect.DeepEqual(got, w) || math.Signbit(toF(got)) != math.Signbit(toF(w)) {
			t.Errorf("Value(%d) = %#v, want %#v", i, got, w)
		}
	}
	for _, i := range []int{-1, len(values), 100} {
		if got := r.Value(i); got != nil {
			t.Errorf("Value(%d) = %#v, want nil", i, got)
		}
	}
	// Trailing nulls are left out; the values up to the last are all there.
	raw := r.RawValues(nil)
	if len(raw) != len(values)-1 {
		t.Errorf("RawValues: %d values, want %d", len(raw), len(values)-1)
	}
	for i, v := range raw {
		if v != r.Raw(i) {
			t.Errorf("RawValues()[%d] = %q, Raw(%d) = %q", i, v, i, r.Raw(i))
		}
	}
	if empty := (&Record{}); empty.Value(0) != nil || len(empty.RawValues(nil)) != 0 {
		t.Errorf("a Record literal has values")
	}
	if _, err := NewRecord(1, 1, p, []any{"a", []int{1}}); err == nil {
		t.Errorf("NewRecord took a []int")
	}
	// Values past 64 KiB: wider offsets, the same values.
	long := string(make([]byte, 70000))
	wide := []any{"a", long, nil, int64(5), long + "b", "c"}
	r, err = NewRecord(8, 1, p, wide)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range wide {
		if got := r.Value(i); got != w {
			t.Errorf("wide record: Value(%d) is %d bytes, want %d", i, len(fmt.Sprint(got)), len(fmt.Sprint(w)))
		}
	}
	if _, err := NewRecord(1, 1, p, make([]any, 256)); err == nil {
		t.Errorf("NewRecord took 256 values")
	}
	if r, err := NewRecord(1, 1, p, make([]any, 255)); err != nil || r.Fields() != 0 {
		t.Errorf("255 nulls: %v, %d fields held", err, r.Fields())
	}
}

func toF(v any) float64 {
	f, _ := v.(float64)
	return f
}

// TestRawValue_equality checks that values are equal exactly when their
// encodings are.
func TestRawValue_equality(t *testing.T) {
	values := []any{nil, "", "1", "a", "ab", int64(0), int64(1), int64(-1), 0.0, math.Copysign(0, -1), 1.0,
		true, false, []string{}, []string{""}, []string{"a"}, []string{"a", ""}, []string{"", "a"}}
	for i, a := range values {
		ra, _ := AppendValue(nil, a)
		for j, b := range values {
			rb, _ := AppendValue(nil, b)
			if (i == j) != (string(ra) == string(rb)) {
				t.Errorf("%#v and %#v: encodings %q and %q", a, b, ra, rb)
			}
		}
	}
	if got := RawString("名称"); got.Text() != "名称" || got.Kind() != KindString {
		t.Errorf("RawString = %q", got)
	}
}

func TestSeverity(t *testing.T) {
	c := NewCatalog()
	rp, _ := c.Layer(LayerRiskPoints)
	cam, _ := c.Layer(LayerCameras)
	level := rp.FieldIndex("level")
	rec := func(l Layer, lv any) *Record {
		v := make([]any, len(l.Fields))
		if i := l.FieldIndex("level"); i >= 0 {
			v[i] = lv
		}
		r, err := NewRecord(1, 1, orb.Point{}, v)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for lv, want := range map[any]int{"red": 0, "orange": 1, "blue": 3, "purple": 4, nil: 4} {
		if got := rp.Severity().Rank(rec(rp, lv)); got != want {
			t.Errorf("risk point of level %v (field %d) ranks %d, want %d", lv, level, got, want)
		}
	}
	if got := cam.Severity().Rank(rec(cam, nil)); got != 0 {
		t.Errorf("camera ranks %d, want 0", got)
	}
}
