package api

import (
	"bytes"
	"math"
	"sync"

	"github.com/onemapgis/onemap"
)

// A feature of an around answer is kept as its encoder writes it, less
// its distance: the bytes with the distance's digits cut out at cut (a
// featureBytes). The rest of a feature (its id, point or outline, and the
// properties the role sees, masked as it sees them) does not change while
// its record lives: records are immutable, a change brings a new one.

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
// Each form's features are kept in a featureCache of its own (slots by
// record id, a record replaced by a change taking its old version's slot),
// on the server's one budget of kept feature bytes (keptFeatures,
// --feature-cache-mb) with the point layers' projections: past it, every
// cache starts again empty, and a budget of none keeps nothing. Safe for
// concurrent use.
type preparedFeatures struct {
	once  sync.Once
	kept  *keptFeatures // the budget: the server's (useBudget), or one of the default size
	forms sync.Map      // preparedKey → *featureCache
}

// useBudget puts the features kept on the budget k (the server's), if no
// form has been kept yet.
func (c *preparedFeatures) useBudget(k *keptFeatures) {
	c.once.Do(func() { c.kept = k })
}

// slots returns the cache of the form k.
func (c *preparedFeatures) slots(k preparedKey) *featureCache {
	if v, ok := c.forms.Load(k); ok {
		return v.(*featureCache)
	}
	c.once.Do(func() { c.kept = &keptFeatures{limit: DefaultKeptFeatureBytes} })
	v, _ := c.forms.LoadOrStore(k, &featureCache{kept: c.kept})
	return v.(*featureCache)
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
// are not kept yet, encoded into b and kept if the budget has room. A
// feature whose distance is not found in it once (sentinelAt) is kept as
// such (no bytes, cut -1) and encoded afresh each time.
func (c *preparedFeatures) appendPrepared(b []byte, fs *featureCache, r *onemap.Record, distance float64,
	encode func(b []byte, distance float64) ([]byte, error), writeDistance func([]byte, float64) []byte) ([]byte, error) {
	t := fs.table()
	if t == nil {
		return encode(b, distance)
	}
	slot := &t.slots[slotOf(r)]
	cur := slot.Load()
	if f := cur; f != nil && f.rec == r {
		if f.cut < 0 {
			return encode(b, distance)
		}
		b = append(b, f.b[:f.cut]...)
		b = writeDistance(b, distance)
		return append(b, f.b[f.cut:]...), nil
	}
	start := len(b)
	b, err := encode(b, distanceSentinel)
	if err != nil {
		return b, err
	}
	enc := b[start:]
	f := &featureBytes{rec: r, cut: sentinelAt(enc)}
	if f.cut >= 0 {
		f.b = make([]byte, 0, len(enc)-1)
		f.b = append(append(f.b, enc[:f.cut]...), enc[f.cut+1:]...)
		b = writeDistance(b[:start+f.cut], distance)
		b = append(b, f.b[f.cut:]...)
	} else if b, err = encode(b[:start], distance); err != nil {
		return b, err
	}
	fs.kept.keep(t, slot, cur, f)
	return b, nil
}

// appendZoneDistance writes a hazard zone's distance as recordJSON gives
// it (rounded to centimetres, a float64 property) and appendAnswer writes
// it.
func appendZoneDistance(b []byte, d float64) []byte {
	return appendJSONFloat(b, math.Round(d*100)/100)
}
