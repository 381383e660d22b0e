package tiles

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/gzip"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// Renderers of vector tiles.
const (
	RenderReplica = "replica" // the Go encoder over the in-memory replica (default)
	RenderPostGIS = "postgis" // ST_AsMVT in the database: the reference
)

// Renderer renders a tile in the database (PostGIS's ST_AsMVT): the
// reference the Go encoder is held to.
type Renderer interface {
	Tile(ctx context.Context, t maptile.Tile, layers []onemap.TileLayer) ([]byte, error)
}

// ServiceConfig is what a Service is made of.
type ServiceConfig struct {
	Catalog *onemap.Catalog
	Policy  *onemap.Policy
	// Renderer is RenderReplica (default) or RenderPostGIS; with
	// RenderPostGIS, DB renders every tile but viewers' (the reference
	// renderer knows no viewer's part).
	Renderer string
	DB       Renderer
	// View returns what a caller may see of the replica: the whole of it,
	// or a viewer's part of the county. The service calls it for each tile
	// it renders, after it has noted the cache's generation.
	View func(onemap.Caller) Source
	// CacheBytes bounds the memory of encoded tiles (0 caches none), and
	// ShapeBytes that of the polygons' shapes (see Encoder; 0: 64 MiB).
	CacheBytes int64
	ShapeBytes int64
}

// Service serves vector tiles: it resolves a tileset for a caller against
// the access policy, renders its tiles with the configured renderer,
// gzips and tags them, caches them, and evicts the cached tiles that a
// change touches. It is safe for concurrent use.
type Service struct {
	cfg     ServiceConfig
	encoder *Encoder
	cache   *Cache
	gzips   sync.Pool // of *gzip.Writer
	bufs    sync.Pool // of *tileBuf: uncached tiles' memory
	sets    sync.Map  // of setKey to *Tileset, as resolved so far
}

// NewService returns a Service.
func NewService(cfg ServiceConfig) *Service {
	if cfg.Renderer == "" {
		cfg.Renderer = RenderReplica
	}
	if cfg.ShapeBytes == 0 {
		cfg.ShapeBytes = 64 << 20
	}
	return &Service{cfg: cfg, encoder: NewEncoder(cfg.ShapeBytes), cache: NewCache(cfg.CacheBytes)}
}

// Tileset is a tileset as one role may see it.
type Tileset struct {
	Name    string
	Variant string             // what besides the data decides the content: the role it is cut for
	Layers  []onemap.TileLayer // its layers, fields and levels, in order
	byZoom  [MaxZoom + 1][]onemap.TileLayer
}

type setKey struct {
	role onemap.Role
	name string
}

// Tileset resolves a tileset name for a role: every layer the role may read
// (SetAll), the public's layers and fields whoever asks (SetPublic), or one
// layer. Fields the policy masks or denies are left out of tiles. A layer
// the role may not read is not found. Tilesets depend only on the catalogue
// and the policy, which do not change while the server runs, so they are
// kept once resolved.
func (s *Service) Tileset(role onemap.Role, name string) (*Tileset, error) {
	key := setKey{role, name}
	if ts, ok := s.sets.Load(key); ok {
		return ts.(*Tileset), nil
	}
	policy, catalog := s.cfg.Policy, s.cfg.Catalog
	var layers []onemap.Layer
	switch name {
	case SetAll:
		layers = policy.Readable(role, catalog)
	case SetPublic:
		role = onemap.RolePublic
		layers = policy.Readable(role, catalog)
	default:
		l, err := catalog.Layer(name)
		if err != nil || !policy.CanRead(role, name) {
			return nil, onemap.Errorf(onemap.ENOTFOUND, "tileset %q not found: want %s, %s or a layer you may read",
				name, SetAll, SetPublic)
		}
		layers = []onemap.Layer{l}
	}
	ts := &Tileset{Name: name, Variant: string(role)}
	for _, l := range layers {
		tl := onemap.TileLayer{Layer: l, Levels: policy.Rule(role, l.ID).Levels,
			MinZoom: l.MinZoom, MaxZoom: l.MaxZoom, ClusterBelow: l.ClusterBelow, ClusterFields: l.ClusterFields}
		for _, f := range l.Fields {
			if policy.Field(role, &l, f.Name) == onemap.FieldAllow {
				tl.Fields = append(tl.Fields, f.Name)
			}
		}
		ts.Layers = append(ts.Layers, tl)
	}
	// Tiles of each zoom carry only the levels drawn at that zoom.
	for z := range ts.byZoom {
		at := slices.Clone(ts.Layers)
		for i := range at {
			at[i].Levels = at[i].Layer.LevelsAt(maptile.Zoom(z), at[i].Levels)
		}
		ts.byZoom[z] = at
	}
	got, _ := s.sets.LoadOrStore(key, ts)
	return got.(*Tileset), nil
}

// Served is a tile as served: its entry (bytes, gzipped bytes, tag), and
// whether it came from the cache or how long it took to render.
type Served struct {
	*Entry
	Hit    bool
	Render time.Duration // when not a hit
	// buf holds the bytes of a tile that no cache keeps, and pool takes
	// it back (Release).
	buf  *tileBuf
	pool *sync.Pool
}

// Release hands back the memory of a tile that the cache does not keep:
// call it once the tile is written, and use the Entry no more. A server
// without a tile cache then encodes and gzips every tile in memory it
// keeps from tile to tile, rather than allocating twice a tile's size for
// each: that garbage, at thousands of tiles a second, made the collector
// run several times a second, and each cycle stalls the requests under way
// (their goroutines preempted to scan their stacks wait behind every other
// request), the cold tail. Calling it is optional: without it the garbage
// collector takes the memory back.
func (s Served) Release() {
	if s.buf != nil {
		s.buf.mvt, s.buf.gz = s.buf.mvt[:0], s.buf.gz[:0]
		if cap(s.buf.mvt)+cap(s.buf.gz) <= maxPooledTile {
			s.pool.Put(s.buf)
		}
	}
}

// tileBuf is the memory of one uncached tile: its bytes and gzipped bytes.
type tileBuf struct{ mvt, gz []byte }

// maxPooledTile is the most memory a kept tileBuf holds: an outsized
// tile's is left to the garbage collector.
const maxPooledTile = 1 << 20

// Tile returns tile t of the named tileset as caller may see it, from the
// cache or rendered. An empty tile has an Entry with no bytes. A tileset the
// caller may not read is ENOTFOUND.
func (s *Service) Tile(ctx context.Context, caller onemap.Caller, set string, t maptile.Tile) (Served, error) {
	ts, err := s.Tileset(caller.Role, set)
	if err != nil {
		return Served{}, err
	}
	variant := ts.Variant
	// A role bound to a grid (a viewer, a grid worker, an operator) sees
	// its part of the county: its tiles are its part's.
	scoped := caller.Role.BoundToGrid() && caller.GridID != 0 && ts.Name != SetPublic
	if scoped {
		variant += ":" + strconv.FormatInt(caller.GridID, 10)
	}
	key := CacheKey{Tileset: ts.Name, Variant: variant, Tile: t}
	if e, ok := s.cache.Get(key); ok {
		return Served{Entry: e, Hit: true}, nil
	}
	if s.cache.max <= 0 && s.cfg.Renderer == RenderReplica {
		return s.uncached(caller, ts, t)
	}
	gen := s.cache.Gen() // before the data the tile is cut from
	start := time.Now()
	mvt, err := s.render(ctx, caller, ts, t)
	if err != nil {
		return Served{}, err
	}
	took := time.Since(start)
	e := s.entry(mvt)
	s.cache.Put(key, e, gen)
	return Served{Entry: e, Render: took}, nil
}

// uncached renders a tile from the replica when no cache keeps tiles:
// into pooled memory, which Served.Release hands back.
func (s *Service) uncached(caller onemap.Caller, ts *Tileset, t maptile.Tile) (Served, error) {
	if ts.Name == SetPublic {
		caller = onemap.Caller{Role: onemap.RolePublic} // public data, the same for everyone
	}
	buf, _ := s.bufs.Get().(*tileBuf)
	if buf == nil {
		buf = new(tileBuf)
	}
	start := time.Now()
	mvt, err := s.encoder.AppendEncode(buf.mvt[:0], s.cfg.View(caller), t, ts.byZoom[t.Z])
	if err != nil {
		s.bufs.Put(buf)
		return Served{}, err
	}
	took := time.Since(start)
	buf.mvt = mvt
	e := &Entry{MVT: mvt, ETag: etag(mvt)}
	if len(mvt) == 0 {
		e.MVT = nil
	} else {
		buf.gz = s.gzip(buf.gz[:0], mvt)
		e.Gzip = buf.gz
	}
	return Served{Entry: e, Render: took, buf: buf, pool: &s.bufs}, nil
}

// render encodes a tile with the configured renderer.
func (s *Service) render(ctx context.Context, caller onemap.Caller, ts *Tileset, t maptile.Tile) ([]byte, error) {
	layers := ts.byZoom[t.Z]
	// The reference renderer knows no part of the county: the tiles of
	// roles bound to a grid are always cut from the replica.
	if s.cfg.Renderer == RenderPostGIS && !caller.Role.BoundToGrid() {
		return s.cfg.DB.Tile(ctx, t, layers)
	}
	if ts.Name == SetPublic {
		caller = onemap.Caller{Role: onemap.RolePublic} // public data, the same for everyone
	}
	return s.encoder.Encode(s.cfg.View(caller), t, layers)
}

// entry prepares a tile for serving: its gzipped bytes and its tag.
func (s *Service) entry(mvt []byte) *Entry {
	e := &Entry{MVT: mvt, ETag: etag(mvt)}
	if len(mvt) > 0 {
		e.Gzip = s.gzip(make([]byte, 0, len(mvt)/2), mvt)
	}
	return e
}

// etag returns the tag of a tile's bytes. The tag only has to change when
// the tile does: a 64-bit hash of its bytes, the same on every server.
func etag(mvt []byte) string {
	var sum [8]byte
	binary.BigEndian.PutUint64(sum[:], xxhash.Sum64(mvt))
	var tag [18]byte
	tag[0], tag[17] = '"', '"'
	hex.Encode(tag[1:17], sum[:])
	return string(tag[:])
}

// gzip appends mvt gzipped at the fastest level to dst. Gzip writers are
// costly to make, so they are kept from tile to tile.
func (s *Service) gzip(dst, mvt []byte) []byte {
	zw, _ := s.gzips.Get().(*gzip.Writer)
	if zw == nil {
		zw, _ = gzip.NewWriterLevel(nil, gzip.BestSpeed)
	}
	buf := bytes.NewBuffer(dst)
	zw.Reset(buf)
	zw.Write(mvt)
	zw.Close()
	zw.Reset(nil) // holds no tile's memory while pooled
	s.gzips.Put(zw)
	return buf.Bytes()
}

// Invalidate evicts the cached tiles whose buffered area one of bounds
// meets (a change's old and new bounds), and returns how many.
func (s *Service) Invalidate(bounds ...orb.Bound) int { return s.cache.Invalidate(bounds...) }

// CacheStats tells what the tile cache did.
func (s *Service) CacheStats() CacheStats { return s.cache.Stats() }
