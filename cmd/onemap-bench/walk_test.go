package main

import (
	"slices"
	"testing"

	"github.com/onemapgis/onemap/demo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

func wudingBound(t *testing.T) orb.Bound {
	t.Helper()
	d, err := demo.Wuding()
	if err != nil {
		t.Fatal(err)
	}
	return d.Outline.Bound()
}

func TestTileRequests_deterministic(t *testing.T) {
	w := countyWalk(wudingBound(t))
	a, va := tileRequests(w, 1, 3000)
	b, vb := tileRequests(w, 1, 3000)
	if !slices.Equal(a, b) || va != vb {
		t.Fatal("the same seed gave different lists")
	}
	c, _ := tileRequests(w, 2, 3000)
	if slices.Equal(a, c) {
		t.Error("seeds 1 and 2 gave the same list")
	}
	short, _ := tileRequests(w, 1, 100)
	if !slices.Equal(short, a[:100]) {
		t.Error("a shorter list is not the start of the longer one")
	}
}

func TestTileRequests_insideCounty(t *testing.T) {
	bound := wudingBound(t)
	w := countyWalk(bound)
	list, viewports := tileRequests(w, 1, 3000)
	if len(list) != 3000 {
		t.Fatalf("got %d requests, want 3000", len(list))
	}
	if viewports < 100 {
		t.Errorf("only %d viewports: the walk barely moves", viewports)
	}
	byZoom := map[maptile.Zoom]int{}
	for _, tile := range list {
		if tile.Z < 8 || tile.Z > 16 {
			t.Fatalf("tile %v: zoom outside 8–16", tile)
		}
		if !tile.Valid() {
			t.Fatalf("tile %v is not valid", tile)
		}
		if !tile.Bound().Intersects(bound) {
			t.Fatalf("tile %v (%v) lies outside the county (%v)", tile, tile.Bound(), bound)
		}
		byZoom[tile.Z]++
	}
	mid := byZoom[12] + byZoom[13] + byZoom[14] + byZoom[15]
	if mid*2 < len(list) {
		t.Errorf("zooms 12–15 have %d of %d requests (%v), want most", mid, len(list), byZoom)
	}
	for z := maptile.Zoom(8); z <= 16; z++ {
		if byZoom[z] == 0 {
			t.Errorf("no request at zoom %d (%v)", z, byZoom)
		}
	}
	// The county is small (77 tiles at zoom 12): a user who looks around it
	// for hundreds of viewports comes back to tiles.
	if n := distinct(list); n < len(list)/4 {
		t.Errorf("only %d distinct tiles of %d", n, len(list))
	}
}

func TestWalk_tiles(t *testing.T) {
	bound := orb.Bound{Min: orb.Point{102, 25}, Max: orb.Point{103, 26}}
	w := countyWalk(bound)
	centre := maptile.Fraction(orb.Point{102.5, 25.5}, 0)
	// At zoom 14 a 1280×800 px screen of 512 px tiles shows 2.5×1.56
	// tiles: 3 or 4 columns and 2 or 3 rows.
	ts := w.tiles(viewport{centre: centre, zoom: 14})
	if len(ts) < 6 || len(ts) > 12 {
		t.Fatalf("%d tiles at zoom 14, want 6 to 12: %v", len(ts), ts)
	}
	if want := maptile.At(orb.Point{102.5, 25.5}, 14); ts[0] != want {
		t.Errorf("first tile %v, want the one under the centre %v", ts[0], want)
	}
	// At zoom 8 the screen is wider than the area: only the tiles that
	// meet it.
	for _, tile := range w.tiles(viewport{centre: centre, zoom: 8.2}) {
		if !tile.Bound().Intersects(bound) {
			t.Errorf("tile %v lies outside %v", tile, bound)
		}
	}
}

func TestReflect(t *testing.T) {
	for _, tt := range []struct{ v, want float64 }{{0.5, 0.5}, {-0.2, 0.2}, {1.3, 0.7}, {2.5, 0.5}} {
		if got := reflect(tt.v, 0, 1); got < tt.want-1e-12 || got > tt.want+1e-12 {
			t.Errorf("reflect(%v, 0, 1) = %v, want %v", tt.v, got, tt.want)
		}
	}
}
