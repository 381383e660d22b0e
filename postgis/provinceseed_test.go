package postgis_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/paulmach/orb"
)

// TestSeedProvince: the demo prefecture gets its province above it, the
// province's outline the prefecture's when none is given (the stand-in),
// synthetic and recorded as seeded; seeding again adds nothing; a given
// outline is used; a missing prefecture is ENOTFOUND.
func TestSeedProvince(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	db := pgtest.Open(t, url)
	if err := db.SetEnvelope(ctx, orb.Bound{Min: orb.Point{100, 24}, Max: orb.Point{104, 27}}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var pref int64
	if err := conn.QueryRow(ctx, `INSERT INTO grids (level, code, name, geom)
		VALUES ('prefecture', '532300000000', '楚雄彝族自治州', ST_Multi(ST_MakeEnvelope(100.5, 24.5, 102.5, 26.5, 4326))) RETURNING id`).Scan(&pref); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO grids (level, code, name, parent_id, geom)
		VALUES ('county', '532329000000', '武定县', $1, ST_Multi(ST_MakeEnvelope(101.9, 25.3, 102.4, 26.1, 4326)))`, pref); err != nil {
		t.Fatal(err)
	}

	added, err := db.SeedProvince(ctx, "530000", "云南省", "532300", nil)
	if err != nil || !added {
		t.Fatalf("SeedProvince: added %v, %v", added, err)
	}
	var (
		prov             int64
		level, name      string
		synthetic, equal bool
		parent           *int64
		provParent       *int64
	)
	if err := conn.QueryRow(ctx, `SELECT g.id, g.level, g.name, g.synthetic, g.parent_id, ST_Equals(g.geom, p.geom), p.parent_id
		FROM grids g, grids p WHERE g.code = '530000000000' AND p.id = $1`, pref).
		Scan(&prov, &level, &name, &synthetic, &provParent, &equal, &parent); err != nil {
		t.Fatal(err)
	}
	if level != "province" || name != "云南省" || !synthetic || provParent != nil || !equal || parent == nil || *parent != prov {
		t.Errorf("province: level %s, name %s, synthetic %v, parent %v, outline the prefecture's %v; the prefecture's parent %v, want %d",
			level, name, synthetic, provParent, equal, parent, prov)
	}
	var reason string
	if err := conn.QueryRow(ctx, `SELECT reason_code FROM feature_history WHERE layer = 'grids' AND feature_id = $1 ORDER BY version LIMIT 1`, prov).Scan(&reason); err != nil {
		t.Fatal(err)
	}
	if reason != onemap.ReasonSeed {
		t.Errorf("the province's history says %q, want %q", reason, onemap.ReasonSeed)
	}

	// again: nothing added, nothing changed
	if added, err := db.SeedProvince(ctx, "530000", "云南省", "532300", nil); err != nil || added {
		t.Errorf("SeedProvince again: added %v, %v; want nothing added", added, err)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM grids WHERE level = 'province'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d province grids (%v), want 1", n, err)
	}

	// a given outline is the province's
	if _, err := conn.Exec(ctx, `INSERT INTO grids (level, code, name, geom)
		VALUES ('prefecture', '532500000000', '红河州', ST_Multi(ST_MakeEnvelope(102.6, 24.5, 102.9, 24.9, 4326)))`); err != nil {
		t.Fatal(err)
	}
	outline := orb.MultiPolygon{orb.Polygon{{{102.5, 24.4}, {103, 24.4}, {103, 25}, {102.5, 25}, {102.5, 24.4}}}}
	if added, err := db.SeedProvince(ctx, "520000", "贵州省", "532500", outline); err != nil || !added {
		t.Fatalf("SeedProvince with an outline: added %v, %v", added, err)
	}
	var area float64
	if err := conn.QueryRow(ctx, `SELECT ST_Area(geom) FROM grids WHERE code = '520000000000'`).Scan(&area); err != nil || area < 0.299 || area > 0.301 {
		t.Errorf("the given outline's area %v (%v), want 0.3 square degrees", area, err)
	}

	if _, err := db.SeedProvince(ctx, "530000", "云南省", "539900", nil); onemap.ErrorCode(err) != onemap.ENOTFOUND {
		t.Errorf("a missing prefecture: %v, want ENOTFOUND", err)
	}
}
