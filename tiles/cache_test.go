package tiles

import (
	"fmt"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

func entry(n int) *Entry { return newEntry(make([]byte, n), nil) }

func TestCache_lru(t *testing.T) {
	size := entry(1000).size() // its bytes, its tag and entryOverhead
	c := NewCache(100 * size)
	for i := range 150 {
		c.Put(CacheKey{Tileset: "all", Tile: maptile.New(uint32(i), 0, 10)}, entry(1000), c.Gen())
	}
	s := c.Stats()
	if s.Entries != 100 || s.Evicted != 50 || s.Bytes > 100*size {
		t.Errorf("stats %+v; want 100 entries after 50 evictions", s)
	}
	if _, ok := c.Get(CacheKey{Tileset: "all", Tile: maptile.New(0, 0, 10)}); ok {
		t.Error("the least recently used tile is still cached")
	}
	if _, ok := c.Get(CacheKey{Tileset: "all", Tile: maptile.New(149, 0, 10)}); !ok {
		t.Error("the most recent tile is not cached")
	}
}

func TestCache_invalidate(t *testing.T) {
	c := NewCache(1 << 30)
	p := orb.Point{102.25, 25.55} // in Wuding
	var touched, near []CacheKey
	for z := maptile.Zoom(0); z <= 18; z++ {
		at := maptile.At(p, z)
		for dx := -2; dx <= 2; dx++ {
			for dy := -2; dy <= 2; dy++ {
				tile := maptile.New(uint32(int(at.X)+dx), uint32(int(at.Y)+dy), z)
				if int(at.X)+dx < 0 || int(at.Y)+dy < 0 || int(at.X)+dx >= 1<<z || int(at.Y)+dy >= 1<<z {
					continue
				}
				for _, v := range []string{"commander", "public"} {
					k := CacheKey{Tileset: "all", Variant: v, Tile: tile}
					c.Put(k, entry(10), c.Gen())
					// The point is in the tile or its buffer: 1/16 of a tile.
					b := tile.Bound()
					pad := (b.Max.Lon() - b.Min.Lon()) / 16
					bb := b.Pad(pad)
					if dx == 0 && dy == 0 || z > 0 && contains(bb, p) {
						touched = append(touched, k)
					} else {
						near = append(near, k)
					}
				}
			}
		}
	}
	n := c.Invalidate(p.Bound())
	if n < len(touched) {
		t.Errorf("evicted %d tiles, want at least the %d that hold the point", n, len(touched))
	}
	for _, k := range touched {
		if _, ok := c.Get(k); ok {
			t.Errorf("tile %v holds the changed point and is still cached", k)
		}
	}
	kept := 0
	for _, k := range near {
		if _, ok := c.Get(k); ok {
			kept++
		}
	}
	if kept < len(near)*3/4 {
		t.Errorf("kept %d of %d tiles that do not hold the point", kept, len(near))
	}
}

// contains is a latitude-approximate test, good enough away from buffer edges.
func contains(b orb.Bound, p orb.Point) bool { return b.Contains(p) }

func TestCache_refusesStaleRender(t *testing.T) {
	c := NewCache(1 << 20)
	k := CacheKey{Tileset: "all", Tile: maptile.At(orb.Point{102.25, 25.55}, 14)}
	far := CacheKey{Tileset: "all", Tile: maptile.At(orb.Point{100, 24}, 14)}
	gen := c.Gen() // a render starts
	c.Invalidate(orb.Point{102.25, 25.55}.Bound())
	c.Put(k, entry(10), gen) // and ends after a change touched its tile
	c.Put(far, entry(10), gen)
	if _, ok := c.Get(k); ok {
		t.Error("a tile rendered before a change that touched it was cached")
	}
	if _, ok := c.Get(far); !ok {
		t.Error("a tile the change did not touch was refused")
	}
	// A render older than every remembered invalidation is refused.
	for i := range recentInvalidations + 1 {
		c.Invalidate(orb.Point{-170 + float64(i%300), 0}.Bound())
	}
	c.Put(far, entry(10), gen)
	if s := c.Stats(); s.Refused != 2 {
		t.Errorf("refused %d, want 2", s.Refused)
	}
}

func TestTileRange(t *testing.T) {
	for _, tc := range []struct {
		b    orb.Bound
		z    maptile.Zoom
		want string
	}{
		{orb.Point{90, -45}.Bound(), 1, "1 1 1 1"},
		{orb.Point{0.0001, -0.0001}.Bound(), 1, "0 0 1 1"}, // in the buffer of all four
		{orb.Point{0, 0}.Bound(), 1, "0 0 1 1"},            // on the corner of four tiles
		{orb.Bound{Min: orb.Point{-180, -85.06}, Max: orb.Point{180, 85.06}}, 3, "0 0 7 7"},
	} {
		x0, y0, x1, y1 := tileRange(tc.b, tc.z)
		if got := fmt.Sprint(x0, y0, x1, y1); got != tc.want {
			t.Errorf("tileRange(%v, %d) = %s, want %s", tc.b, tc.z, got, tc.want)
		}
	}
}

// TestCache_refusesStaleRenderAtWrap: the invalidations Put remembers are a
// ring; when it first wraps, the oldest is overwritten, not the one after
// it, so a render that began just before a change under its tile is still
// refused recentInvalidations changes later.
func TestCache_refusesStaleRenderAtWrap(t *testing.T) {
	c := NewCache(1 << 20)
	tile := maptile.New(830, 440, 10)
	far := orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{0.001, 0.001}}
	c.Invalidate(far) // gen 1
	gen := c.Gen()
	c.Invalidate(tile.Bound()) // gen 2: under the tile, after its render began
	for range recentInvalidations - 1 {
		c.Invalidate(far) // gens 3 … recentInvalidations+1: the ring wraps once
	}
	c.Put(CacheKey{Tileset: "all", Tile: tile}, entry(10), gen)
	if _, ok := c.Get(CacheKey{Tileset: "all", Tile: tile}); ok {
		t.Error("a tile rendered before a change under it was cached after the ring of changes wrapped")
	}
}

// TestEntry_headerValues checks the headers' values an entry gives, made
// once by newEntry: its tag and lengths, each a slice that a value added
// to goes into a new slice of, so that a header added to one answer is not
// in the next; and none for an empty tile, which has its tag all the same.
func TestEntry_headerValues(t *testing.T) {
	mvt, gz := make([]byte, 12345), make([]byte, 678)
	e := newEntry(mvt, gz)
	want := fmt.Sprintf("[%s] [12345] [678]", e.ETag)
	for range 2 {
		tag, mvtLength, gzipLength := e.HeaderValues()
		if got := fmt.Sprint(tag, mvtLength, gzipLength); got != want || len(e.ETag) != 18 {
			t.Fatalf("header values %s, want %s (tag %s)", got, want, e.ETag)
		}
		for _, v := range [][]string{tag, mvtLength, gzipLength} {
			if cap(v) != 1 {
				t.Errorf("%q: capacity %d, want 1", v, cap(v))
			}
			_ = append(v, "added")
		}
	}
	empty := newEntry(nil, nil)
	if tag, mvtLength, gzipLength := empty.HeaderValues(); tag != nil || mvtLength != nil || gzipLength != nil || empty.ETag == "" {
		t.Errorf("an empty tile: header values %q %q %q, tag %q; want none, and a tag", tag, mvtLength, gzipLength, empty.ETag)
	}
}
