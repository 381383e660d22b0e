package onemap

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/paulmach/orb"
)

// RecordBuilder builds Records from values handed to it one at a time, as
// a loader reads them off the wire, without boxing any: the same records
// NewRecord builds from the same values (equal Raw values, Fields and
// Bound), at a fraction of the allocations. The records come from slabs of
// recordSlab and their values from shared arenas of arenaSize bytes, so a
// record costs no allocation of its own (its geometry still is one); a
// slab or arena lives while any record cut from it does, which suits a
// replica's load, whose records mostly live as long as each other.
//
// Per record: the values in field order (Null, String, Int, Float, Bool or
// Strings, one call each), then Record. A RecordBuilder is not safe for
// concurrent use; one per loading goroutine.
type RecordBuilder struct {
	data  []byte // the current record's values, encoded
	ends  []int  // where each value ends in data
	n     int    // fields up to the last with a value
	arena []byte // values are cut from here (never written again once cut)
	slab  []Record
}

const (
	recordSlab = 1024
	arenaSize  = 64 << 10
)

// Null adds a field without a value.
func (b *RecordBuilder) Null() { b.ends = append(b.ends, len(b.data)) }

// String adds a string value, given as its UTF-8 bytes.
func (b *RecordBuilder) String(s []byte) {
	b.data = append(binary.AppendUvarint(append(b.data, byte(KindString)), uint64(len(s))), s...)
	b.value()
}

// Int adds an integer value.
func (b *RecordBuilder) Int(v int64) {
	b.data = binary.AppendVarint(append(b.data, byte(KindInt)), v)
	b.value()
}

// Float adds a number value.
func (b *RecordBuilder) Float(v float64) {
	b.data = binary.LittleEndian.AppendUint64(append(b.data, byte(KindFloat)), math.Float64bits(v))
	b.value()
}

// Bool adds a boolean value.
func (b *RecordBuilder) Bool(v bool) {
	x := byte(0)
	if v {
		x = 1
	}
	b.data = append(b.data, byte(KindBool), x)
	b.value()
}

// Strings adds a list of strings, given as their UTF-8 bytes; a nil list is
// no value (as NewRecord takes a nil []string).
func (b *RecordBuilder) Strings(items [][]byte) {
	if items == nil {
		b.Null()
		return
	}
	b.data = binary.AppendUvarint(append(b.data, byte(KindStrings)), uint64(len(items)))
	for _, s := range items {
		b.data = append(binary.AppendUvarint(b.data, uint64(len(s))), s...)
	}
	b.value()
}

func (b *RecordBuilder) value() {
	b.ends = append(b.ends, len(b.data))
	b.n = len(b.ends)
}

// Record returns the record of the values added since the last Record,
// with the id, version and geometry (its Bound g's), and starts the next.
func (b *RecordBuilder) Record(id int64, version int32, g orb.Geometry) (*Record, error) {
	defer b.reset()
	if len(b.ends) > maxRecordFields {
		return nil, fmt.Errorf("onemap: record %d has %d values, more than %d", id, len(b.ends), maxRecordFields)
	}
	if len(b.slab) == cap(b.slab) {
		b.slab = make([]Record, 0, recordSlab)
	}
	b.slab = b.slab[:len(b.slab)+1]
	r := &b.slab[len(b.slab)-1]
	r.ID, r.Version, r.Geometry = id, version, g
	if g != nil {
		r.Bound = g.Bound()
	}
	if b.n == 0 {
		return r, nil
	}
	w := 2
	if len(b.data) > math.MaxUint16 {
		w = 4
	}
	size := 2 + b.n*w + len(b.data)
	if cap(b.arena)-len(b.arena) < size {
		b.arena = make([]byte, 0, max(arenaSize, size))
	}
	start := len(b.arena)
	a := append(b.arena, byte(b.n), byte(w))
	for _, e := range b.ends[:b.n] {
		a = append(a, byte(e), byte(e>>8))
		if w == 4 {
			a = append(a, byte(e>>16), byte(e>>24))
		}
	}
	a = append(a, b.data[:b.ends[b.n-1]]...)
	b.arena = a
	// The bytes from start on are never written again: later values go
	// after them, or to a new arena.
	r.values = unsafe.String(&a[start], len(a)-start)
	return r, nil
}

func (b *RecordBuilder) reset() {
	b.data, b.ends, b.n = b.data[:0], b.ends[:0], 0
}
