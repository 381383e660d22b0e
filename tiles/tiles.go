// Package tiles is the tile path: it parses z/x/y paths, names the
// tilesets, encodes Mapbox Vector Tiles in Go from a Source of records (the
// in-memory replica; see Encode), and, in a Service, resolves a caller's
// tileset against the access policy, renders its tiles with the Go encoder
// or a Renderer, gzips, tags and caches them, and evicts those a change
// touches. PostGIS's ST_AsMVT (package postgis, as a Renderer) renders the
// same tiles and is the reference the Go encoder is held to. It reads and
// writes no files, sockets or databases of its own (the renderer and the
// source are given to it) and knows nothing of HTTP.
package tiles

import (
	"strconv"
	"strings"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb/maptile"
)

// MaxZoom is the deepest zoom served.
const MaxZoom = onemap.TileMaxZoom

// Tilesets that are not a single layer.
const (
	SetAll    = "all"    // every layer the caller may read
	SetPublic = "public" // the layers and fields the public may see, whoever asks
)

// ParseZXY parses a tile address whose y may end in ".mvt" or ".pbf". Each
// part must be a decimal integer in range for its zoom.
func ParseZXY(z, x, y string) (maptile.Tile, error) {
	y, ok := strings.CutSuffix(y, ".mvt")
	if !ok {
		y, ok = strings.CutSuffix(y, ".pbf")
	}
	if !ok {
		return maptile.Tile{}, onemap.Errorf(onemap.EINVALID, "tile %s/%s/%s: want {z}/{x}/{y}.mvt", z, x, y)
	}
	zoom, err := parseUint(z, MaxZoom)
	if err != nil {
		return maptile.Tile{}, onemap.Errorf(onemap.EINVALID, "tile zoom %q: %v (0 to %d)", z, err, MaxZoom)
	}
	limit := uint64(1)<<zoom - 1
	tx, err := parseUint(x, limit)
	if err != nil {
		return maptile.Tile{}, onemap.Errorf(onemap.EINVALID, "tile x %q at zoom %d: %v (0 to %d)", x, zoom, err, limit)
	}
	ty, err := parseUint(y, limit)
	if err != nil {
		return maptile.Tile{}, onemap.Errorf(onemap.EINVALID, "tile y %q at zoom %d: %v (0 to %d)", y, zoom, err, limit)
	}
	return maptile.New(uint32(tx), uint32(ty), maptile.Zoom(zoom)), nil
}

type rangeError string

func (e rangeError) Error() string { return string(e) }

func parseUint(s string, max uint64) (uint64, error) {
	if s == "" || len(s) > 8 {
		return 0, rangeError("not a tile coordinate")
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, rangeError("not a decimal integer")
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, rangeError("not a tile coordinate")
	}
	if n > max {
		return 0, rangeError("out of range")
	}
	return n, nil
}
