package tiles

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// fakeDB is a reference renderer that says which layers it was asked for.
type fakeDB struct{ asked [][]onemap.TileLayer }

func (f *fakeDB) Tile(_ context.Context, _ maptile.Tile, layers []onemap.TileLayer) ([]byte, error) {
	f.asked = append(f.asked, layers)
	return []byte{1, 2, 3}, nil
}

// TestService checks the tile path the server takes: a tileset resolved
// against the policy for the caller (layers it may not read are absent,
// fields it may not see left out), the caller's view of the replica, the
// cache and its invalidation, and the reference renderer's turn.
func TestService(t *testing.T) {
	src, _ := syntheticCounty(t, 3000, 50)
	catalog, policy := onemap.NewCatalog(), onemap.DefaultPolicy()
	viewerSrc := memSource{} // a viewer's part: the even grids
	for _, r := range src[onemap.LayerGrids] {
		if r.ID%2 == 0 {
			viewerSrc[onemap.LayerGrids] = append(viewerSrc[onemap.LayerGrids], r)
		}
	}
	var views []onemap.Caller
	svc := NewService(ServiceConfig{Catalog: catalog, Policy: policy, CacheBytes: 64 << 20,
		View: func(c onemap.Caller) Source {
			views = append(views, c)
			if c.Role == onemap.RoleViewer && c.GridID != 0 {
				return viewerSrc
			}
			return src
		}})
	ctx := t.Context()
	tile := maptile.At(orb.Point{102.35, 25.7}, 11) // groups are drawn from 11
	commander := policy.View(catalog, onemap.Caller{Name: "c", Role: onemap.RoleCommander})
	public := policy.View(catalog, onemap.Caller{Role: onemap.RolePublic})
	viewer := policy.View(catalog, onemap.Caller{Name: "v", Role: onemap.RoleViewer, GridID: 7})

	got, err := svc.Tile(ctx, commander, SetAll, tile)
	if err != nil || got.Hit || len(got.MVT) == 0 || len(got.Gzip) == 0 || got.ETag == "" {
		t.Fatalf("commander's first tile: hit %v, %d bytes, %d gzipped, tag %q, %v", got.Hit, len(got.MVT), len(got.Gzip), got.ETag, err)
	}
	layers := decode(t, got.MVT)
	if layers[onemap.LayerCameras] == nil {
		t.Fatalf("the commander's tile lacks cameras: %v", keys(layers))
	}
	again, err := svc.Tile(ctx, commander, SetAll, tile)
	if err != nil || !again.Hit || again.Entry != got.Entry {
		t.Fatalf("the same tile again: hit %v, same entry %v, %v", again.Hit, again.Entry == got.Entry, err)
	}

	pub, err := svc.Tile(ctx, commander, SetPublic, tile)
	if err != nil {
		t.Fatal(err)
	}
	for name, l := range decode(t, pub.MVT) {
		if name != onemap.LayerStations && name != onemap.LayerGrids {
			t.Errorf("the public tileset has layer %s", name)
		}
		gl, _ := catalog.Layer(name)
		for _, f := range l.Features {
			for k := range f.Properties {
				if fl, ok := gl.Field(k); ok && fl.Class != onemap.ClassPublic {
					t.Errorf("the public tileset carries %s.%s (%s)", name, k, fl.Class)
				}
			}
		}
	}
	if p2, _ := svc.Tile(ctx, public, SetPublic, tile); !p2.Hit || !bytes.Equal(p2.MVT, pub.MVT) {
		t.Errorf("the public tileset is not one cached tile for everyone (hit %v)", p2.Hit)
	}
	if _, err := svc.Tile(ctx, public, onemap.LayerCameras, tile); onemap.ErrorCode(err) != onemap.ENOTFOUND {
		t.Errorf("the public asking for cameras: %v, want ENOTFOUND", err)
	}

	v, err := svc.Tile(ctx, viewer, onemap.LayerGrids, tile)
	if err != nil {
		t.Fatal(err)
	}
	if last := views[len(views)-1]; last != viewer.Caller() {
		t.Errorf("the viewer's tile was cut from the view of %+v", last)
	}
	all, _ := svc.Tile(ctx, commander, onemap.LayerGrids, tile)
	vl := decode(t, v.MVT)[onemap.LayerGrids]
	n, m := featureCount(vl), featureCount(decode(t, all.MVT)[onemap.LayerGrids])
	if n < 1 || m <= n {
		t.Errorf("the viewer's tile has %d grids of its part, the commander's %d", n, m)
	}
	for _, f := range vl.Features {
		if id, ok := f.ID.(float64); !ok || int64(id)%2 != 0 {
			t.Errorf("the viewer's tile has grid %v, outside its part (the even grids)", f.ID)
		}
	}
	va, err := svc.Tile(ctx, viewer, SetAll, tile)
	if err != nil {
		t.Fatal(err)
	}
	if l := decode(t, va.MVT)[onemap.LayerCameras]; l != nil {
		t.Errorf("the viewer's tileset carries %d cameras", len(l.Features))
	}

	// A change under the tile evicts it; one elsewhere does not.
	if n := svc.Invalidate(orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{1, 1}}); n != 0 {
		t.Errorf("a change far away evicted %d tiles", n)
	}
	if n := svc.Invalidate(tile.Bound()); n < 5 {
		t.Errorf("a change under the tile evicted %d tiles, want its 5 (commander's two, public, viewer's two)", n)
	}
	if after, _ := svc.Tile(ctx, commander, SetAll, tile); after.Hit {
		t.Error("the tile is still cached after a change under it")
	}
	if st := svc.CacheStats(); st.Hits < 2 || st.Invalidated < 5 {
		t.Errorf("cache stats %+v", st)
	}

	// The reference renderer renders all tiles but viewers'.
	db := &fakeDB{}
	ref := NewService(ServiceConfig{Catalog: catalog, Policy: policy, Renderer: RenderPostGIS, DB: db,
		View: func(onemap.Caller) Source { return viewerSrc }})
	if got, err := ref.Tile(ctx, commander, SetAll, tile); err != nil || !bytes.Equal(got.MVT, []byte{1, 2, 3}) || len(db.asked) != 1 {
		t.Fatalf("the reference renderer was not asked: %v, %v", got.MVT, err)
	}
	if _, err := ref.Tile(ctx, viewer, SetAll, tile); err != nil || len(db.asked) != 1 {
		t.Errorf("a viewer's tile went to the reference renderer (%d asks, %v)", len(db.asked), err)
	}
}

// TestService_regionCommander checks the tiles of a commander bound to a
// region (a county or prefecture grid), who sees that region alone as a
// viewer sees its part: they are cut from the region's part and cached as
// its, neither taken from nor given to an unbound commander's cache, and
// never rendered by the reference renderer, which knows no part. (The
// service once keyed its cache by role and grid-bound roles only: the
// region's commander was served the whole county's cached tile.)
func TestService_regionCommander(t *testing.T) {
	src, _ := syntheticCounty(t, 3000, 50)
	catalog, policy := onemap.NewCatalog(), onemap.DefaultPolicy()
	region := memSource{} // the region's part: the even grids
	for _, r := range src[onemap.LayerGrids] {
		if r.ID%2 == 0 {
			region[onemap.LayerGrids] = append(region[onemap.LayerGrids], r)
		}
	}
	view := func(c onemap.Caller) Source { // as the server cuts a caller's part
		if policy.View(catalog, c).Grid() != 0 {
			return region
		}
		return src
	}
	tile := maptile.At(orb.Point{102.35, 25.7}, 11)
	whole := policy.View(catalog, onemap.Caller{Name: "c", Role: onemap.RoleCommander})
	bound := policy.View(catalog, onemap.Caller{Name: "r", Role: onemap.RoleCommander, GridID: 7})
	grids := func(e Served) int { return featureCount(decode(t, e.MVT)[onemap.LayerGrids]) }

	svc := NewService(ServiceConfig{Catalog: catalog, Policy: policy, CacheBytes: 64 << 20, View: view})
	w, err := svc.Tile(t.Context(), whole, SetAll, tile)
	if err != nil {
		t.Fatal(err)
	}
	r, err := svc.Tile(t.Context(), bound, SetAll, tile)
	if err != nil {
		t.Fatal(err)
	}
	if r.Hit || grids(r) < 1 || grids(r) >= grids(w) {
		t.Errorf("the region's commander: hit %v, %d grids; the whole county's commander %d: want the region's own tile, fewer",
			r.Hit, grids(r), grids(w))
	}
	if again, _ := svc.Tile(t.Context(), bound, SetAll, tile); !again.Hit || !bytes.Equal(again.MVT, r.MVT) {
		t.Errorf("the region's commander's tile again: hit %v, the same bytes %v", again.Hit, bytes.Equal(again.MVT, r.MVT))
	}
	if w2, _ := svc.Tile(t.Context(), whole, SetAll, tile); !w2.Hit || !bytes.Equal(w2.MVT, w.MVT) {
		t.Errorf("the whole county's tile again: hit %v, the same bytes %v", w2.Hit, bytes.Equal(w2.MVT, w.MVT))
	}

	db := &fakeDB{}
	ref := NewService(ServiceConfig{Catalog: catalog, Policy: policy, Renderer: RenderPostGIS, DB: db, View: view})
	if got, err := ref.Tile(t.Context(), bound, SetAll, tile); err != nil || len(db.asked) != 0 || grids(got) != grids(r) {
		t.Errorf("the region's commander's tile with the reference renderer: %d asks of it, %d grids (want %d), %v",
			len(db.asked), grids(got), grids(r), err)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func featureCount(l *mvt.Layer) int {
	if l == nil {
		return 0
	}
	return len(l.Features)
}

// TestService_uncached checks the tile path of a server without a tile
// cache, which encodes and gzips into memory it hands back (Release) and
// reuses: each tile, taken before its memory is handed back, has the bytes,
// gzipped bytes and tag that the cached path gives for it, whatever tiles
// were written in that memory before, and an empty tile has no bytes.
func TestService_uncached(t *testing.T) {
	src, _ := syntheticCounty(t, 3000, 50)
	cfg := ServiceConfig{Catalog: onemap.NewCatalog(), Policy: onemap.DefaultPolicy(),
		View: func(onemap.Caller) Source { return src }}
	uncached := NewService(cfg)
	cfg.CacheBytes = 64 << 20
	cached := NewService(cfg)
	commander := cfg.Policy.View(cfg.Catalog, onemap.Caller{Name: "c", Role: onemap.RoleCommander})
	center := maptile.At(orb.Point{102.35, 25.7}, 14)
	var list []maptile.Tile
	for _, z := range []maptile.Zoom{8, 11, 13, 14, 16, 4} { // zoom 4: far from the county, empty
		c := maptile.At(orb.Point{102.35, 25.7}, z)
		list = append(list, c, maptile.New(c.X+1, c.Y, z), maptile.New(c.X, c.Y+1, z))
	}
	list = append(list, center)
	empty, full := 0, 0
	for round := range 3 {
		for _, tile := range list {
			got, err := uncached.Tile(t.Context(), commander, SetAll, tile)
			if err != nil {
				t.Fatal(err)
			}
			want, err := cached.Tile(t.Context(), commander, SetAll, tile)
			if err != nil {
				t.Fatal(err)
			}
			if got.Hit || !bytes.Equal(got.MVT, want.MVT) || got.ETag != want.ETag || (got.MVT == nil) != (want.MVT == nil) {
				t.Fatalf("round %d, tile %v: hit %v, %d bytes, tag %s; cached: %d bytes, tag %s", round, tile, got.Hit,
					len(got.MVT), got.ETag, len(want.MVT), want.ETag)
			}
			if len(want.MVT) == 0 {
				empty++
				if got.Gzip != nil {
					t.Errorf("tile %v: empty, but %d gzipped bytes", tile, len(got.Gzip))
				}
			} else {
				full++
				zr, err := gzip.NewReader(bytes.NewReader(got.Gzip))
				if err != nil {
					t.Fatal(err)
				}
				if unzipped, err := io.ReadAll(zr); err != nil || !bytes.Equal(unzipped, want.MVT) {
					t.Fatalf("tile %v: the gzipped bytes are not the tile's (%v)", tile, err)
				}
			}
			got.Release()
		}
	}
	if empty == 0 || full == 0 {
		t.Fatalf("%d empty and %d full tiles: want some of each", empty, full)
	}
}
