package basemap

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/planar"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// PMTiles version 3 (https://github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md):
// a 127-byte header, a root directory, JSON metadata, leaf directories and
// tile data. A directory is a list of entries (tile id, offset, length, run
// length), varint-encoded column by column and compressed with the
// archive's internal compression; tile ids run along a Hilbert curve, zoom
// by zoom. An entry of run length 0 points at a leaf directory.
const (
	pmHeaderLen = 127
	// Compression and tile type codes of the header.
	pmNone, pmGzip               = 1, 2
	pmMVT, pmPNG, pmJPEG, pmWebP = 1, 2, 3, 4
	pmMaxDepth                   = 4 // root, then at most three levels of leaves
	pmMaxDirBytes                = 16 << 20
	pmLeafCache                  = 64
	pmTileMax                    = 8 << 20
)

type pmHeader struct {
	rootOff, rootLen, metaOff, metaLen, leafOff, leafLen, dataOff, dataLen uint64
	internal, tileComp, tileType                                           byte
	minZoom, maxZoom                                                       byte
	minLon, minLat, maxLon, maxLat                                         int32
	centerZoom                                                             byte
	centerLon, centerLat                                                   int32
}

type pmEntry struct {
	id     uint64
	offset uint64
	length uint32
	run    uint32
}

// pmtiles reads a PMTiles v3 archive from a file.
type pmtiles struct {
	path   string
	f      *os.File
	h      pmHeader
	root   []pmEntry
	leaves *lru.Cache[uint64, []pmEntry] // by offset in the leaf section
	mu     sync.Mutex                    // serialises loading a leaf
	info   onemap.BasemapInfo
}

func openPMTiles(path string, f *os.File) (Tiles, error) {
	p := &pmtiles{path: path, f: f}
	if err := p.load(); err != nil {
		f.Close()
		return nil, err
	}
	return p, nil
}

func (p *pmtiles) load() error {
	b := make([]byte, pmHeaderLen)
	if _, err := p.f.ReadAt(b, 0); err != nil {
		return errorf(p.path, "header: %v", err)
	}
	h, err := parsePMHeader(b)
	if err != nil {
		return errorf(p.path, "%v", err)
	}
	p.h = h
	if h.internal != pmNone && h.internal != pmGzip {
		return errorf(p.path, "directories compressed with code %d: only gzip (2) and none (1) are read", h.internal)
	}
	if h.tileComp != pmNone && h.tileComp != pmGzip {
		return errorf(p.path, "tiles compressed with code %d: only gzip (2) and none (1) are served", h.tileComp)
	}
	in := &p.info
	switch h.tileType {
	case pmMVT:
		in.Format = "pbf"
	case pmPNG:
		in.Format = "png"
	case pmJPEG:
		in.Format = "jpg"
	case pmWebP:
		in.Format = "webp"
	default:
		return errorf(p.path, "tile type %d: want MVT, PNG, JPEG or WebP", h.tileType)
	}
	if h.tileComp == pmGzip {
		in.Encoding = "gzip"
	}
	if in.Format != "pbf" && in.Encoding != "" {
		return errorf(p.path, "raster tiles compressed: want them as they are (tile compression none)")
	}
	if h.maxZoom > onemap.TileMaxZoom || h.minZoom > h.maxZoom {
		return errorf(p.path, "zooms %d to %d: want 0 to %d, the least first", h.minZoom, h.maxZoom, onemap.TileMaxZoom)
	}
	in.MinZoom, in.MaxZoom = int(h.minZoom), int(h.maxZoom)
	in.Bounds = orb.Bound{Min: orb.Point{float64(h.minLon) / 1e7, float64(h.minLat) / 1e7},
		Max: orb.Point{float64(h.maxLon) / 1e7, float64(h.maxLat) / 1e7}}
	in.Center = [3]float64{float64(h.centerLon) / 1e7, float64(h.centerLat) / 1e7, float64(h.centerZoom)}
	if p.root, err = p.directory(h.rootOff, h.rootLen); err != nil {
		return errorf(p.path, "root directory: %v", err)
	}
	if p.leaves, err = lru.New[uint64, []pmEntry](pmLeafCache); err != nil {
		return err
	}
	if h.metaLen > 0 {
		raw, err := p.section(h.metaOff, h.metaLen, h.internal)
		if err != nil {
			return errorf(p.path, "metadata: %v", err)
		}
		var meta struct {
			Name         string `json:"name"`
			Attribution  string `json:"attribution"`
			VectorLayers []struct {
				ID      string            `json:"id"`
				Fields  map[string]string `json:"fields"`
				MinZoom int               `json:"minzoom"`
				MaxZoom int               `json:"maxzoom"`
			} `json:"vector_layers"`
		}
		if err := json.Unmarshal(raw, &meta); err != nil {
			return errorf(p.path, "metadata: %v", err)
		}
		in.Name, in.Attribution = meta.Name, meta.Attribution
		for _, l := range meta.VectorLayers {
			in.VectorLayers = append(in.VectorLayers, onemap.BasemapLayer{ID: l.ID, Fields: l.Fields, MinZoom: l.MinZoom, MaxZoom: l.MaxZoom})
		}
	}
	return nil
}

func parsePMHeader(b []byte) (pmHeader, error) {
	var h pmHeader
	if len(b) < pmHeaderLen || string(b[:7]) != "PMTiles" {
		return h, fmt.Errorf("not a PMTiles archive")
	}
	if b[7] != 3 {
		return h, fmt.Errorf("PMTiles version %d: only version 3 is read", b[7])
	}
	u64 := func(i int) uint64 { return binary.LittleEndian.Uint64(b[i:]) }
	i32 := func(i int) int32 { return int32(binary.LittleEndian.Uint32(b[i:])) }
	h.rootOff, h.rootLen, h.metaOff, h.metaLen = u64(8), u64(16), u64(24), u64(32)
	h.leafOff, h.leafLen, h.dataOff, h.dataLen = u64(40), u64(48), u64(56), u64(64)
	h.internal, h.tileComp, h.tileType = b[97], b[98], b[99]
	h.minZoom, h.maxZoom = b[100], b[101]
	h.minLon, h.minLat, h.maxLon, h.maxLat = i32(102), i32(106), i32(110), i32(114)
	h.centerZoom, h.centerLon, h.centerLat = b[118], i32(119), i32(123)
	return h, nil
}

// section reads length bytes at off and decompresses them.
func (p *pmtiles) section(off, length uint64, comp byte) ([]byte, error) {
	if length > pmMaxDirBytes {
		return nil, fmt.Errorf("%d bytes: more than %d", length, pmMaxDirBytes)
	}
	b := make([]byte, length)
	if _, err := p.f.ReadAt(b, int64(off)); err != nil {
		return nil, err
	}
	if comp == pmNone {
		return b, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(zr, pmMaxDirBytes))
}

// directory reads and decodes a directory.
func (p *pmtiles) directory(off, length uint64) ([]pmEntry, error) {
	raw, err := p.section(off, length, p.h.internal)
	if err != nil {
		return nil, err
	}
	return decodeDirectory(raw)
}

// decodeDirectory decodes a directory's entries: their count, then the
// tile ids (as deltas), run lengths, lengths and offsets (an offset of 0
// after the first entry means right after the previous entry; else it is
// the offset plus one).
func decodeDirectory(raw []byte) ([]pmEntry, error) {
	r := bufio.NewReader(bytes.NewReader(raw))
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	if n > uint64(len(raw)) {
		return nil, fmt.Errorf("directory of %d entries in %d bytes", n, len(raw))
	}
	es := make([]pmEntry, n)
	var id uint64
	for i := range es {
		d, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, fmt.Errorf("directory: %w", err)
		}
		id += d
		es[i].id = id
	}
	for i := range es {
		v, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, fmt.Errorf("directory: %w", err)
		}
		es[i].run = uint32(v)
	}
	for i := range es {
		v, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, fmt.Errorf("directory: %w", err)
		}
		es[i].length = uint32(v)
	}
	for i := range es {
		v, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, fmt.Errorf("directory: %w", err)
		}
		if v == 0 && i > 0 {
			es[i].offset = es[i-1].offset + uint64(es[i-1].length)
		} else {
			es[i].offset = v - 1
		}
	}
	return es, nil
}

// find returns the entry for tile id: the last entry at or before it, if
// it covers it (a leaf's entry, run length 0, covers every id up to the
// next entry).
func find(es []pmEntry, id uint64) (pmEntry, bool) {
	lo, hi := 0, len(es)-1
	for lo <= hi {
		k := (lo + hi) / 2
		switch {
		case es[k].id < id:
			lo = k + 1
		case es[k].id > id:
			hi = k - 1
		default:
			return es[k], true
		}
	}
	if hi >= 0 && (es[hi].run == 0 || id-es[hi].id < uint64(es[hi].run)) {
		return es[hi], true
	}
	return pmEntry{}, false
}

// TileID returns the PMTiles id of tile (z, x, y): the tiles of the zooms
// above, then the tile's place along the zoom's Hilbert curve.
func TileID(z uint8, x, y uint32) uint64 {
	acc := (uint64(1)<<(2*uint(z)) - 1) / 3
	return acc + planar.Hilbert(uint(z), uint64(x), uint64(y))
}

func (p *pmtiles) Info() onemap.BasemapInfo { return p.info }

func (p *pmtiles) Tile(_ context.Context, t maptile.Tile) ([]byte, error) {
	if int(t.Z) < p.info.MinZoom || int(t.Z) > p.info.MaxZoom {
		return nil, nil
	}
	id := TileID(uint8(t.Z), t.X, t.Y)
	dir := p.root
	for range pmMaxDepth {
		e, ok := find(dir, id)
		if !ok {
			return nil, nil
		}
		if e.run > 0 {
			if e.length > pmTileMax {
				return nil, fmt.Errorf("basemap: tile %d/%d/%d of %d bytes", t.Z, t.X, t.Y, e.length)
			}
			b := make([]byte, e.length)
			if _, err := p.f.ReadAt(b, int64(p.h.dataOff+e.offset)); err != nil {
				return nil, fmt.Errorf("basemap: tile %d/%d/%d: %w", t.Z, t.X, t.Y, err)
			}
			return b, nil
		}
		leaf, err := p.leaf(e)
		if err != nil {
			return nil, fmt.Errorf("basemap: leaf directory of tile %d/%d/%d: %w", t.Z, t.X, t.Y, err)
		}
		dir = leaf
	}
	return nil, fmt.Errorf("basemap: tile %d/%d/%d: directories nested more than %d deep", t.Z, t.X, t.Y, pmMaxDepth)
}

// leaf returns the leaf directory an entry points at, from the cache or
// the file.
func (p *pmtiles) leaf(e pmEntry) ([]pmEntry, error) {
	if es, ok := p.leaves.Get(e.offset); ok {
		return es, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if es, ok := p.leaves.Get(e.offset); ok {
		return es, nil
	}
	es, err := p.directory(p.h.leafOff+e.offset, uint64(e.length))
	if err != nil {
		return nil, err
	}
	p.leaves.Add(e.offset, es)
	return es, nil
}

func (p *pmtiles) Close() error { return p.f.Close() }
