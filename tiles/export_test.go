package tiles

import (
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb/maptile"
)

// EncodeHashingValues encodes as e.Encode does, with e's shapes but no
// dictionary of values: each tile reads and hashes its records' values, as
// the package's Encode does. Benchmarks compare the two.
func EncodeHashingValues(e *Encoder, src Source, t maptile.Tile, specs []onemap.TileLayer) ([]byte, error) {
	return encode(nil, src, t, specs, e.shapes, nil)
}
