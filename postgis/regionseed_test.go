package postgis_test

import (
	"context"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// TestDB_SeedPrefecture checks the prefecture seed through the steps it
// shares with the county seed: each county's grid tree under the
// prefecture grid, each county's points in its own grids, and a second
// seed refused (or skipped with ifEmpty) before any plan is asked.
func TestDB_SeedPrefecture(t *testing.T) {
	ctx := context.Background()
	url := pgtest.PrefectureURL(t)
	db := pgtest.Open(t, url)
	conn := seedConn(t, url)

	const prefecture = "532300000000"
	under := seedCounts(t, conn, `SELECT c.code, count(*) FROM grids c JOIN grids p ON p.id = c.parent_id
		WHERE c.level = 'county' AND p.level = 'prefecture' AND p.code = $1 GROUP BY c.code`, prefecture)
	for _, county := range []string{pgtest.PrefectureCountyA, pgtest.PrefectureCountyB} {
		code := onemap.Region{Code: county}.GridCode()
		if under[code] != 1 {
			t.Errorf("county grid %s under the prefecture grid: %d, want 1 (all: %v)", code, under[code], under)
		}
		// Each county's cameras fall in its own villages (grid codes begin
		// with the county's six digits).
		n := seedScalar[int](t, conn, `SELECT count(*) FROM cameras c JOIN grids g ON g.id = c.grid_id WHERE left(g.code, 6) = $1`, county)
		if n == 0 {
			t.Errorf("county %s: no cameras in its grids", county)
		}
	}
	seedNone(t, conn, "a point in no grid", `SELECT 'risk_points', id FROM risk_points WHERE grid_id IS NULL
		UNION ALL SELECT 'cameras', id FROM cameras WHERE grid_id IS NULL
		UNION ALL SELECT 'stations', id FROM stations WHERE grid_id IS NULL`)

	asked := false
	plans := []func(onemap.SeedKinds) (*onemap.Seed, error){func(onemap.SeedKinds) (*onemap.Seed, error) {
		asked = true
		return nil, nil
	}}
	rep, err := db.SeedPrefecture(ctx, "532300", "楚雄彝族自治州", plans, true)
	if err != nil || !rep.Skipped {
		t.Errorf("second seed with ifEmpty: %+v, %v; want skipped", rep, err)
	}
	_, err = db.SeedPrefecture(ctx, "532300", "楚雄彝族自治州", plans, false)
	if onemap.ErrorCode(err) != onemap.ECONFLICT || !strings.Contains(err.Error(), "demo prefecture") {
		t.Errorf("second seed: %v, want %s naming the demo prefecture", err, onemap.ECONFLICT)
	}
	if asked {
		t.Error("a plan was asked for rows on a database that holds data")
	}
}
