package postgis_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/paulmach/orb"
)

// TestGridLevels_regions: the grid tree takes a province and a prefecture
// above the county (a county under a prefecture, a prefecture under a
// province, a county or a prefecture at the top) and refuses what breaks
// the order, with the constraint that names the parent.
func TestGridLevels_regions(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	db := pgtest.Open(t, url)
	if err := db.SetEnvelope(ctx, orb.Bound{Min: orb.Point{100, 24}, Max: orb.Point{103, 27}}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	box := func(x0, y0, x1, y1 float64) string {
		return "ST_Multi(ST_MakeEnvelope(" + strings.Join([]string{fmtFloat(x0), fmtFloat(y0), fmtFloat(x1), fmtFloat(y1)}, ",") + ", 4326))"
	}
	insert := func(level, code string, parent *int64, geom string) (int64, error) {
		var id int64
		err := conn.QueryRow(ctx, `INSERT INTO grids (level, code, name, parent_id, geom) VALUES ($1, $2, $2, $3, `+geom+`) RETURNING id`,
			level, code, parent).Scan(&id)
		return id, err
	}
	prov, err := insert("province", "530000000000", nil, box(100, 24, 103, 27))
	if err != nil {
		t.Fatalf("a province at the top: %v", err)
	}
	pref, err := insert("prefecture", "532300000000", &prov, box(100.5, 24.5, 102.5, 26.5))
	if err != nil {
		t.Fatalf("a prefecture under the province: %v", err)
	}
	if _, err := insert("county", "532329000000", &pref, box(101.9, 25.3, 102.4, 26.1)); err != nil {
		t.Fatalf("a county under the prefecture: %v", err)
	}
	if _, err := insert("county", "532328000000", nil, box(101.5, 25.3, 101.8, 26.1)); err != nil {
		t.Fatalf("a county at the top (a deployment of one county): %v", err)
	}
	if _, err := insert("prefecture", "532500000000", nil, box(102.6, 24.5, 102.9, 24.9)); err != nil {
		t.Fatalf("a prefecture at the top: %v", err)
	}
	for _, tc := range []struct {
		level, code string
		parent      *int64
		want        string
	}{
		{"county", "532301000000", &prov, "grids_parent_level"},       // a county needs a prefecture above it
		{"prefecture", "532600000000", &pref, "grids_parent_level"},   // a prefecture needs a province
		{"province", "540000000000", &pref, "grids_province_is_root"}, // a province has no parent
		{"township", "532329101000", nil, "grids_parent_level"},       // a township needs a parent
		{"township", "532329102000", &pref, "grids_parent_level"},     // … and it is a county
	} {
		_, err := insert(tc.level, tc.code, tc.parent, box(101.95, 25.35, 102.0, 25.4))
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.ConstraintName != tc.want {
			t.Errorf("%s %s: %v, want a refusal by %s", tc.level, tc.code, err, tc.want)
		}
	}
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
