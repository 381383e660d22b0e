package tiles

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"runtime"
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
	// RenderPostGIS, DB renders every tile but those of callers who see a
	// part of the county (the reference renderer knows no part).
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
	// The cached tiles served again, waiting to be gzipped harder (see
	// repack), whether a goroutine is at it (repacker), and its signal
	// when it leaves (WaitRepacked).
	repackMu   sync.Mutex
	repackQ    []repackJob
	repacking  bool
	repackIdle *sync.Cond
	// repackHook, when set (tests), is called before each tile is
	// gzipped again.
	repackHook func()
	sets       sync.Map // of setKey to *Tileset, as resolved so far
	// renders admits as many renders from the replica at once as the
	// process has CPUs (see admit).
	renders chan struct{}
}

// NewService returns a Service.
func NewService(cfg ServiceConfig) *Service {
	if cfg.Renderer == "" {
		cfg.Renderer = RenderReplica
	}
	if cfg.ShapeBytes == 0 {
		cfg.ShapeBytes = 64 << 20
	}
	s := &Service{cfg: cfg, encoder: NewEncoder(cfg.ShapeBytes), cache: NewCache(cfg.CacheBytes),
		renders: make(chan struct{}, runtime.GOMAXPROCS(0))}
	s.repackIdle = sync.NewCond(&s.repackMu)
	return s
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

// Tileset resolves a tileset name for a caller's view of the access
// policy: every layer the caller may read (SetAll), the public's layers and
// fields whoever asks (SetPublic), or one layer. Fields the policy masks or
// denies are left out of tiles. A layer the caller may not read is not
// found. A tileset depends only on the role (a view's part of the county
// decides which features, not which layers or fields), the catalogue and the
// policy, which do not change while the server runs, so it is kept once
// resolved for each role.
func (s *Service) Tileset(view *onemap.View, name string) (*Tileset, error) {
	if name == SetPublic && view.Role() != onemap.RolePublic {
		view = s.cfg.Policy.View(s.cfg.Catalog, onemap.Caller{Role: onemap.RolePublic})
	}
	role := view.Role()
	key := setKey{role, name}
	if ts, ok := s.sets.Load(key); ok {
		return ts.(*Tileset), nil
	}
	var layers []onemap.Layer
	switch name {
	case SetAll, SetPublic:
		layers = view.Readable()
	default:
		l, err := s.cfg.Catalog.Layer(name)
		if err != nil || !view.CanRead(name) {
			return nil, onemap.Errorf(onemap.ENOTFOUND, "tileset %q not found: want %s, %s or a layer you may read",
				name, SetAll, SetPublic)
		}
		layers = []onemap.Layer{l}
	}
	ts := &Tileset{Name: name, Variant: string(role)}
	for _, l := range layers {
		tl := onemap.TileLayer{Layer: l, Levels: view.Levels(l.ID),
			MinZoom: l.MinZoom, MaxZoom: l.MaxZoom, ClusterBelow: l.ClusterBelow, ClusterFields: l.ClusterFields}
		for _, f := range l.Fields {
			if view.Field(l.ID, f.Name) == onemap.FieldAllow {
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

// Tile returns tile t of the named tileset as the caller of view may see
// it, from the cache or rendered. An empty tile has an Entry with no bytes.
// A tileset the caller may not read is ENOTFOUND.
func (s *Service) Tile(ctx context.Context, view *onemap.View, set string, t maptile.Tile) (Served, error) {
	ts, err := s.Tileset(view, set)
	if err != nil {
		return Served{}, err
	}
	variant := ts.Variant
	// A caller that sees a part of the county (a viewer, a grid worker or
	// an operator bound to a grid, a commander bound to a region) is
	// served that part's tiles (ServiceConfig.View): they are cached as
	// that part's.
	if g := view.Grid(); g != 0 && ts.Name != SetPublic {
		variant += ":" + strconv.FormatInt(g, 10)
	}
	key := CacheKey{Tileset: ts.Name, Variant: variant, Tile: t}
	if e, ok := s.cache.Get(key); ok {
		if len(e.MVT) > 0 && e.repacked.CompareAndSwap(false, true) {
			s.repack(key, e) // served a second time: worth smaller bytes
		}
		return Served{Entry: e, Hit: true}, nil
	}
	if s.cache.max <= 0 && s.cfg.Renderer == RenderReplica {
		return s.uncached(ctx, view.Caller(), ts, t)
	}
	replica := s.cfg.Renderer == RenderReplica || view.Grid() != 0
	if replica {
		if err := s.admit(ctx); err != nil {
			return Served{}, err
		}
	}
	gen := s.cache.Gen() // before the data the tile is cut from
	start := time.Now()
	mvt, err := s.render(ctx, view, ts, t)
	took := time.Since(start)
	var e *Entry
	if err == nil {
		e = s.entry(mvt)
	}
	if replica {
		s.leave()
	}
	if err != nil {
		return Served{}, err
	}
	s.cache.Put(key, e, gen)
	return Served{Entry: e, Render: took}, nil
}

// uncached renders a tile from the replica when no cache keeps tiles:
// into pooled memory, which Served.Release hands back.
func (s *Service) uncached(ctx context.Context, caller onemap.Caller, ts *Tileset, t maptile.Tile) (Served, error) {
	if ts.Name == SetPublic {
		caller = onemap.Caller{Role: onemap.RolePublic} // public data, the same for everyone
	}
	if err := s.admit(ctx); err != nil {
		return Served{}, err
	}
	defer s.leave()
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
	e := newEntry(nil, nil) // empty: served as 204
	if len(mvt) > 0 {
		buf.gz = s.gzip(buf.gz[:0], mvt)
		e = newEntry(mvt, buf.gz)
	}
	return Served{Entry: e, Render: took, buf: buf, pool: &s.bufs}, nil
}

// admit waits until fewer renders than the process has CPUs are under way,
// and counts this one in; leave counts it out. Rendering and gzipping a
// tile is CPU alone: with no bound, sixteen tiles asked at once on two CPUs
// were all under way together, each at an eighth of a CPU, so that a large
// tile (a millisecond of CPU at zooms 8 to 11) took eight or more times
// its CPU time to answer, and the tail of the latencies was theirs.
// Admitted in turn, a tile waits for a CPU and then runs to its end at full
// speed. A request whose context ends while it waits is not rendered.
func (s *Service) admit(ctx context.Context) error {
	select {
	case s.renders <- struct{}{}:
		return nil
	default:
	}
	select {
	case s.renders <- struct{}{}:
		return nil
	case <-ctx.Done():
		return onemap.Errorf(onemap.EUNAVAILABLE, "the tile was not rendered: %v", ctx.Err())
	}
}

func (s *Service) leave() { <-s.renders }

// render encodes a tile with the configured renderer.
func (s *Service) render(ctx context.Context, view *onemap.View, ts *Tileset, t maptile.Tile) ([]byte, error) {
	layers := ts.byZoom[t.Z]
	// The reference renderer knows no part of the county: the tiles of
	// callers who see a part are always cut from the replica.
	if s.cfg.Renderer == RenderPostGIS && view.Grid() == 0 {
		return s.cfg.DB.Tile(ctx, t, layers)
	}
	caller := view.Caller()
	if ts.Name == SetPublic {
		caller = onemap.Caller{Role: onemap.RolePublic} // public data, the same for everyone
	}
	return s.encoder.Encode(s.cfg.View(caller), t, layers)
}

// entry prepares a tile for serving: its gzipped bytes and its tag.
func (s *Service) entry(mvt []byte) *Entry {
	if len(mvt) == 0 {
		return newEntry(mvt, nil) // served as 204
	}
	return newEntry(mvt, s.gzip(make([]byte, 0, len(mvt)/2), mvt))
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

// gzip appends mvt gzipped to dst, with klauspost/compress's stateless
// deflate: the matches of level 1 (BestSpeed) searched in a table of 8,192
// entries rather than level 1's 65,536, which stays in the CPU's caches.
// A tile is at most some tens of kilobytes, so the smaller table finds as
// many matches: over the demo county's mix of tiles (24.7 KB on average)
// the gzipped bytes are the same to within 0.2% (46.2% of the tiles'
// against level 1's 46.3%) for 0.86–0.89 of level 1's CPU time
// (TestGzipTile). Gzip writers are kept from tile to tile.
func (s *Service) gzip(dst, mvt []byte) []byte {
	zw, _ := s.gzips.Get().(*gzip.Writer)
	if zw == nil {
		zw, _ = gzip.NewWriterLevel(nil, gzip.StatelessCompression)
	}
	buf := bytes.NewBuffer(dst)
	zw.Reset(buf)
	zw.Write(mvt)
	zw.Close()
	zw.Reset(nil) // holds no tile's memory while pooled
	s.gzips.Put(zw)
	return buf.Bytes()
}

// repackLevel is the gzip level of a cached tile served again: about
// five times the CPU of the stateless deflate a tile is first gzipped with,
// once, for 10% fewer bytes every time it is served (the demo county's mix
// of tiles: 41.3% of the tiles' bytes against 46.2%; BenchmarkGzipCounty).
const repackLevel = gzip.BestCompression

// maxRepackQueue bounds the tiles waiting to be gzipped again: a tile that
// finds the queue full stays as it is until it is served again.
const maxRepackQueue = 4096

// repackJob is a cached tile to gzip again.
type repackJob struct {
	key   CacheKey
	entry *Entry
}

// repack queues a cached tile served for the second time to be gzipped
// again, harder, off the request path: a tile asked again is likely to be
// asked many more times, and each time its bytes cost the server, the
// client and the link (a phone's most of all). The first gzip stays the
// fast one, so that a tile rendered on a miss is served as soon as it is
// cut, and a tile asked once costs no more. One goroutine at most does the
// work and leaves when the queue is empty; the smaller bytes replace the
// cached ones (Cache.Replace) unless the tile has changed since. The tag
// is of the tile's bytes, so it stays.
//
// The repacker takes no place among the renders (admit): a tile that is
// not cached is what a client waits for, a recompression is what nobody
// waits for, so a miss must never queue behind one (with a place of its
// own, a recompression at level 9 of a large tile, some milliseconds, held
// one of a two-CPU server's two places, and a miss that came meanwhile
// waited for it). Being one goroutine, it adds at most one CPU's work to
// the renders'.
func (s *Service) repack(key CacheKey, e *Entry) {
	s.repackMu.Lock()
	defer s.repackMu.Unlock()
	if len(s.repackQ) >= maxRepackQueue {
		e.repacked.Store(false) // another time
		return
	}
	s.repackQ = append(s.repackQ, repackJob{key, e})
	if !s.repacking {
		s.repacking = true
		go s.repacker()
	}
}

// WaitRepacked waits until the tiles queued to be gzipped again so far
// are done: their smaller bytes in the cache (or left out, for a tile that
// changed meanwhile). It is for tests and benchmarks, which would
// otherwise have to poll.
func (s *Service) WaitRepacked() {
	s.repackMu.Lock()
	defer s.repackMu.Unlock()
	for s.repacking {
		s.repackIdle.Wait()
	}
}

// repacker gzips the queued tiles again until the queue is empty.
func (s *Service) repacker() {
	zw, _ := gzip.NewWriterLevel(nil, repackLevel)
	for {
		s.repackMu.Lock()
		jobs := s.repackQ
		s.repackQ = nil
		if len(jobs) == 0 {
			s.repacking = false
			s.repackIdle.Broadcast()
			s.repackMu.Unlock()
			return
		}
		s.repackMu.Unlock()
		for _, j := range jobs {
			if s.repackHook != nil {
				s.repackHook()
			}
			buf := bytes.NewBuffer(make([]byte, 0, len(j.entry.Gzip)))
			zw.Reset(buf)
			zw.Write(j.entry.MVT)
			zw.Close()
			if gz := buf.Bytes(); len(gz) < len(j.entry.Gzip) {
				s.cache.Replace(j.key, j.entry, j.entry.withGzip(gz))
			}
		}
	}
}

// Invalidate evicts the cached tiles whose buffered area one of bounds
// meets (a change's old and new bounds), and returns how many.
func (s *Service) Invalidate(bounds ...orb.Bound) int { return s.cache.Invalidate(bounds...) }

// CacheStats tells what the tile cache did, and how many of its tiles wait
// to be gzipped again (RepackQueued).
func (s *Service) CacheStats() CacheStats {
	st := s.cache.Stats()
	s.repackMu.Lock()
	st.RepackQueued = len(s.repackQ)
	s.repackMu.Unlock()
	return st
}
