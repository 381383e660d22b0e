package basemap

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/klauspost/compress/gzip"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// DrawnLayer is one layer of a drawn base: its name, its string fields, its
// zooms (MaxZoom 0: every zoom) and its features.
type DrawnLayer struct {
	ID               string
	Fields           []string
	MinZoom, MaxZoom maptile.Zoom
	Features         []DrawnFeature
}

// DrawnFeature is a feature of a drawn layer: a point, line string or
// multi line string (WGS-84), and one value per field of its layer
// (strings or numbers; nil for none).
type DrawnFeature struct {
	Geometry orb.Geometry
	Values   []any
}

// Drawn is a vector base drawn from features held in memory, encoded as
// Mapbox Vector Tiles by package tiles and gzipped, and kept in a bounded
// cache. It is safe for concurrent use.
type Drawn struct {
	info  onemap.BasemapInfo
	specs []onemap.TileLayer
	src   drawnSource
	enc   *tiles.Encoder
	cache *lru.Cache[maptile.Tile, []byte]
	mu    sync.Mutex // one tile encoded at a time: the base is small, its tiles few
}

// drawnSource holds the records of a drawn base's layers.
type drawnSource map[string][]*onemap.Record

func (s drawnSource) Search(layer string, b orb.Bound, fn func(*onemap.Record) bool) {
	for _, r := range s[layer] {
		if r.Bound.Intersects(b) && !fn(r) {
			return
		}
	}
}

// NewDrawn returns the drawn base of the layers, described by info (its
// Format, Encoding, zooms and vector layers are set here; Bounds, if zero,
// from the features).
func NewDrawn(info onemap.BasemapInfo, layers []DrawnLayer) (*Drawn, error) {
	d := &Drawn{src: drawnSource{}, enc: tiles.NewEncoder(16 << 20)}
	info.Format, info.Encoding, info.MinZoom, info.MaxZoom, info.VectorLayers = "pbf", "gzip", 0, 18, nil
	var bound orb.Bound
	var id int64
	for _, l := range layers {
		fields := make([]onemap.Field, len(l.Fields))
		types := map[string]string{}
		for i, f := range l.Fields {
			fields[i] = onemap.Field{Name: f, Type: onemap.FieldString}
			types[f] = "String"
		}
		for _, f := range l.Features {
			for i, v := range f.Values {
				if _, ok := v.(string); !ok && v != nil && i < len(fields) {
					fields[i].Type, types[l.Fields[i]] = onemap.FieldNumber, "Number"
				}
			}
		}
		spec := onemap.TileLayer{Layer: onemap.Layer{ID: l.ID, Fields: fields}, Fields: l.Fields, MinZoom: l.MinZoom, MaxZoom: l.MaxZoom}
		for _, f := range l.Features {
			id++
			r, err := onemap.NewRecord(id, 1, f.Geometry, f.Values)
			if err != nil {
				return nil, fmt.Errorf("basemap: layer %s: %w", l.ID, err)
			}
			d.src[l.ID] = append(d.src[l.ID], r)
			if bound.IsZero() {
				bound = r.Bound
			} else {
				bound = bound.Union(r.Bound)
			}
		}
		d.specs = append(d.specs, spec)
		info.VectorLayers = append(info.VectorLayers, onemap.BasemapLayer{ID: l.ID, Fields: types, MinZoom: int(l.MinZoom), MaxZoom: int(spec.TopZoom())})
	}
	if info.Bounds.IsZero() {
		info.Bounds = bound
	}
	d.info = info
	d.cache, _ = lru.New[maptile.Tile, []byte](4096) // errors only for a size below 1
	return d, nil
}

// Info describes the base.
func (d *Drawn) Info() onemap.BasemapInfo { return d.info }

// Tile returns tile t, gzipped (an empty tile where the base has nothing),
// or nil beyond its zooms.
func (d *Drawn) Tile(_ context.Context, t maptile.Tile) ([]byte, error) {
	if int(t.Z) > d.info.MaxZoom || !t.Valid() {
		return nil, nil
	}
	if b, ok := d.cache.Get(t); ok {
		return b, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	raw, err := d.enc.Encode(d.src, t, d.specs)
	if err != nil {
		return nil, fmt.Errorf("basemap: tile %d/%d/%d: %w", t.Z, t.X, t.Y, err)
	}
	// An empty tile is a tile too (gzipped nothing): the base covers its
	// bounds, and a browser would report a missing tile as an error.
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // never fails: the level is valid
	zw.Write(raw)
	zw.Close()
	out := buf.Bytes()
	d.cache.Add(t, out)
	return out, nil
}

// Close does nothing: a drawn base holds no file.
func (d *Drawn) Close() error { return nil }
