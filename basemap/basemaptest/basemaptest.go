// Package basemaptest writes small MBTiles and PMTiles archives for tests,
// from the two specifications, independently of the reader in package
// basemap (but for the PMTiles tile ids, held to the reference
// implementation's by basemap's TestTileID).
package basemaptest

import (
	"bytes"
	"compress/gzip"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"os"
	"sort"
	"testing"

	"github.com/onemapgis/onemap/basemap"
	"github.com/paulmach/orb/maptile"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver, "sqlite"
)

// Gzip gzips b.
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// PNG is the first bytes of a PNG and a marker: the server serves tiles as
// stored, so nothing decodes them.
func PNG(marker string) []byte { return append([]byte("\x89PNG\r\n\x1a\n"), marker...) }

// WriteMBTiles writes an MBTiles archive of the tiles (by XYZ address) with
// the metadata, rows counted from the south as the spec says.
func WriteMBTiles(t testing.TB, path string, meta map[string]string, tiles map[maptile.Tile][]byte) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE metadata (name text, value text)`,
		`CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob)`,
		`CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range meta {
		if _, err := db.Exec(`INSERT INTO metadata VALUES (?, ?)`, k, v); err != nil {
			t.Fatal(err)
		}
	}
	for tl, b := range tiles {
		row := (1 << tl.Z) - 1 - int(tl.Y)
		if _, err := db.Exec(`INSERT INTO tiles VALUES (?, ?, ?, ?)`, int(tl.Z), int(tl.X), row, b); err != nil {
			t.Fatal(err)
		}
	}
}

// WritePMTiles writes a PMTiles v3 archive of the tiles, from the spec:
// directories gzipped, entries sorted by tile id, with leaf directories of
// leafSize entries when leafSize > 0 (else all in the root).
func WritePMTiles(t testing.TB, path string, tileType, tileComp byte, meta map[string]any, tiles map[maptile.Tile][]byte, leafSize int) {
	t.Helper()
	type entry struct {
		id          uint64
		offset, len uint64
		run         uint64
	}
	var es []entry
	var data []byte
	ids := make([]maptile.Tile, 0, len(tiles))
	for tl := range tiles {
		ids = append(ids, tl)
	}
	sort.Slice(ids, func(i, j int) bool {
		return basemap.TileID(uint8(ids[i].Z), ids[i].X, ids[i].Y) < basemap.TileID(uint8(ids[j].Z), ids[j].X, ids[j].Y)
	})
	minZ, maxZ := byte(255), byte(0)
	for _, tl := range ids {
		b := tiles[tl]
		es = append(es, entry{id: basemap.TileID(uint8(tl.Z), tl.X, tl.Y), offset: uint64(len(data)), len: uint64(len(b)), run: 1})
		data = append(data, b...)
		minZ, maxZ = min(minZ, byte(tl.Z)), max(maxZ, byte(tl.Z))
	}
	dir := func(es []entry) []byte {
		b := binary.AppendUvarint(nil, uint64(len(es)))
		last := uint64(0)
		for _, e := range es {
			b = binary.AppendUvarint(b, e.id-last)
			last = e.id
		}
		for _, e := range es {
			b = binary.AppendUvarint(b, e.run)
		}
		for _, e := range es {
			b = binary.AppendUvarint(b, e.len)
		}
		for i, e := range es {
			if i > 0 && e.offset == es[i-1].offset+es[i-1].len {
				b = binary.AppendUvarint(b, 0)
			} else {
				b = binary.AppendUvarint(b, e.offset+1)
			}
		}
		return Gzip(b)
	}
	var root, leaves []byte
	if leafSize > 0 {
		var rootEs []entry
		for i := 0; i < len(es); i += leafSize {
			leaf := dir(es[i:min(i+leafSize, len(es))])
			rootEs = append(rootEs, entry{id: es[i].id, offset: uint64(len(leaves)), len: uint64(len(leaf)), run: 0})
			leaves = append(leaves, leaf...)
		}
		root = dir(rootEs)
	} else {
		root = dir(es)
	}
	mj, _ := json.Marshal(meta)
	metaBytes := Gzip(mj)
	h := make([]byte, 127)
	copy(h, "PMTiles")
	h[7] = 3
	put := func(i int, v uint64) { binary.LittleEndian.PutUint64(h[i:], v) }
	rootOff := uint64(127)
	metaOff := rootOff + uint64(len(root))
	leafOff := metaOff + uint64(len(metaBytes))
	dataOff := leafOff + uint64(len(leaves))
	put(8, rootOff)
	put(16, uint64(len(root)))
	put(24, metaOff)
	put(32, uint64(len(metaBytes)))
	put(40, leafOff)
	put(48, uint64(len(leaves)))
	put(56, dataOff)
	put(64, uint64(len(data)))
	put(72, uint64(len(es)))
	put(80, uint64(len(es)))
	put(88, uint64(len(es)))
	h[96], h[97], h[98], h[99] = 1, 2, tileComp, tileType
	h[100], h[101] = minZ, maxZ
	i32 := func(i int, v float64) { binary.LittleEndian.PutUint32(h[i:], uint32(int32(v*1e7))) }
	i32(102, 102.0)
	i32(106, 25.3)
	i32(110, 102.6)
	i32(114, 26.0)
	h[118] = 12
	i32(119, 102.4)
	i32(123, 25.53)
	out := append(append(append(append(h, root...), metaBytes...), leaves...), data...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}
