package onemap

import (
	"fmt"

	"github.com/paulmach/orb"
)

// Encoded returns the record's values in the form it holds them (a header
// of offsets, then each value's RawValue; "" if it has none): with its id,
// version and geometry, everything a record holds. SetEncoded takes it
// back; a replica's snapshot stores records so (package replicasnap).
func (r *Record) Encoded() string { return r.values }

// SetEncoded sets r to the record of the id, version and geometry (its
// Bound g's) whose values are enc, in the form Encoded returns. It checks
// the form's header and offsets, not each value's encoding, and fails on a
// malformed one, leaving r as it was. enc is kept, not copied.
func (r *Record) SetEncoded(id int64, version int32, g orb.Geometry, enc string) error {
	if enc != "" {
		n, w := int(enc[0]), 0
		if len(enc) > 1 {
			w = int(enc[1])
		}
		if n == 0 || (w != 2 && w != 4) || len(enc) < 2+n*w {
			return fmt.Errorf("onemap: record %d: a malformed header of values", id)
		}
		prev := 0
		for i := range n {
			e := offsetAt(enc, w, i)
			if e < prev {
				return fmt.Errorf("onemap: record %d: value %d ends before the one before it", id, i)
			}
			prev = e
		}
		if 2+n*w+prev != len(enc) {
			return fmt.Errorf("onemap: record %d: values of %d bytes in %d", id, prev, len(enc)-2-n*w)
		}
	}
	*r = Record{ID: id, Version: version, Geometry: g, values: enc}
	if g != nil {
		r.Bound = g.Bound()
	}
	return nil
}
