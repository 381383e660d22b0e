package tiles

import (
	"container/list"
	"math"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// CacheKey names one cached tile: the tile and what decides its content
// besides the data (the tileset and the variant of it a role is served).
type CacheKey struct {
	Tileset string
	Variant string
	Tile    maptile.Tile
}

// Entry is a cached tile: its bytes, gzipped bytes (nil when the tile is
// empty) and entity tag. Make it with newEntry; it must not be changed.
type Entry struct {
	MVT  []byte
	Gzip []byte
	ETag string
	// The values of the answer's ETag header and of its Content-Length
	// as MVT and as Gzip, made once (newEntry) for every time the tile
	// is served: a cached tile's answer then allocates none of them. Nil
	// for an empty tile, which is served as 204 with no headers of its
	// own.
	etag, mvtLength, gzipLength []string
	// repacked says that the gzipped bytes are to be left as they are:
	// recompressed harder once already, or queued for it (Service.repack).
	repacked atomic.Bool
}

// newEntry returns the entry of a tile's bytes and gzipped bytes (none for
// an empty tile): its tag, and its headers' values when it is not empty.
// It is the one way an Entry is made.
func newEntry(mvt, gz []byte) *Entry {
	e := &Entry{MVT: mvt, Gzip: gz, ETag: etag(mvt)}
	if len(mvt) > 0 {
		one := func(v string) []string { return []string{v}[:1:1] }
		e.etag, e.mvtLength, e.gzipLength = one(e.ETag), one(strconv.Itoa(len(mvt))), one(strconv.Itoa(len(gz)))
	}
	return e
}

// withGzip returns an entry of the same tile with other gzipped bytes of
// it: the same tag and the same MVT's length (both of the tile's bytes),
// gz's length. It is marked repacked.
func (e *Entry) withGzip(gz []byte) *Entry {
	n := &Entry{MVT: e.MVT, Gzip: gz, ETag: e.ETag, etag: e.etag, mvtLength: e.mvtLength,
		gzipLength: []string{strconv.Itoa(len(gz))}[:1:1]}
	n.repacked.Store(true)
	return n
}

// HeaderValues returns the values of the ETag header and of the
// Content-Length of MVT and of Gzip, as a header map holds them, made once
// (newEntry); nil for an empty tile. Each is a slice of one value whose
// capacity is its length, so that a header added to one (Header.Add) goes
// into a new slice; they must not be changed.
func (e *Entry) HeaderValues() (etag, mvtLength, gzipLength []string) {
	return e.etag, e.mvtLength, e.gzipLength
}

func (e *Entry) size() int64 { return int64(len(e.MVT)+len(e.Gzip)+len(e.ETag)) + entryOverhead }

// entryOverhead is roughly what an entry costs beyond its bytes: the key, the
// list element, the map slots and its headers' values.
const entryOverhead = 384

// invalidation is one change's bound, at the generation it was made.
type invalidation struct {
	gen   uint64
	bound orb.Bound
}

// recentInvalidations is how many invalidations Put remembers; a render that
// began before the oldest of them is not cached.
const recentInvalidations = 4096

type cached struct {
	key   CacheKey
	entry *Entry
	elem  *list.Element
}

// Cache holds encoded tiles within a memory bound, least recently used
// first out, and evicts exactly the tiles whose buffered area a change's old
// or new bound meets. A renderer reads Gen before it takes the snapshot it
// renders from and hands it to Put, so that a tile rendered from data that a
// concurrent change has since made stale is not cached. It is safe for
// concurrent use.
type Cache struct {
	mu     sync.Mutex
	max    int64
	size   int64
	lru    *list.List // of *cached, most recent first
	byKey  map[CacheKey]*cached
	byZoom [MaxZoom + 1]map[[2]uint32][]*cached
	gen    uint64
	recent []invalidation // ring, by gen
	stats  CacheStats
}

// CacheStats counts what a cache did.
type CacheStats struct {
	Hits, Misses, Evicted, Invalidated, Refused int64
	// Repacked counts the cached tiles whose gzipped bytes were replaced
	// by smaller ones (Service.repack), and RepackSaved the bytes saved.
	Repacked, RepackSaved int64
	Entries               int
	Bytes                 int64
	// RepackQueued is how many cached tiles wait to be gzipped again
	// (Service.CacheStats; a Cache alone queues none).
	RepackQueued int
}

// NewCache returns a cache that holds at most maxBytes; 0 or less caches
// nothing.
func NewCache(maxBytes int64) *Cache {
	c := &Cache{max: maxBytes, lru: list.New(), byKey: map[CacheKey]*cached{}}
	for z := range c.byZoom {
		c.byZoom[z] = map[[2]uint32][]*cached{}
	}
	return c
}

// Gen returns the cache's generation: the count of invalidations so far.
func (c *Cache) Gen() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// Get returns the cached tile.
func (c *Cache) Get(k CacheKey) (*Entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[k]
	if !ok {
		c.stats.Misses++
		return nil, false
	}
	c.stats.Hits++
	c.lru.MoveToFront(e.elem)
	return e.entry, true
}

// Put caches a tile rendered from data read after Gen returned gen. It
// refuses the tile if a change since then touched it.
func (c *Cache) Put(k CacheKey, e *Entry, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.size() > c.max/8 {
		return // nothing that would crowd out the rest
	}
	if gen != c.gen {
		if len(c.recent) == 0 || c.gen-gen > uint64(len(c.recent)) {
			c.stats.Refused++
			return
		}
		for _, inv := range c.recent {
			if inv.gen > gen && touches(inv.bound, k.Tile) {
				c.stats.Refused++
				return
			}
		}
	}
	if old, ok := c.byKey[k]; ok {
		c.remove(old)
	}
	v := &cached{key: k, entry: e}
	v.elem = c.lru.PushFront(v)
	c.byKey[k] = v
	xy := [2]uint32{k.Tile.X, k.Tile.Y}
	c.byZoom[k.Tile.Z][xy] = append(c.byZoom[k.Tile.Z][xy], v)
	c.size += e.size()
	for c.size > c.max {
		c.remove(c.lru.Back().Value.(*cached))
		c.stats.Evicted++
	}
}

// Replace puts entry new in the place of old, the cached tile of key k,
// where it is in the order of use, and says whether it did: not when k's
// tile is no longer old (evicted, invalidated or cached again since).
func (c *Cache) Replace(k CacheKey, old, new *Entry) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.byKey[k]
	if !ok || v.entry != old {
		return false
	}
	c.size += new.size() - old.size()
	v.entry = new
	c.stats.Repacked++
	c.stats.RepackSaved += int64(len(old.Gzip) - len(new.Gzip))
	return true
}

// Invalidate evicts every tile whose buffered area meets one of the bounds
// (WGS-84) and returns how many it evicted.
func (c *Cache) Invalidate(bounds ...orb.Bound) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, b := range bounds {
		c.gen++
		inv := invalidation{gen: c.gen, bound: b}
		if len(c.recent) < recentInvalidations {
			c.recent = append(c.recent, inv)
		} else {
			c.recent[(c.gen-1)%recentInvalidations] = inv // where gen c.gen-recentInvalidations was
		}
		for z := range c.byZoom {
			tiles := c.byZoom[z]
			if len(tiles) == 0 {
				continue
			}
			x0, y0, x1, y1 := tileRange(b, maptile.Zoom(z))
			if (x1-x0+1)*(y1-y0+1) <= uint64(len(tiles)) {
				for x := x0; x <= x1; x++ {
					for y := y0; y <= y1; y++ {
						for _, v := range tiles[[2]uint32{uint32(x), uint32(y)}] {
							c.remove(v)
							n++
						}
					}
				}
				continue
			}
			for xy, vs := range tiles {
				if uint64(xy[0]) >= x0 && uint64(xy[0]) <= x1 && uint64(xy[1]) >= y0 && uint64(xy[1]) <= y1 {
					for _, v := range vs {
						c.remove(v)
						n++
					}
				}
			}
		}
	}
	c.stats.Invalidated += int64(n)
	return n
}

// Stats returns what the cache did so far and holds now.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries, s.Bytes = len(c.byKey), c.size
	return s
}

func (c *Cache) remove(v *cached) {
	if _, ok := c.byKey[v.key]; !ok {
		return
	}
	delete(c.byKey, v.key)
	c.lru.Remove(v.elem)
	c.size -= v.entry.size()
	xy := [2]uint32{v.key.Tile.X, v.key.Tile.Y}
	vs := c.byZoom[v.key.Tile.Z][xy]
	for i := range vs {
		if vs[i] == v {
			vs = append(vs[:i], vs[i+1:]...)
			break
		}
	}
	if len(vs) == 0 {
		delete(c.byZoom[v.key.Tile.Z], xy)
	} else {
		c.byZoom[v.key.Tile.Z][xy] = vs
	}
}

// bufferFraction is the tile buffer as a fraction of a tile.
const bufferFraction = float64(onemap.TileBuffer) / onemap.TileExtent

// tileRange returns the tiles at zoom z whose buffered area meets b.
func tileRange(b orb.Bound, z maptile.Zoom) (x0, y0, x1, y1 uint64) {
	n := math.Exp2(float64(z))
	fx := func(lon float64) float64 { return (lon + 180) / 360 * n }
	fy := func(lat float64) float64 {
		lat = math.Max(math.Min(lat, 85.0511287798066), -85.0511287798066)
		s := math.Sin(lat * math.Pi / 180)
		return (0.5 - math.Log((1+s)/(1-s))/(4*math.Pi)) * n
	}
	clamp := func(v float64) uint64 { return uint64(math.Max(0, math.Min(v, n-1))) }
	x0 = clamp(math.Floor(fx(b.Min.Lon()) - bufferFraction))
	x1 = clamp(math.Floor(fx(b.Max.Lon()) + bufferFraction))
	y0 = clamp(math.Floor(fy(b.Max.Lat()) - bufferFraction))
	y1 = clamp(math.Floor(fy(b.Min.Lat()) + bufferFraction))
	return x0, y0, x1, y1
}

// touches reports whether b meets tile t's buffered area.
func touches(b orb.Bound, t maptile.Tile) bool {
	x0, y0, x1, y1 := tileRange(b, t.Z)
	return uint64(t.X) >= x0 && uint64(t.X) <= x1 && uint64(t.Y) >= y0 && uint64(t.Y) <= y1
}
