package tiles

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// TestEncode_shapesStable checks that tiles do not depend on which tiles
// shaped the polygons first: the same tiles, encoded in another order from
// an empty cache, are the same bytes.
func TestEncode_shapesStable(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 5))
	src, specs := syntheticCounty(t, 0, 400)
	list := tilesAround(8, 16, 2)
	encodeAll := func() map[maptile.Tile][]byte {
		e := NewEncoder(64 << 20)
		out := map[maptile.Tile][]byte{}
		for _, tile := range list {
			b, err := e.Encode(src, tile, specs)
			if err != nil {
				t.Fatalf("Encode(%v): %v", tile, err)
			}
			out[tile] = b
		}
		return out
	}
	first := encodeAll()
	rng.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
	second := encodeAll()
	for _, tile := range list {
		if !bytes.Equal(first[tile], second[tile]) {
			t.Errorf("tile %v: %d bytes, then %d", tile, len(first[tile]), len(second[tile]))
		}
		// Nor on whether shapes are kept at all.
		if uncached := mustEncode(t, src, tile, specs...); !bytes.Equal(first[tile], uncached) {
			t.Errorf("tile %v: %d bytes with shapes kept, %d without", tile, len(first[tile]), len(uncached))
		}
	}
}

// TestShapeCache checks that the cache keeps within its bound and lets go of
// the shapes of records that are gone.
func TestShapeCache(t *testing.T) {
	grids := catalogLayer(t, onemap.LayerGrids)
	tile := maptile.At(orb.Point{102.4, 25.55}, 12)
	c := newShapeCache(16 << 10)
	for i := range 200 {
		r := record(t, grids, int64(i), tilePolygon(tile, box(10, 10, 1000, 900)), nil)
		mp := orb.MultiPolygon{r.Geometry.(orb.Polygon)}
		s := c.get(r, mp, geomOf(r.Geometry.(orb.Polygon)), 12, tolerance)
		if s == nil || len(s.mp) != 1 {
			t.Fatalf("shape %+v, want one polygon", s)
		}
		if again := c.get(r, mp, geomOf(r.Geometry.(orb.Polygon)), 12, tolerance); again != s {
			t.Fatalf("the shape was made again")
		}
		c.mu.Lock()
		size := c.size
		c.mu.Unlock()
		if size > c.max {
			t.Fatalf("after %d records the cache holds %d bytes, more than its %d", i+1, size, c.max)
		}
	}
	// The records are gone: their cleanups empty the cache.
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		c.mu.Lock()
		n, size := len(c.records), c.size
		c.mu.Unlock()
		if n == 0 && size == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records (%d bytes) still cached after their records are gone", n, size)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestShapeCache_addressTaken checks that a record is not given the shapes
// of another that had its address: the entry found at a record's address is
// used only if it was made from that record's very geometry. Here the other
// record's entry is planted at the address, as when a record is made where
// one freed was and the freed one's cleanup has yet to run.
func TestShapeCache_addressTaken(t *testing.T) {
	grids := catalogLayer(t, onemap.LayerGrids)
	tile := maptile.At(orb.Point{102.4, 25.55}, 12)
	c := newShapeCache(16 << 20)
	small := record(t, grids, 1, tilePolygon(tile, box(10, 10, 100, 90)), nil)
	large := record(t, grids, 2, tilePolygon(tile, box(10, 10, 1000, 900)), nil)
	get := func(r *onemap.Record) *shape {
		g := r.Geometry.(orb.Polygon)
		return c.get(r, orb.MultiPolygon{g}, geomOf(g), 12, tolerance)
	}
	want := get(large).bound
	old := get(small)
	c.mu.Lock()
	c.records[uintptr(unsafe.Pointer(large))] = c.records[uintptr(unsafe.Pointer(small))]
	c.mu.Unlock()
	if got := get(large); got == old || got.bound != want {
		t.Fatalf("the record got the shape of the one whose entry was at its address: bound %v, want %v", got.bound, want)
	}
	// A record that shares another's geometry (a new version with other
	// values) may use its shapes.
	same := *small
	c.mu.Lock()
	c.records[uintptr(unsafe.Pointer(&same))] = c.records[uintptr(unsafe.Pointer(small))]
	c.mu.Unlock()
	if got := get(&same); got != old {
		t.Fatalf("a record of the same geometry was shaped again")
	}
	runtime.KeepAlive(small)
}

// TestEncode_concurrent encodes tiles from several goroutines at once, as a
// server does, for the race detector: they share shapes and counts.
func TestEncode_concurrent(t *testing.T) {
	src, specs := syntheticCounty(t, 3000, 400)
	list := tilesAround(9, 15, 1)
	want := encodedAll(t, src, specs, list)
	e := NewEncoder(64 << 20)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range list {
				tile := list[(i+g*len(list)/4)%len(list)]
				b, err := e.Encode(src, tile, specs)
				if err != nil || !bytes.Equal(b, want[tile]) {
					t.Errorf("tile %v: %d bytes (%v), want %d", tile, len(b), err, len(want[tile]))
				}
			}
		})
	}
	wg.Wait()
}

// tilesAround returns the tiles at zooms zmin to zmax within r tiles of
// the synthetic county's centre (102.35, 25.7), each zoom's in rows.
func tilesAround(zmin, zmax maptile.Zoom, r int) []maptile.Tile {
	var list []maptile.Tile
	for z := zmin; z <= zmax; z++ {
		c := maptile.At(orb.Point{102.35, 25.7}, z)
		for dx := -r; dx <= r; dx++ {
			for dy := -r; dy <= r; dy++ {
				list = append(list, maptile.New(uint32(int(c.X)+dx), uint32(int(c.Y)+dy), z))
			}
		}
	}
	return list
}

// encodedAll returns each tile of list as Encode (no shapes kept, no
// dictionary) makes it: what an Encoder's tiles are held to.
func encodedAll(t *testing.T, src Source, specs []onemap.TileLayer, list []maptile.Tile) map[maptile.Tile][]byte {
	t.Helper()
	want := make(map[maptile.Tile][]byte, len(list))
	for _, tile := range list {
		want[tile] = mustEncode(t, src, tile, specs...)
	}
	return want
}
