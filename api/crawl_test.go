package api_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// TestPublicCrawl requests, as the public, every tile of the county at
// zooms 6 to 14 of both tilesets it may open, and checks each against the
// policy: only the layers the public may read, only their public fields,
// grids of the public levels only, and none of the values the policy keeps
// from the public.
func TestPublicCrawl(t *testing.T) {
	srv, db := serveAccounts(t, api.Config{})
	catalog := onemap.NewCatalog()
	policy := onemap.DefaultPolicy()
	replica := inmem.New(catalog)
	if err := replica.LoadFrom(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	markers := sensitiveMarkers(t, db, catalog, policy, replica.Snapshot(), 0)[onemap.RolePublic]
	reg, err := db.FindRegion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]map[string]bool{}
	for _, l := range policy.Readable(onemap.RolePublic, catalog) {
		allowed[l.ID] = map[string]bool{}
		for _, f := range l.Fields {
			if policy.Field(onemap.RolePublic, &l, f.Name) == onemap.FieldAllow {
				allowed[l.ID][f.Name] = true
			}
		}
	}
	levels := policy.Rule(onemap.RolePublic, onemap.LayerGrids).Levels
	b := newBrowser(t, srv.URL)
	tilesN, features := 0, 0
	for z := maptile.Zoom(6); z <= 14; z++ {
		min := maptile.At(orb.Point{reg.Bound.Min.Lon(), reg.Bound.Max.Lat()}, z)
		max := maptile.At(orb.Point{reg.Bound.Max.Lon(), reg.Bound.Min.Lat()}, z)
		for x := min.X; x <= max.X; x++ {
			for y := min.Y; y <= max.Y; y++ {
				for _, set := range []string{"all", "public"} {
					path := fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", set, z, x, y)
					resp, body := b.do("GET", path, "", "Accept-Encoding", "identity")
					tilesN++
					checkAnswer(t, onemap.RolePublic, path, resp, body, markers)
					if resp.StatusCode == 204 {
						continue
					}
					if resp.StatusCode != 200 {
						t.Fatalf("%s = %d %s", path, resp.StatusCode, body)
					}
					layers, err := mvt.Unmarshal(body)
					if err != nil {
						t.Fatalf("%s: %v", path, err)
					}
					for _, l := range layers {
						fields, ok := allowed[l.Name]
						if !ok {
							t.Fatalf("%s: layer %s is not the public's", path, l.Name)
						}
						for _, f := range l.Features {
							features++
							for k, v := range f.Properties {
								// Counts by level where the public reads the level.
								byLevel := strings.HasPrefix(k, tiles.LevelCountPrefix) && fields["level"]
								if !fields[k] && k != "point_count" && !byLevel {
									t.Fatalf("%s: %s feature carries field %s", path, l.Name, k)
								}
								if l.Name == onemap.LayerGrids && k == "level" && !slices.Contains(levels, fmt.Sprint(v)) {
									t.Fatalf("%s: a %v grid reaches the public", path, v)
								}
							}
						}
					}
				}
			}
		}
	}
	if features == 0 || t.Failed() {
		t.Fatalf("crawled %d tiles, %d features", tilesN, features)
	}
	t.Logf("crawled %d public tiles (zooms 6-14) holding %d features: nothing the policy keeps from the public", tilesN, features)
}
