package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
)

// databaseExists says whether the server of admin holds a database name.
func databaseExists(t *testing.T, admin, name string) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)`, name).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestSeededCounty checks the modes' one set-up: a migrated database with
// the demo county, a pool and a connection on it, all gone after the
// cleanup.
func TestSeededCounty(t *testing.T) {
	admin := pgtest.AdminURL(t)
	ctx := context.Background()
	b := &bench{out: io.Discard, progress: io.Discard}
	st, cleanup, err := b.seededCounty(ctx, admin, "test", false, 2)
	if err != nil {
		t.Fatal(err)
	}
	if st.Demo == nil || st.Log == nil {
		t.Fatal("no demo or no log")
	}
	var grids int
	if err := st.Conn.QueryRow(ctx, `SELECT count(*) FROM grids`).Scan(&grids); err != nil {
		t.Fatal(err)
	}
	if grids == 0 {
		t.Error("no grids seeded")
	}
	if seq, err := st.DB.LatestSeq(ctx); err != nil || seq == 0 {
		t.Errorf("the pool sees change feed seq %d (%v), want the seed's", seq, err)
	}
	if got := st.DB.PoolStat().MaxConns; got != 2 {
		t.Errorf("pool of %d connections, want 2", got)
	}
	cleanup()
	if !st.Conn.IsClosed() {
		t.Error("the connection is open after the cleanup")
	}
	if databaseExists(t, admin, st.name) {
		t.Errorf("database %s is left after the cleanup", st.name)
	}
}

// TestMigratedDB_keep checks that --keep keeps the database past the
// cleanup.
func TestMigratedDB_keep(t *testing.T) {
	admin := pgtest.AdminURL(t)
	ctx := context.Background()
	b := &bench{out: io.Discard, progress: io.Discard}
	st, cleanup, err := b.migratedDB(ctx, admin, "test_keep", true, postgis.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	if st.Demo != nil {
		t.Error("migratedDB seeded a county")
	}
	cleanup()
	if !databaseExists(t, admin, st.name) {
		t.Fatalf("database %s dropped despite keep", st.name)
	}
	if err := st.drop(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestMigratedDB_errorCleansUp checks that a set-up that fails part way
// leaves no database behind and hands back no cleanup.
func TestMigratedDB_errorCleansUp(t *testing.T) {
	admin := pgtest.AdminURL(t)
	ctx := context.Background()
	b := &bench{out: io.Discard, progress: io.Discard}
	// A negative statement timeout is refused by the server, so the pool
	// fails to open after the database was created.
	st, cleanup, err := b.migratedDB(ctx, admin, "test_fail", false, postgis.Options{StatementTimeout: -time.Second})
	if err == nil {
		cleanup()
		t.Fatalf("no error; database %s", st.name)
	}
	if cleanup != nil {
		t.Error("a cleanup handed back with the error")
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var left int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname LIKE 'onemap_bench_test_fail_%'`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d databases left behind", left)
	}
}

// TestProvinceDB checks the bulk and startup modes' one province set-up
// (its region part setProvinceRegion, which the province mode shares):
// the region is Yunnan's, the grids are counties × (1 + 10 townships ×
// (1 + 10 villages × (1 + groups))) and analysed, and the printout names
// them.
func TestProvinceDB(t *testing.T) {
	admin := pgtest.AdminURL(t)
	ctx := context.Background()
	var out strings.Builder
	b := &bench{out: &out, progress: io.Discard}
	st, cleanup, err := b.migratedDB(ctx, admin, "test_province", false, postgis.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	grids, err := b.provinceDB(ctx, st, provinceFlags{Counties: 2, GroupsPerVill: 3}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * (1 + 10*(1+10*(1+3))); grids != want {
		t.Errorf("%d grids, want %d", grids, want)
	}
	var (
		n        int
		code     string
		analysed bool
		covered  bool
	)
	if err := st.Conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM grids), r.code,
		(SELECT last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'grids'),
		(SELECT bool_and(ST_CoveredBy(g.geom, r.envelope)) FROM grids g)
		FROM region r`).Scan(&n, &code, &analysed, &covered); err != nil {
		t.Fatal(err)
	}
	if n != grids || code != "530000" || !analysed || !covered {
		t.Errorf("grids %d (said %d), region %q, analysed %v, inside the envelope %v", n, grids, code, analysed, covered)
	}
	if s := out.String(); !strings.Contains(s, "PostGIS") || !strings.Contains(s, thousands(grids)+" in 2 counties") {
		t.Errorf("printout %q", s)
	}
}
