package onemap

import (
	"testing"

	"github.com/paulmach/orb"
)

// TestRecordBuilder_asNewRecord: a RecordBuilder's records hold what
// NewRecord's hold for the same values, byte for byte, trailing nulls,
// lists and wide values included, across slabs and arenas.
func TestRecordBuilder_asNewRecord(t *testing.T) {
	long := make([]byte, 70000)
	for i := range long {
		long[i] = 'a' + byte(i%26)
	}
	cases := [][]any{
		nil,
		{nil, nil},
		{"摄像头", int64(-7), 3.5, true, []string{"门诊", ""}, nil},
		{nil, "x", nil},
		{string(long), int64(1)},
		{false, []string{}},
	}
	var b RecordBuilder
	for round := range 3000 { // past a slab and an arena
		vals := cases[round%len(cases)]
		for _, v := range vals {
			switch v := v.(type) {
			case nil:
				b.Null()
			case string:
				b.String([]byte(v))
			case int64:
				b.Int(v)
			case float64:
				b.Float(v)
			case bool:
				b.Bool(v)
			case []string:
				items := [][]byte{}
				for _, s := range v {
					items = append(items, []byte(s))
				}
				b.Strings(items)
			}
		}
		g := orb.Point{102, 25}
		got, err := b.Record(int64(round), 3, g)
		if err != nil {
			t.Fatal(err)
		}
		want, err := NewRecord(int64(round), 3, g, vals)
		if err != nil {
			t.Fatal(err)
		}
		if got.values != want.values || got.ID != want.ID || got.Version != want.Version || got.Bound != want.Bound || got.Geometry != want.Geometry {
			t.Fatalf("round %d: builder %+v, NewRecord %+v", round, got, want)
		}
	}
	if a := testing.AllocsPerRun(1000, func() {
		b.String([]byte("摄像头12号"))
		b.Float(90)
		b.Null()
		b.Record(1, 1, nil)
	}); a > 0.1 {
		t.Errorf("%.2f allocations a record, want next to none", a)
	}
}
