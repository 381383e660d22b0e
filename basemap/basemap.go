// Package basemap serves an offline base map: the tiles of an MBTiles
// (SQLite) or PMTiles (version 3) archive the county already has, raster
// (png, jpg, webp) or vector (Mapbox Vector Tiles), or a vector base drawn
// from features held in memory (the demo county's synthetic settlements,
// roads and rivers). It reads tiles; it does not render raster images,
// restyle vector tiles or fetch anything from the network (api's
// BasemapConfig proxies an online basemap).
//
// Tiles are addressed as XYZ (y down from the north, as Web Mercator tiles
// are), whatever the archive's own scheme (MBTiles rows count from the
// south). A tile is returned as stored: a gzipped vector tile stays gzipped,
// and the Info's Encoding says so.
package basemap

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb/maptile"
)

// Tiles is a base map's tiles.
type Tiles interface {
	// Info describes the base.
	Info() onemap.BasemapInfo
	// Tile returns tile t as stored, or nil when the base has none there.
	Tile(ctx context.Context, t maptile.Tile) ([]byte, error)
	// Close releases the archive.
	Close() error
}

// Open opens the archive at path, an MBTiles or a PMTiles file (told apart
// by their first bytes, not by the name). The errors are EINVALID errors
// naming the file and what is wrong with it.
func Open(path string) (Tiles, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, onemap.Errorf(onemap.EINVALID, "base map %s: %v", path, err)
	}
	head := make([]byte, 16)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("PMTiles")):
		return openPMTiles(path, f)
	case bytes.HasPrefix(head, []byte("SQLite format 3\x00")):
		f.Close()
		return openMBTiles(path)
	}
	f.Close()
	return nil, onemap.Errorf(onemap.EINVALID, "base map %s: neither an MBTiles (SQLite) nor a PMTiles archive", path)
}

// formats are the tile formats served, as MBTiles' metadata names them.
var formats = map[string]bool{"png": true, "jpg": true, "webp": true, "pbf": true}

// sniff returns the format of a tile from its first bytes ("" if unknown)
// and whether it is gzipped.
func sniff(b []byte) (format string, gzipped bool) {
	switch {
	case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
		return "pbf", true
	case bytes.HasPrefix(b, []byte("\x89PNG")):
		return "png", false
	case bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}):
		return "jpg", false
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "webp", false
	}
	return "", false
}

func errorf(path, format string, args ...any) error {
	return onemap.Errorf(onemap.EINVALID, "base map %s: %s", path, fmt.Sprintf(format, args...))
}
