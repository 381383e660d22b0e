package postgis_test

import (
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// FuzzWKB drives orb's WKB decoder as the store uses it (wkb.Unmarshal of
// ST_AsBinary output, wkb.Marshal of geometries it writes): no input may
// panic it, and what it decodes encodes and decodes to the same geometry.
func FuzzWKB(f *testing.F) {
	for _, g := range []orb.Geometry{
		orb.Point{102.4, 25.5},
		orb.MultiPoint{{1, 2}, {3, 4}},
		orb.LineString{{0, 0}, {1, 1}, {2, 0}},
		orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}},
		orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}, {{{2, 2}, {3, 2}, {3, 3}, {2, 2}}}},
		orb.Collection{orb.Point{1, 2}, orb.LineString{{0, 0}, {1, 1}}},
	} {
		b, err := wkb.Marshal(g)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x01, 0x03, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0x7f}) // a polygon that claims 2^31 rings
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := wkb.Unmarshal(b)
		if err != nil {
			return
		}
		again, err := wkb.Marshal(g)
		if err != nil {
			t.Fatalf("%x decodes to %v, which does not encode: %v", b, g, err)
		}
		g2, err := wkb.Unmarshal(again)
		if err != nil || !equalNaN(g, g2) {
			t.Fatalf("%x decodes to %v; encoded and decoded again: %v, %v", b, g, g2, err)
		}
	})
}

// equalNaN is orb.Equal, except that NaN coordinates (which WKB can carry)
// count as equal to themselves.
func equalNaN(a, b orb.Geometry) bool {
	if orb.Equal(a, b) {
		return true
	}
	ab, err1 := wkb.Marshal(a)
	bb, err2 := wkb.Marshal(b)
	return err1 == nil && err2 == nil && string(ab) == string(bb)
}
