// Package replicasnap keeps a snapshot of the in-memory replica (package
// inmem) in the database, so that a server starts without reading and
// decoding every layer's rows: each layer's records in a compact binary
// form, in parts of a few MiB, with the change feed's sequence number they
// are current to (migration 0038, postgis.SnapshotPart).
//
// Write stores the records of a replica's snapshot; Load fills a replica
// from the stored snapshot (one pass over its bytes: a part is checked by
// its CRC-32C and decoded into records without a per-row query) and
// replays the feed from its sequence number, or, when the snapshot cannot
// be used — missing, damaged, of another format, layer definition or
// schema, ahead of the feed or too far behind it — loads the replica from
// the rows as a server always did. The rows stay the truth; a snapshot
// only saves reading them.
package replicasnap

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"strings"
	"unsafe"

	"github.com/klauspost/compress/s2"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// Format is the version of the parts' encoding; a part of another is not
// read. Raise it whenever the encoding below, or what a record holds,
// changes. Format 3 adds each point's grid for the tallies.
const Format = 3

// partBytes is about the most bytes of records a part holds, before they
// are compressed.
const partBytes = 4 << 20

// magic begins every part's data: the magic, the Format and the count of
// records (uint32 each, little-endian), headerBytes in all, then the
// records, compressed.
const (
	magic       = "OMRS"
	headerBytes = 12
)

// Geometry tags of an encoded record.
const (
	geomNone  = 0
	geomPoint = 1 // lon, lat: two float64
	geomWKB   = 2 // uvarint length, then WKB
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksum is the CRC-32C of a part's data.
func checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// Fingerprint identifies the definition of a layer that its records
// depend on: its id, geometry type and fields (names and types, in order),
// and the encoding's Format. A part of another fingerprint is not read.
func Fingerprint(l *onemap.Layer) string {
	var b strings.Builder
	fmt.Fprintf(&b, "format %d\nlayer %s\ngeometry %v\n", Format, l.ID, l.Geometry)
	for _, f := range l.Fields {
		fmt.Fprintf(&b, "field %s %v\n", f.Name, f.Type)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:16])
}

// encoder cuts a layer's records into parts.
type encoder struct {
	layer       string
	seq         int64
	fingerprint string
	schema      string
	parts       []postgis.SnapshotPart
	buf         []byte
	n           int
	// placed, if not nil, says which grid a record is placed in for the
	// tallies (inmem.Snapshot.PlacedIn).
	placed func(id int64) (int64, bool)
}

func newEncoder(l *onemap.Layer, seq int64, schema string, placed func(int64) (int64, bool)) *encoder {
	e := &encoder{layer: l.ID, seq: seq, fingerprint: Fingerprint(l), schema: schema, placed: placed}
	e.start()
	return e
}

func (e *encoder) start() {
	if e.buf == nil {
		e.buf = make([]byte, 0, partBytes+partBytes/8)
	}
	e.buf = append(e.buf[:0], magic...) // reused: flush compresses it into a part of its own
	e.buf = binary.LittleEndian.AppendUint32(e.buf, Format)
	e.buf = binary.LittleEndian.AppendUint32(e.buf, 0) // the count, set at the end
	e.n = 0
}

// add appends one record.
func (e *encoder) add(r *onemap.Record) error {
	b := binary.LittleEndian.AppendUint64(e.buf, uint64(r.ID))
	b = binary.LittleEndian.AppendUint32(b, uint32(r.Version))
	switch g := r.Geometry.(type) {
	case nil:
		b = append(b, geomNone)
	case orb.Point:
		b = append(b, geomPoint)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(g[0]))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(g[1]))
	default:
		w, err := wkb.Marshal(g, binary.LittleEndian)
		if err != nil {
			return fmt.Errorf("replicasnap: %s/%d geometry: %w", e.layer, r.ID, err)
		}
		b = append(b, geomWKB)
		b = binary.AppendUvarint(b, uint64(len(w)))
		b = append(b, w...)
	}
	v := r.Encoded()
	b = binary.AppendUvarint(b, uint64(len(v)))
	b = append(b, v...)
	b = binary.AppendUvarint(b, e.placement(r.ID))
	e.buf = b
	e.n++
	if len(e.buf) >= partBytes {
		e.flush()
	}
	return nil
}

// placement is a record's grid as written: 0 if not known (not a tallied
// layer's, or not placed), else the grid's id + 1 (0: none holds it).
func (e *encoder) placement(id int64) uint64 {
	if e.placed == nil {
		return 0
	}
	g, ok := e.placed(id)
	if !ok || g < 0 {
		return 0
	}
	return uint64(g) + 1
}

// flush ends the part being written, if it holds records (or is the
// layer's only one: an empty layer has one part of none).
func (e *encoder) flush() {
	if e.n == 0 && len(e.parts) > 0 {
		return
	}
	binary.LittleEndian.PutUint32(e.buf[8:], uint32(e.n))
	// The records compressed (S2, a Snappy-like block: decoded at GB/s),
	// after the header: a province's cameras shrink about fourfold, and so
	// do the database's work to send them and the reader's to copy them.
	data := append(make([]byte, 0, headerBytes+s2.MaxEncodedLen(len(e.buf)-headerBytes)), e.buf[:headerBytes]...)
	data = append(data, s2.Encode(nil, e.buf[headerBytes:])...)
	e.parts = append(e.parts, postgis.SnapshotPart{Layer: e.layer, Part: len(e.parts), Seq: e.seq, Format: Format,
		Fingerprint: e.fingerprint, Schema: e.schema, Records: e.n, CRC: checksum(data), Data: data})
	e.start()
}

// finish returns the layer's parts.
func (e *encoder) finish() []postgis.SnapshotPart {
	e.flush()
	e.buf = nil
	return e.parts
}

// errCorrupt is a part whose bytes do not decode.
var errCorrupt = errors.New("replicasnap: a damaged part")

// decodePart returns the records of a part, checked by its CRC and
// against its stated count, and the grid each is placed in for the
// tallies (inmem.NotPlaced where not known; nil if none is known). Their values are the decompressed records'
// bytes, kept whole (the ids and points among them too: some 15 % more
// than the values alone, for no copy); a part of large records (areas,
// whose geometries are decoded) has its values copied out instead.
func decodePart(p postgis.SnapshotPart) ([]*onemap.Record, []int64, error) {
	if checksum(p.Data) != p.CRC {
		return nil, nil, fmt.Errorf("%w: %s part %d: its CRC-32C differs", errCorrupt, p.Layer, p.Part)
	}
	if len(p.Data) < headerBytes || string(p.Data[:4]) != magic || binary.LittleEndian.Uint32(p.Data[4:]) != Format ||
		int(binary.LittleEndian.Uint32(p.Data[8:])) != p.Records {
		return nil, nil, fmt.Errorf("%w: %s part %d: its header", errCorrupt, p.Layer, p.Part)
	}
	size, err := s2.DecodedLen(p.Data[headerBytes:])
	if err != nil || size > 4*partBytes {
		return nil, nil, fmt.Errorf("%w: %s part %d: its records do not decompress", errCorrupt, p.Layer, p.Part)
	}
	b, err := s2.Decode(make([]byte, size), p.Data[headerBytes:])
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s part %d: its records do not decompress: %w", errCorrupt, p.Layer, p.Part, err)
	}
	n := p.Records
	if n < 0 || len(b)/14 < n {
		return nil, nil, fmt.Errorf("%w: %s part %d: %d records in %d bytes", errCorrupt, p.Layer, p.Part, n, len(b))
	}
	slab := make([]onemap.Record, n)
	out := make([]*onemap.Record, n)
	var grids []int64 // made at the first placement
	var arena []byte  // nil: the values are kept in b
	if n > 0 && len(b)/n > 512 {
		arena = make([]byte, 0, len(b)-n*14) // the values' bytes, at most
	}
	bad := func(id int64, what string) error {
		return fmt.Errorf("%w: %s part %d, record %d: %s", errCorrupt, p.Layer, p.Part, id, what)
	}
	pos := 0
	for i := range n {
		if len(b)-pos < 14 {
			return nil, nil, bad(0, "short")
		}
		id := int64(binary.LittleEndian.Uint64(b[pos:]))
		version := int32(binary.LittleEndian.Uint32(b[pos+8:]))
		tag := b[pos+12]
		pos += 13
		var g orb.Geometry
		switch tag {
		case geomNone:
		case geomPoint:
			if len(b)-pos < 16 {
				return nil, nil, bad(id, "a short point")
			}
			g = orb.Point{math.Float64frombits(binary.LittleEndian.Uint64(b[pos:])), math.Float64frombits(binary.LittleEndian.Uint64(b[pos+8:]))}
			pos += 16
		case geomWKB:
			size, k := binary.Uvarint(b[pos:])
			if k <= 0 || uint64(len(b)-pos-k) < size {
				return nil, nil, bad(id, "a short geometry")
			}
			pos += k
			var err error
			if g, err = wkb.Unmarshal(b[pos : pos+int(size)]); err != nil {
				return nil, nil, bad(id, err.Error())
			}
			pos += int(size)
		default:
			return nil, nil, bad(id, fmt.Sprintf("geometry tag %d", tag))
		}
		size, k := binary.Uvarint(b[pos:])
		if k <= 0 || uint64(len(b)-pos-k) < size {
			return nil, nil, bad(id, "short values")
		}
		pos += k
		var enc string
		switch {
		case size == 0:
		case arena == nil:
			// b is never written again.
			enc = unsafe.String(&b[pos], int(size))
		case cap(arena)-len(arena) < int(size):
			return nil, nil, bad(id, "values past the part")
		default:
			start := len(arena)
			arena = append(arena, b[pos:pos+int(size)]...)
			// The arena never grows (its capacity is the most the values
			// take), so its bytes stay where they are and are never
			// written again.
			enc = unsafe.String(&arena[start], int(size))
		}
		pos += int(size)
		placed, k := binary.Uvarint(b[pos:])
		if k <= 0 || placed > math.MaxInt64 {
			return nil, nil, bad(id, "a short placement")
		}
		pos += k
		if placed != 0 && grids == nil {
			grids = make([]int64, n)
			for j := range i {
				grids[j] = inmem.NotPlaced
			}
		}
		if grids != nil {
			grids[i] = int64(placed) - 1
			if placed == 0 {
				grids[i] = inmem.NotPlaced
			}
		}
		if err := slab[i].SetEncoded(id, version, g, enc); err != nil {
			return nil, nil, fmt.Errorf("%w: %s part %d: %w", errCorrupt, p.Layer, p.Part, err)
		}
		out[i] = &slab[i]
	}
	if pos != len(b) {
		return nil, nil, fmt.Errorf("%w: %s part %d: %d bytes past its records", errCorrupt, p.Layer, p.Part, len(b)-pos)
	}
	return out, grids, nil
}
