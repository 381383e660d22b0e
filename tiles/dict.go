package tiles

import (
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/onemapgis/onemap"
)

// valueDict numbers the distinct values of one layer's records, across its
// fields, once for all tiles: each record met in a tile keeps the numbers
// of its values (Record.SetCodes), and each number's MVT value message is
// written once, here. A tile's layer then numbers its values through a
// slice indexed by these numbers (see writer.codeIndex) instead of reading
// and hashing every value of every record again.
//
// Numbers are only ever added (a value never loses its number, so records
// keep theirs); a dictionary that has grown past maxDictValues is replaced
// by an empty one with another id (see Encoder.dict), and records numbered
// by the old one are numbered again when met.
type valueDict struct {
	// id tells this dictionary's numbers from another's (another
	// Encoder's, or one this replaced): records keep it beside their
	// numbers. Drawn at random, 64 bits.
	id [2]uint32

	mu    sync.RWMutex
	index map[string]uint32 // the value (normalised, see valueKey) → its number
	// msgs holds each number's MVT value message (the layer's value field,
	// key included) one after another, ends where each ends. Both are only
	// appended to: a copy of their headers taken under mu stays right for
	// the numbers it covers.
	msgs []byte
	ends []uint32
	max  int  // the most values it numbers before it is full
	full bool // past max: replace it
}

// maxDictValues is the most values a dictionary numbers before it is
// replaced: it bounds its memory, and that of each writer's slice by number
// (8 bytes a value).
const maxDictValues = 1 << 18

// noValue is the number of a field without a value.
const noValue = ^uint32(0)

// codesHeader is how many numbers a record's codes start with: their
// count and the dictionary's id.
const codesHeader = 3

func newValueDict(max int) *valueDict {
	return &valueDict{id: [2]uint32{rand.Uint32(), rand.Uint32()}, index: map[string]uint32{}, max: max}
}

// valueKey returns the form of v that tells values apart in a tile: a
// []string as the string of its elements joined with ";".
func valueKey(v onemap.RawValue) onemap.RawValue {
	if v.Kind() == onemap.KindStrings {
		return onemap.RawString(strings.Join(v.Strings(), ";"))
	}
	return v
}

// codes returns the numbers of r's values, one per field it holds (noValue
// for none), numbering them if r holds none of d's.
func (d *valueDict) codes(r *onemap.Record) []uint32 {
	if c := r.Codes(); len(c) >= codesHeader && c[1] == d.id[0] && c[2] == d.id[1] {
		return c[codesHeader:]
	}
	n := r.Fields()
	c := make([]uint32, codesHeader+n)
	c[0], c[1], c[2] = uint32(len(c)), d.id[0], d.id[1]
	d.mu.Lock()
	for i := range n {
		v := r.Raw(i)
		if v.Kind() == onemap.KindNull {
			c[codesHeader+i] = noValue
			continue
		}
		c[codesHeader+i] = d.numberLocked(v)
	}
	d.mu.Unlock()
	r.SetCodes(c)
	return c[codesHeader:]
}

// number returns the number of v.
func (d *valueDict) number(v onemap.RawValue) uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.numberLocked(v)
}

func (d *valueDict) numberLocked(v onemap.RawValue) uint32 {
	v = valueKey(v)
	if n, ok := d.index[string(v)]; ok {
		return n
	}
	n := uint32(len(d.ends))
	d.index[strings.Clone(string(v))] = n
	d.msgs = appendValueMessage(d.msgs, v)
	d.ends = append(d.ends, uint32(len(d.msgs)))
	if len(d.ends) >= d.max {
		d.full = true
	}
	return n
}

// messages returns the value messages numbered so far, and where each
// ends.
func (d *valueDict) messages() ([]byte, []uint32) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.msgs, d.ends
}

// isFull says whether d should be replaced.
func (d *valueDict) isFull() bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.full
}

// dicts keeps an Encoder's dictionaries, by layer.
type dicts struct {
	mu      sync.Mutex
	byLayer map[string]*valueDict
	max     int // values a dictionary numbers before it is replaced; 0: maxDictValues
}

// get returns the dictionary of the layer, replacing a full one.
func (ds *dicts) get(layer string) *valueDict {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	d := ds.byLayer[layer]
	if d == nil || d.isFull() {
		if ds.byLayer == nil {
			ds.byLayer = map[string]*valueDict{}
		}
		max := ds.max
		if max <= 0 {
			max = maxDictValues
		}
		d = newValueDict(max)
		ds.byLayer[layer] = d
	}
	return d
}
