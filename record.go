package onemap

import "github.com/paulmach/orb"

// Record is a feature as the in-memory replica holds it and the tile encoder
// and spatial queries read it: compact, and never changed once published (a
// change replaces the record). Values holds one entry per field of its layer,
// in the order of Layer.Fields; each is nil (no value), a string (dates as
// YYYY-MM-DD, times as RFC 3339), an int64, a float64, a bool or a []string.
type Record struct {
	ID       int64
	Version  int32
	Geometry orb.Geometry // WGS-84 lon/lat
	Bound    orb.Bound
	Values   []any
}

// Value returns the value of the field at index i of the record's layer, or
// nil.
func (r *Record) Value(i int) any {
	if i < 0 || i >= len(r.Values) {
		return nil
	}
	return r.Values[i]
}

// FieldIndex returns the index of the field called name in Layer.Fields, or
// -1.
func (l *Layer) FieldIndex(name string) int {
	for i, f := range l.Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}
