package api

import (
	"bytes"
	"math"
	"sync"
	"sync/atomic"

	"github.com/onemapgis/onemap"
)

// preparedFeature is a feature of an around answer as its encoder writes
// it, less its distance: b with the distance's digits cut out at at. The
// rest of a feature (its id, point or outline, and the properties the role
// sees, masked as it sees them) does not change while its record lives:
// records are immutable, a change brings a new one.
type preparedFeature struct {
	rec *onemap.Record // whose bytes these are
	b   []byte
	at  int // where the distance goes; -1: the feature is encoded afresh each time
}

// preparedKey names the features of one form: how they are shown (a role's
// projection of a layer, which the server keeps for its life); zone is set
// for hazard zones' GeoJSON Features (recordJSON's), unset for point
// features (projection.append's).
type preparedKey struct {
	plan *projection
	zone bool
}

// preparedFeatures keeps the bytes of the features around answers have
// written, so that the next answer that lists one copies its bytes and
// writes only its distance, instead of encoding its properties (timestamps,
// names, masks, coordinates) again. A point near the county's features is
// asked about again and again; its features are the same records.
//
// The features of a form are kept in slots by record id (ids below
// preparedIDs; others are encoded each time): found without hashing, and
// a record replaced by a change takes its old version's slot. It holds at
// most about preparedLimit features: past it, it starts again empty. Safe
// for concurrent use.
type preparedFeatures struct {
	forms sync.Map // preparedKey → *preparedSlots
	n     atomic.Int64
}

// preparedSlots are the slots of one form's features, in chunks made when
// first used.
type preparedSlots struct {
	chunks [preparedIDs / preparedChunk]atomic.Pointer[[preparedChunk]atomic.Pointer[preparedFeature]]
}

const (
	preparedChunk = 1 << 10
	preparedIDs   = 1 << 20
	// preparedLimit bounds the features kept: the demo county's zones and
	// grids a few times over, some tens of megabytes at most.
	preparedLimit = 1 << 16
)

// slots returns the slots of the form k.
func (c *preparedFeatures) slots(k preparedKey) *preparedSlots {
	if v, ok := c.forms.Load(k); ok {
		return v.(*preparedSlots)
	}
	v, _ := c.forms.LoadOrStore(k, new(preparedSlots))
	return v.(*preparedSlots)
}

// slot returns the slot of the record id, nil for an id past the slots.
func (c *preparedFeatures) slot(fs *preparedSlots, id int64) *atomic.Pointer[preparedFeature] {
	if id < 0 || id >= preparedIDs {
		return nil
	}
	ch := &fs.chunks[id/preparedChunk]
	chunk := ch.Load()
	if chunk == nil {
		ch.CompareAndSwap(nil, new([preparedChunk]atomic.Pointer[preparedFeature]))
		chunk = ch.Load()
	}
	return &chunk[id%preparedChunk]
}

// distanceSentinel is the distance a feature is encoded with to find where
// its distance goes: written "1" both by appendCentimetres and by
// appendJSONFloat.
const distanceSentinel = 1

// sentinelAt returns where in b, a feature encoded with distanceSentinel,
// its distance is: the "1" after its one `"distance_m":`. (No string value
// can hold that text: a quote inside one is escaped.) -1 when it is not
// there once.
func sentinelAt(b []byte) int {
	const key = `"distance_m":1`
	i := bytes.Index(b, []byte(key))
	if i < 0 || bytes.Contains(b[i+len(key):], []byte(`"distance_m":`)) {
		return -1
	}
	at := i + len(key) - 1
	if at+1 >= len(b) || b[at+1] != ',' && b[at+1] != '}' {
		return -1
	}
	return at
}

// appendPrepared writes the record's feature in the form fs at distance
// (metres) as encode writes it (appending the feature, with the distance
// given, to b): from its kept bytes, written with writeDistance; when they
// are not kept yet, encoded into b and kept.
func (c *preparedFeatures) appendPrepared(b []byte, fs *preparedSlots, r *onemap.Record, distance float64,
	encode func(b []byte, distance float64) ([]byte, error), writeDistance func([]byte, float64) []byte) ([]byte, error) {
	slot := c.slot(fs, r.ID)
	if slot == nil {
		return encode(b, distance)
	}
	if f := slot.Load(); f != nil && f.rec == r {
		if f.at < 0 {
			return encode(b, distance)
		}
		b = append(b, f.b[:f.at]...)
		b = writeDistance(b, distance)
		return append(b, f.b[f.at:]...), nil
	}
	start := len(b)
	b, err := encode(b, distanceSentinel)
	if err != nil {
		return b, err
	}
	enc := b[start:]
	f := &preparedFeature{rec: r, at: sentinelAt(enc)}
	if f.at >= 0 {
		f.b = make([]byte, 0, len(enc)-1)
		f.b = append(append(f.b, enc[:f.at]...), enc[f.at+1:]...)
		b = writeDistance(b[:start+f.at], distance)
		b = append(b, f.b[f.at:]...)
	} else if b, err = encode(b[:start], distance); err != nil {
		return b, err
	}
	if c.n.Add(1) > preparedLimit {
		c.forms.Clear() // the answers under way keep the slots they hold
		c.n.Store(1)
	}
	slot.Store(f)
	return b, nil
}

// appendZoneDistance writes a hazard zone's distance as recordJSON gives
// it (rounded to centimetres, a float64 property) and appendAnswer writes
// it.
func appendZoneDistance(b []byte, d float64) []byte {
	return appendJSONFloat(b, math.Round(d*100)/100)
}
