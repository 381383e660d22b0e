package onemap

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/project"
)

// Record is a feature as the in-memory replica holds it and the tile encoder
// and spatial queries read it: compact, and never changed once published (a
// change replaces the record). It holds one value per field of its layer, in
// the order of Layer.Fields, encoded one after another in a single string
// (see RawValue) behind a small index of where each ends, so that reading
// any field costs the same: whatever its fields, a record is three
// allocations (itself, its geometry and its values) with few pointers for
// the garbage collector to follow, where a slice of boxed values would be
// one per value. Build one with NewRecord; a Record literal holds no values.
type Record struct {
	ID      int64
	Version int32
	// tally is where a reader that counts records by some of their values
	// keeps its numbers for them (see SetTally): 0 until it sets them.
	// Inline (in what would be the padding after Version, so a record is
	// no larger) so that reading them follows no pointer: counting a
	// thousand records by three values then reads each record's first
	// bytes, not its values. Changed only atomically.
	tally    uint32
	Geometry orb.Geometry // WGS-84 lon/lat
	Bound    orb.Bound
	// values is empty if the record has none; else a byte n, the number of
	// fields it holds (up to the last that has a value), a byte w, the
	// width of an offset (2 bytes, or 4 when the values pass 64 KiB), n
	// offsets (little-endian) where each field's value ends in the data,
	// and the data: each value's RawValue in turn, a null as nothing.
	values string
	// codes is where the tile encoder keeps its numbers for the values
	// (see SetCodes): nil until it sets them. It is the one part of a
	// published record that changes, and only atomically.
	codes unsafe.Pointer
	// runs is where the spatial index keeps the boxes of runs of a
	// polygon's edges (see SetRuns): nil until it sets them. Like codes, it
	// changes only atomically, and only from nil to what the geometry gives.
	runs unsafe.Pointer
}

// maxRecordFields is the most fields a record holds.
const maxRecordFields = 255

// NewRecord returns a record whose Bound is g's and whose values are the
// given ones, one per field of its layer in the order of Layer.Fields: each
// nil (no value), a string (dates as YYYY-MM-DD, times as RFC 3339), an int64
// (an int or int32 is held as an int64), a float64, a bool or a []string (a
// nil one is no value). It fails on a value of any other type, and on more
// than 255 values.
func NewRecord(id int64, version int32, g orb.Geometry, values []any) (*Record, error) {
	var (
		buf  [256]byte // most records fit
		data = buf[:0]
		ends [32]int
		end  = ends[:0] // where each value ends in data
		n    int        // fields up to the last that has a value
		err  error
	)
	if len(values) > maxRecordFields {
		return nil, fmt.Errorf("onemap: record %d has %d values, more than %d", id, len(values), maxRecordFields)
	}
	for i, v := range values {
		start := len(data)
		if data, err = AppendValue(data, v); err != nil {
			return nil, fmt.Errorf("onemap: record %d value %d: %w", id, i, err)
		}
		if ValueKind(data[start]) == KindNull {
			data = data[:start]
		} else {
			n = i + 1
		}
		end = append(end, len(data))
	}
	r := &Record{ID: id, Version: version, Geometry: g}
	if g != nil {
		r.Bound = g.Bound()
	}
	if n == 0 {
		return r, nil
	}
	w := 2
	if len(data) > math.MaxUint16 {
		w = 4
	}
	var sb strings.Builder // one allocation: the string
	sb.Grow(2 + n*w + len(data))
	sb.WriteByte(byte(n))
	sb.WriteByte(byte(w))
	for _, e := range end[:n] {
		sb.WriteByte(byte(e))
		sb.WriteByte(byte(e >> 8))
		if w == 4 {
			sb.WriteByte(byte(e >> 16))
			sb.WriteByte(byte(e >> 24))
		}
	}
	sb.Write(data)
	r.values = sb.String()
	return r, nil
}

// Value returns the value of the field at index i of the record's layer, or
// nil: a string, an int64, a float64, a bool or a []string, as NewRecord
// took it. It boxes the value (Raw does not).
func (r *Record) Value(i int) any { return r.Raw(i).Any() }

// Fields returns how many fields the record holds: those past it have no
// value.
func (r *Record) Fields() int {
	if r.values == "" {
		return 0
	}
	return int(r.values[0])
}

// Raw returns the value of the field at index i of the record's layer,
// encoded; the zero RawValue if there is none.
func (r *Record) Raw(i int) RawValue {
	s := r.values
	if i < 0 || s == "" || i >= int(s[0]) {
		return ""
	}
	n, w := int(s[0]), int(s[1])
	start := 0
	if i > 0 {
		start = offsetAt(s, w, i-1)
	}
	return RawValue(s[2+n*w+start : 2+n*w+offsetAt(s, w, i)])
}

// offsetAt reads the offset at index i of a record's values s, offsets being
// w bytes wide.
func offsetAt(s string, w, i int) int {
	p := 2 + i*w
	if w == 2 {
		return int(s[p]) | int(s[p+1])<<8
	}
	return int(s[p]) | int(s[p+1])<<8 | int(s[p+2])<<16 | int(s[p+3])<<24
}

// Codes returns the numbers last stored with SetCodes, or nil. They are
// not the record's values, but what a reader (the tile encoder) made of
// them and keeps with the record so as not to make it again.
func (r *Record) Codes() []uint32 {
	p := atomic.LoadPointer(&r.codes)
	if p == nil {
		return nil
	}
	return unsafe.Slice((*uint32)(p), *(*uint32)(p))
}

// SetCodes keeps c with the record, for Codes to return; c[0] must be
// len(c), and c is never changed afterwards. It is safe to call on a
// published record, concurrently with Codes: the last one stored wins. A
// record's Encoded form does not hold them.
func (r *Record) SetCodes(c []uint32) {
	if len(c) == 0 || int(c[0]) != len(c) {
		panic("onemap: SetCodes: c[0] is not len(c)")
	}
	atomic.StorePointer(&r.codes, unsafe.Pointer(&c[0]))
}

// Tally returns the number last stored with SetTally, or 0.
func (r *Record) Tally() uint32 { return atomic.LoadUint32(&r.tally) }

// SetTally keeps n with the record, for Tally to return: a reader's
// numbers for some of the record's values (the around answer's counting
// keeps a tag of its numbering and a small number per counted value), made
// from the values and kept so as not to read them again. It is safe to
// call on a published record, concurrently with Tally: the last one stored
// wins. A record's Encoded form does not hold it.
func (r *Record) SetTally(n uint32) { atomic.StoreUint32(&r.tally, n) }

// Runs returns the boxes last stored with SetRuns, or nil.
func (r *Record) Runs() *[][]orb.Bound {
	return (*[][]orb.Bound)(atomic.LoadPointer(&r.runs))
}

// SetRuns keeps boxes with the record, for Runs to return: what a reader
// (the spatial index) made of the record's geometry, kept so as not to make
// it again; boxes is never changed afterwards. It is safe to call on a
// published record, concurrently with Runs. A record's Encoded form does
// not hold them.
func (r *Record) SetRuns(boxes *[][]orb.Bound) { atomic.StorePointer(&r.runs, unsafe.Pointer(boxes)) }

// RawValues appends the record's values to dst, one per field up to the
// last that has a value, and returns the extended slice; the fields past its
// end have none.
func (r *Record) RawValues(dst []RawValue) []RawValue {
	for i := range r.Fields() {
		dst = append(dst, r.Raw(i))
	}
	return dst
}

// ValueKind is the type of a value.
type ValueKind uint8

// Value kinds; they are also the tags of RawValue's encoding.
const (
	KindNull    ValueKind = iota // no value
	KindString                   // a string
	KindInt                      // an int64
	KindFloat                    // a float64
	KindBool                     // a bool
	KindStrings                  // a []string
)

// RawValue is a value as a Record holds it, encoded: a tag (its ValueKind)
// and then, for a string, its length (uvarint) and bytes; for an int64, its
// zigzag varint; for a float64, its IEEE 754 bits (8 bytes, little-endian);
// for a bool, a byte 0 or 1; for a []string, its length and each string as
// above. No value is the tag alone, or the empty RawValue. Equal values have
// equal encodings and unequal values unequal ones, so a RawValue can key a
// map; and reading one boxes nothing.
type RawValue string

// AppendValue appends the encoding of v, of one of the types NewRecord
// takes, to b.
func AppendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, byte(KindNull)), nil
	case string:
		return appendString(append(b, byte(KindString)), v), nil
	case int64:
		return binary.AppendVarint(append(b, byte(KindInt)), v), nil
	case int:
		return binary.AppendVarint(append(b, byte(KindInt)), int64(v)), nil
	case int32:
		return binary.AppendVarint(append(b, byte(KindInt)), int64(v)), nil
	case float64:
		return binary.LittleEndian.AppendUint64(append(b, byte(KindFloat)), math.Float64bits(v)), nil
	case bool:
		if v {
			return append(b, byte(KindBool), 1), nil
		}
		return append(b, byte(KindBool), 0), nil
	case []string:
		if v == nil {
			return append(b, byte(KindNull)), nil
		}
		b = binary.AppendUvarint(append(b, byte(KindStrings)), uint64(len(v)))
		for _, s := range v {
			b = appendString(b, s)
		}
		return b, nil
	}
	return b, fmt.Errorf("value of type %T", v)
}

// RawString returns the encoding of the string s.
func RawString(s string) RawValue {
	return RawValue(appendString([]byte{byte(KindString)}, s))
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// Kind returns the type of the value.
func (v RawValue) Kind() ValueKind {
	if v == "" {
		return KindNull
	}
	return ValueKind(v[0])
}

// Text returns a KindString value's string.
func (v RawValue) Text() string {
	if v.Kind() != KindString {
		return ""
	}
	s, _ := cutString(string(v[1:]))
	return s
}

// Int returns a KindInt value's integer.
func (v RawValue) Int() int64 {
	if v.Kind() != KindInt {
		return 0
	}
	n, _ := uvarint(string(v[1:]))
	return int64(n>>1) ^ -int64(n&1)
}

// Float returns a KindFloat value's number.
func (v RawValue) Float() float64 {
	if v.Kind() != KindFloat || len(v) < 9 {
		return 0
	}
	var bits uint64
	for i := 8; i >= 1; i-- {
		bits = bits<<8 | uint64(v[i])
	}
	return math.Float64frombits(bits)
}

// Bool returns a KindBool value's truth.
func (v RawValue) Bool() bool { return v.Kind() == KindBool && len(v) > 1 && v[1] == 1 }

// Strings returns a KindStrings value's strings, in a new slice.
func (v RawValue) Strings() []string {
	if v.Kind() != KindStrings {
		return nil
	}
	n, s := uvarint(string(v[1:]))
	out := make([]string, n)
	for i := range out {
		out[i], s = cutString(s)
	}
	return out
}

// Any returns the value boxed: nil, a string, an int64, a float64, a bool or
// a []string.
func (v RawValue) Any() any {
	switch v.Kind() {
	case KindString:
		return v.Text()
	case KindInt:
		return v.Int()
	case KindFloat:
		return v.Float()
	case KindBool:
		return v.Bool()
	case KindStrings:
		return v.Strings()
	}
	return nil
}

// uvarint decodes the uvarint that s starts with and returns it and the rest
// of s.
func uvarint(s string) (uint64, string) {
	var n uint64
	for i := 0; i < len(s); i++ {
		n |= uint64(s[i]&0x7f) << (7 * i)
		if s[i] < 0x80 {
			return n, s[i+1:]
		}
	}
	return n, ""
}

// cutString decodes the length-prefixed string that s starts with and
// returns it and the rest of s.
func cutString(s string) (string, string) {
	n, rest := uvarint(s)
	return rest[:n], rest[n:]
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

// mercatorWidth is the width of the Web Mercator world, in meters.
const mercatorWidth = 2 * math.Pi * orb.EarthRadius

// WorldXY returns where p (WGS-84) lies on the Web Mercator world scaled to a
// square of side 1: x east from the antimeridian, y south from the top, as
// map tiles are numbered (tile x of zoom z spans x/2^z to (x+1)/2^z). Vector
// tiles place features with it, and the replica counts points per tile with
// it, so both put a point in the same tile.
func WorldXY(p orb.Point) (x, y float64) {
	m := project.WGS84.ToMercator(p)
	return 0.5 + m[0]/mercatorWidth, 0.5 - m[1]/mercatorWidth
}

// Severity ranks the records of a layer by their level, for clustered
// points: the most severe stands for the others (see tiles.Encode).
type Severity struct {
	index int      // of the level field in Layer.Fields; -1 if none
	enum  []string // the level field's Enum, most severe first
}

// Severity returns the ranking of the layer's records.
func (l *Layer) Severity() Severity {
	s := Severity{index: l.FieldIndex("level")}
	if s.index >= 0 {
		s.enum = l.Fields[s.index].Enum
	}
	return s
}

// Equal reports whether s and t rank every record alike.
func (s Severity) Equal(t Severity) bool {
	return s.index == t.index && slices.Equal(s.enum, t.enum)
}

// Rank returns the position of the record's level in the level field's
// Enum, most severe first; a record without a listed level ranks last,
// len(Enum). On a layer without a level field every record ranks 0.
func (s Severity) Rank(r *Record) int {
	if s.index < 0 {
		return 0
	}
	lv := r.Raw(s.index).Text()
	if i := slices.Index(s.enum, lv); i >= 0 {
		return i
	}
	return len(s.enum)
}
