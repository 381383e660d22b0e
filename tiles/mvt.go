package tiles

//lint:file-ignore SA4016 the varint wire type 0 is spelt out (| 0) like the others

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

// The encoder writes the protocol buffers of the Mapbox Vector Tile
// specification (vector_tile.proto, version 2.1) itself, with no message
// structs in between: the same bytes, field for field and in the same order,
// as orb's mvt package marshals with gogo/protobuf (a layer's name, features,
// keys, values, extent and version; a feature's id, tags, type and
// geometry), which the tests decode.

// Protocol buffer keys: field number << 3 | wire type (0 varint, 1 64-bit,
// 2 length-delimited). The varint wire type 0 is spelt out like the others.
const (
	keyTileLayer     = 3<<3 | 2
	keyLayerName     = 1<<3 | 2
	keyLayerFeature  = 2<<3 | 2
	keyLayerKey      = 3<<3 | 2
	keyLayerValue    = 4<<3 | 2
	keyLayerExtent   = 5<<3 | 0
	keyLayerVersion  = 15<<3 | 0
	keyFeatureID     = 1<<3 | 0
	keyFeatureTags   = 2<<3 | 2
	keyFeatureType   = 3<<3 | 0
	keyFeatureGeom   = 4<<3 | 2
	keyValueString   = 1<<3 | 2
	keyValueDouble   = 3<<3 | 1
	keyValueUint     = 5<<3 | 0
	keyValueSint     = 6<<3 | 0
	keyValueBool     = 7<<3 | 0
	geomTypePoint    = 1
	geomTypeLine     = 2
	geomTypePolygon  = 3
	commandMoveTo    = 1
	commandLineTo    = 2
	commandClosePath = 7
)

// writer encodes a tile. Its buffers are kept from tile to tile (see
// writers), so that a tile costs few allocations.
type writer struct {
	tile     []byte           // the tile's layers so far
	features []byte           // the current layer's features
	values   []byte           // the current layer's values
	geom     []byte           // the current feature's geometry, packed
	tags     []byte           // the current feature's tags, packed
	index    valueIndex       // the layer's values so far, by encoding (without a dictionary)
	dict     *valueDict       // the layer's dictionary; nil: none
	slots    []uint64         // with dict, by its number: the tile's generation << 32 | the value's index
	slotGen  uint32           // the current layer's generation in slots
	nValues  uint32           // with dict, the layer's values so far
	msgs     []byte           // dict's value messages, as last read
	ends     []uint32         // where each of msgs ends
	ints     []uint32         // dict's numbers of small counts; noValue if not known yet
	intsOf   [2]uint32        // the id of the dictionary ints are of
	last     []lastValue      // per property, the last value written
	layer    layerOut         // the layer being placed
	recs     []*onemap.Record // the layer's records in the tile
	cells    cells            // clustering scratch
	byKeys   []string         // a layer's values of ClusterCountBy counted, as numbered
	frame    frame            // the tile's
	clip     clipScratch      // the memory of the tile's clipped polygons
}

// reset readies w for another tile.
func (w *writer) reset() {
	w.tile = w.tile[:0]
	w.clip.reset()
}

// release lets go of what w read of a dictionary, once a tile is done.
func (w *writer) release() {
	w.dict, w.msgs, w.ends = nil, nil, nil
}

// writeLayer appends lo's layer to the tile: its features, in order, with
// their properties.
func (w *writer) writeLayer(lo *layerOut) {
	w.features, w.values = w.features[:0], w.values[:0]
	if w.dict == nil {
		w.index.reset()
	} else {
		w.nValues = 0
		w.msgs, w.ends = nil, nil        // perhaps another dictionary's
		if w.slotGen++; w.slotGen == 0 { // wrapped: slots of generation 0 would seem taken
			clear(w.slots)
			w.slotGen = 1
		}
	}
	w.last = append(w.last[:0], make([]lastValue, len(lo.fields))...)
	s := lo.spec
	countKey := -1 // PointCount's key, once a feature has it
	// The keys of the counts by level, after PointCount's: one per level of
	// the layer's level field, up to onemap.ClusterLevels, when the caller
	// reads the level (the spec's Fields have it).
	var levelKeys []string
	if lf := s.Layer.FieldIndex("level"); lf >= 0 && s.ClusterBelow > 0 && slices.Contains(s.Fields, "level") {
		for _, lv := range s.Layer.Fields[lf].Enum[:min(len(s.Layer.Fields[lf].Enum), onemap.ClusterLevels)] {
			levelKeys = append(levelKeys, LevelCountPrefix+lv)
		}
	}
	// The keys of the counts by value of the layer's ClusterCountBy, after
	// the levels': one per value, numbered as first used.
	byKeys := w.byKeys[:0]
	byPrefix := CountByPrefix(s.Layer.ClusterCountBy)
	for i := range lo.features {
		ft := &lo.features[i]
		w.tags = w.tags[:0]
		if len(lo.fields) > 0 && ft.rec != nil {
			var codes []uint32
			if w.dict != nil {
				codes = w.dict.codes(ft.rec)
			}
			for k, fi := range lo.fields {
				if ft.count > 1 && !lo.cluster[k] {
					continue
				}
				var i uint32
				if w.dict != nil {
					if fi >= len(codes) || codes[fi] == noValue {
						continue
					}
					i = w.codeIndex(codes[fi])
				} else {
					v := ft.rec.Raw(fi)
					if v.Kind() == onemap.KindNull {
						continue
					}
					// Neighbours often share a value (a kind, a level, a
					// date): the last one's index spares a lookup.
					last := &w.last[k]
					if v != last.v || last.v == "" {
						last.v, last.i = v, w.value(v)
					}
					i = last.i
				}
				w.tags = binary.AppendUvarint(w.tags, uint64(k))
				w.tags = binary.AppendUvarint(w.tags, uint64(i))
			}
		}
		if ft.count > 1 {
			if countKey < 0 {
				countKey = len(s.Fields)
			}
			w.tags = binary.AppendUvarint(w.tags, uint64(countKey))
			w.tags = binary.AppendUvarint(w.tags, uint64(w.countValue(ft.count)))
			// The points by level, after point_count's key.
			for i, n := range ft.levels[:len(levelKeys)] {
				if n == 0 {
					continue
				}
				w.tags = binary.AppendUvarint(w.tags, uint64(countKey+1+i))
				w.tags = binary.AppendUvarint(w.tags, uint64(w.countValue(int(n))))
			}
			for _, vc := range ft.by {
				k := slices.Index(byKeys, vc.value)
				if k < 0 {
					k = len(byKeys)
					byKeys = append(byKeys, vc.value)
				}
				w.tags = binary.AppendUvarint(w.tags, uint64(countKey+1+len(levelKeys)+k))
				w.tags = binary.AppendUvarint(w.tags, uint64(w.countValue(int(vc.n))))
			}
		}
		w.geom = w.geom[:0]
		typ := w.writeGeometry(ft)
		w.writeFeature(ft.id, typ)
	}
	// The layer: name, features, keys, values, extent, version.
	size := fieldLen(len(s.Layer.ID)) + len(w.features)
	for _, k := range s.Fields {
		size += fieldLen(len(k))
	}
	if countKey >= 0 {
		size += fieldLen(len(PointCount))
		for _, k := range levelKeys {
			size += fieldLen(len(k))
		}
		for _, v := range byKeys {
			size += fieldLen(len(byPrefix) + len(v))
		}
	}
	size += len(w.values) + 1 + varintLen(onemap.TileExtent) + 1 + 1
	b := append(w.tile, keyTileLayer)
	b = binary.AppendUvarint(b, uint64(size))
	b = appendBytesField(b, keyLayerName, s.Layer.ID)
	b = append(b, w.features...)
	for _, k := range s.Fields {
		b = appendBytesField(b, keyLayerKey, k)
	}
	if countKey >= 0 {
		b = appendBytesField(b, keyLayerKey, PointCount)
		for _, k := range levelKeys {
			b = appendBytesField(b, keyLayerKey, k)
		}
		for _, v := range byKeys {
			b = appendBytesField(b, keyLayerKey, byPrefix+v)
		}
	}
	w.byKeys = byKeys[:0]
	b = append(b, w.values...)
	b = binary.AppendUvarint(append(b, keyLayerExtent), onemap.TileExtent)
	b = append(b, keyLayerVersion, 2)
	w.tile = b
}

// lastValue is a value and its index.
type lastValue struct {
	v onemap.RawValue
	i uint32
}

// value returns the index of v in the layer's values, adding it if it is
// new; values are numbered as first used, and a []string is the string of
// its elements joined with ";".
func (w *writer) value(v onemap.RawValue) uint32 {
	v = valueKey(v)
	i, added := w.index.add(string(v))
	if added {
		w.values = appendValueMessage(w.values, v)
	}
	return i
}

// countValue returns the index of the count n in the layer's values, adding
// it if it is new.
func (w *writer) countValue(n int) uint32 {
	if w.dict == nil {
		var buf [16]byte
		b, _ := onemap.AppendValue(buf[:0], int64(n))
		return w.value(onemap.RawValue(b))
	}
	return w.codeIndex(w.intCode(n))
}

// intCode returns the dictionary's number of the count n; those of small
// counts are kept from tile to tile.
func (w *writer) intCode(n int) uint32 {
	d := w.dict
	if n < 0 || n >= maxCachedCount {
		var buf [16]byte
		b, _ := onemap.AppendValue(buf[:0], int64(n))
		return d.number(onemap.RawValue(b))
	}
	if w.intsOf != d.id || w.ints == nil {
		if w.ints == nil {
			w.ints = make([]uint32, maxCachedCount)
		}
		for i := range w.ints {
			w.ints[i] = noValue
		}
		w.intsOf = d.id
	}
	if c := w.ints[n]; c != noValue {
		return c
	}
	var buf [16]byte
	b, _ := onemap.AppendValue(buf[:0], int64(n))
	c := d.number(onemap.RawValue(b))
	w.ints[n] = c
	return c
}

// maxCachedCount bounds the counts whose numbers a writer keeps.
const maxCachedCount = 1024

// codeIndex returns the index in the layer's values of the value the
// dictionary numbers c, adding its message if it is new to the layer.
func (w *writer) codeIndex(c uint32) uint32 {
	if int(c) >= len(w.ends) {
		w.msgs, w.ends = w.dict.messages()
	}
	if int(c) >= len(w.slots) {
		w.slots = append(w.slots, make([]uint64, len(w.ends)-len(w.slots))...)
	}
	s := w.slots[c]
	if uint32(s>>32) == w.slotGen {
		return uint32(s)
	}
	i := w.nValues
	w.nValues++
	w.slots[c] = uint64(w.slotGen)<<32 | uint64(i)
	start := uint32(0)
	if c > 0 {
		start = w.ends[c-1]
	}
	w.values = append(w.values, w.msgs[start:w.ends[c]]...)
	return i
}

// appendValueMessage appends the layer's value field of v (see valueKey),
// typed as ST_AsMVT types it.
func appendValueMessage(dst []byte, v onemap.RawValue) []byte {
	var msg [16]byte
	m := msg[:0]
	switch v.Kind() {
	case onemap.KindString:
		s := v.Text()
		dst = append(dst, keyLayerValue)
		dst = binary.AppendUvarint(dst, uint64(fieldLen(len(s))))
		return appendBytesField(dst, keyValueString, s)
	case onemap.KindInt:
		if n := v.Int(); n >= 0 {
			m = binary.AppendUvarint(append(m, keyValueUint), uint64(n))
		} else {
			m = binary.AppendUvarint(append(m, keyValueSint), uint64(n<<1)^uint64(n>>63))
		}
	case onemap.KindFloat:
		m = binary.LittleEndian.AppendUint64(append(m, keyValueDouble), math.Float64bits(v.Float()))
	case onemap.KindBool:
		if v.Bool() {
			m = append(m, keyValueBool, 1)
		} else {
			m = append(m, keyValueBool, 0)
		}
	}
	dst = append(dst, keyLayerValue, byte(len(m)))
	return append(dst, m...)
}

// writeFeature appends a feature of the id and geometry type, with the tags
// and geometry in w.tags and w.geom, to the layer's features. A negative id
// is left out, as orb leaves it out.
func (w *writer) writeFeature(id int64, typ uint64) {
	size := 1 + varintLen(typ)
	if id >= 0 {
		size += 1 + varintLen(uint64(id))
	}
	if len(w.tags) > 0 {
		size += fieldLen(len(w.tags))
	}
	if len(w.geom) > 0 {
		size += fieldLen(len(w.geom))
	}
	b := binary.AppendUvarint(append(w.features, keyLayerFeature), uint64(size))
	if id >= 0 {
		b = binary.AppendUvarint(append(b, keyFeatureID), uint64(id))
	}
	if len(w.tags) > 0 {
		b = binary.AppendUvarint(append(b, keyFeatureTags), uint64(len(w.tags)))
		b = append(b, w.tags...)
	}
	b = binary.AppendUvarint(append(b, keyFeatureType), typ)
	if len(w.geom) > 0 {
		b = binary.AppendUvarint(append(b, keyFeatureGeom), uint64(len(w.geom)))
		b = append(b, w.geom...)
	}
	w.features = b
}

// writeGeometry encodes the feature's geometry, in tile coordinates with
// integer values, into w.geom as MVT commands, and returns its type.
func (w *writer) writeGeometry(ft *feature) uint64 {
	g := geomWriter{b: w.geom, shift: ft.shift}
	if ft.polys != nil {
		for _, p := range ft.polys {
			for _, r := range p {
				g.ring(r)
			}
		}
		w.geom = g.b
		return geomTypePolygon
	}
	var typ uint64
	switch geom := ft.geom.(type) {
	case nil:
		g.command(commandMoveTo, 1)
		g.points([]orb.Point{ft.point})
		typ = geomTypePoint
	case orb.MultiPoint:
		g.command(commandMoveTo, len(geom))
		g.points(geom)
		typ = geomTypePoint
	case orb.MultiLineString:
		for _, ls := range geom {
			g.command(commandMoveTo, 1)
			g.points(ls[:1])
			g.command(commandLineTo, len(ls)-1)
			g.points(ls[1:])
		}
		typ = geomTypeLine
	}
	w.geom = g.b
	return typ
}

// geomWriter writes MVT geometry commands, packed.
type geomWriter struct {
	b     []byte
	shift orb.Point // added to every point
	x, y  int32     // the cursor
}

func (g *geomWriter) command(id, count int) {
	g.b = binary.AppendUvarint(g.b, uint64(uint32(count)<<3|uint32(id)))
}

func (g *geomWriter) points(ps []orb.Point) {
	for _, p := range ps {
		x, y := int32(p[0]+g.shift[0]), int32(p[1]+g.shift[1])
		dx, dy := x-g.x, y-g.y
		g.x, g.y = x, y
		g.b = binary.AppendUvarint(g.b, uint64(uint32(dx<<1)^uint32(dx>>31)))
		g.b = binary.AppendUvarint(g.b, uint64(uint32(dy<<1)^uint32(dy>>31)))
	}
}

// ring writes a ring: its first point, the rest but the closing one, and
// ClosePath.
func (g *geomWriter) ring(r orb.Ring) {
	g.command(commandMoveTo, 1)
	g.points(r[:1])
	rest := r[1:]
	if r.Closed() {
		rest = r[1 : len(r)-1]
	}
	g.command(commandLineTo, len(rest))
	g.points(rest)
	g.command(commandClosePath, 1)
}

// appendBytesField appends a length-delimited field.
func appendBytesField(b []byte, key byte, s string) []byte {
	b = binary.AppendUvarint(append(b, key), uint64(len(s)))
	return append(b, s...)
}

// fieldLen returns the size of a length-delimited field of n bytes (with a
// one-byte key).
func fieldLen(n int) int { return 1 + varintLen(uint64(n)) + n }

// varintLen returns the size of v as a varint.
func varintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
