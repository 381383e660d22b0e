package postgis_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
)

// deadPrimary opens a DB on a port where nothing listens (connections are
// refused): a primary that is down. Like a server's, it opens without a
// connection.
func deadPrimary(t *testing.T) *postgis.DB {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return openNoPing(t, "postgres://onemap@"+addr+"/onemap?connect_timeout=5")
}

// openNoPing opens url as a server opens its primary when none answers.
func openNoPing(t *testing.T, url string) *postgis.DB {
	t.Helper()
	db, err := postgis.Open(context.Background(), url, onemap.NewCatalog(), slog.New(slog.NewTextHandler(io.Discard, nil)),
		postgis.Options{NoPing: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// fallbackWorld is what the fallback tests start from: a copy of the demo
// county at url opened as the standby, its case grids, an operator's
// context and a case reported there (with a reporter's phone).
type fallbackWorld struct {
	url      string
	standby  *postgis.DB
	grids    caseGrids
	ctx      context.Context
	reported *onemap.Case
}

func newFallbackWorld(t *testing.T) fallbackWorld {
	t.Helper()
	f := fallbackWorld{url: pgtest.DemoURL(t), ctx: as("op1", onemap.RoleOperator)}
	f.standby = pgtest.Open(t, f.url)
	f.grids = demoCaseGrids(t, f.url)
	var err error
	f.reported, err = postgis.NewCases(f.standby, nil).CreateCase(f.ctx, onemap.CaseReport{Source: onemap.SourcePublic,
		Category: "sanitation", Description: "路边垃圾", Point: f.grids.inGroup, ReporterPhone: "13912345678"})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestReadFallback: while no primary answers, the reads of a DB with a
// read fallback are answered by the standby, every kind of read path
// (one row, rows, a read-only transaction), including reads that
// cmd/onemap never wrapped method by method (grid history, the grid tree,
// case categories, dispute statistics, assessment rules): the answer is
// the standby's. Without a fallback the same reads fail as unreachable.
func TestReadFallback(t *testing.T) {
	f := newFallbackWorld(t)
	standby, g, ctx, c := f.standby, f.grids, f.ctx, f.reported
	dead := deadPrimary(t)
	db := dead.WithReadFallback(standby)
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

	// Each read, asked of a DB: its answer, as something to compare.
	reads := map[string]func(*postgis.DB) (any, error){
		"GridHistory": func(d *postgis.DB) (any, error) { return d.GridHistory(ctx, g.group) },
		"GridTree":    func(d *postgis.DB) (any, error) { return d.GridTree(ctx, 0) },
		"FindGrid":    func(d *postgis.DB) (any, error) { return d.FindGrid(ctx, g.village) },
		"CaseCategories": func(d *postgis.DB) (any, error) {
			return postgis.NewCases(d, nil).CaseCategories(ctx)
		},
		"SettlementRate": func(d *postgis.DB) (any, error) { return d.SettlementRate(ctx, 0, day.AddDate(0, -1, 0), day) },
		"AssessmentRules": func(d *postgis.DB) (any, error) {
			return postgis.NewAssessments(d, nil).AssessmentRules(ctx)
		},
		// Wrapped by cmd/onemap before: still served.
		"FindCase": func(d *postgis.DB) (any, error) { return postgis.NewCases(d, nil).FindCase(ctx, c.ID) },
		"ListCases": func(d *postgis.DB) (any, error) {
			return postgis.NewCases(d, nil).ListCases(ctx, onemap.CaseFilter{Limit: 50})
		},
		"FindRegion": func(d *postgis.DB) (any, error) { return d.FindRegion(ctx) },
		"CaseStats": func(d *postgis.DB) (any, error) {
			return postgis.NewCases(d, func() time.Time { return day }).CaseStats(ctx, 0, day.AddDate(0, -1, 0), day)
		},
		"LoadPublic": func(d *postgis.DB) (any, error) { return d.LoadPublic(ctx) },
	}
	for name, read := range reads {
		t.Run(name, func(t *testing.T) {
			want, err := read(standby)
			if err != nil {
				t.Fatalf("on the standby: %v", err)
			}
			got, err := read(db)
			if err != nil {
				t.Fatalf("with the primary down: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("with the primary down: %+v\nwant the standby's %+v", got, want)
			}
			if _, err := read(dead); !postgis.Unreachable(err) {
				t.Errorf("with no fallback: %v, want unreachable", err)
			}
		})
	}
}

// TestReadFallback_writesNever: with the primary down, a write (an audit
// record, a case) and a read audited in its own transaction (a case's
// photo, its reporter's phone) are refused as unreachable, even though
// the fallback here is a database that would take them; nothing is
// written there.
func TestReadFallback_writesNever(t *testing.T) {
	f := newFallbackWorld(t)
	standby, g, ctx, c := f.standby, f.grids, f.ctx, f.reported
	before := auditCount(t, f.url)
	db := deadPrimary(t).WithReadFallback(standby)
	cs := postgis.NewCases(db, nil)
	for name, write := range map[string]func() error{
		"Audit": func() error { return db.Audit(ctx, "test.write", "cases/1", nil) },
		"CreateCase": func() error {
			_, err := cs.CreateCase(ctx, onemap.CaseReport{Source: onemap.SourcePublic, Category: "sanitation",
				Description: "又一堆", Point: g.inGroup})
			return err
		},
		"ReadCasePhone": func() error { _, err := cs.ReadCasePhone(ctx, c.ID, "callback"); return err },
		"ReadCasePhoto": func() error { _, err := cs.ReadCasePhoto(ctx, c.ID, strings.Repeat("0", 64)); return err },
	} {
		if err := write(); !postgis.Unreachable(err) {
			t.Errorf("%s with the primary down: %v, want unreachable", name, err)
		}
	}
	if n := auditCount(t, f.url); n != before {
		t.Errorf("the fallback's audit trail went from %d to %d records", before, n)
	}
}

// TestReadFallback_when: a read falls back only when no primary answered
// (refused, or only a read-only server answered a read-write dsn), never
// for a query the primary answered with an error (here: a database
// without the schema), and when the fallback fails too the primary's
// error is returned.
func TestReadFallback_when(t *testing.T) {
	demo := pgtest.DemoURL(t)
	standby := pgtest.Open(t, demo)
	empty := pgtest.EmptyURL(t)
	ctx := context.Background()
	want, err := standby.FindRegion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sep := "?"
	if strings.Contains(demo, "?") {
		sep = "&"
	}
	readOnly := openNoPing(t, demo+sep+"target_session_attrs=read-write&options=-c%20default_transaction_read_only%3Don")

	for _, tc := range []struct {
		name              string
		primary, fallback *postgis.DB
		wantErr           func(error) bool // nil: the standby's answer
	}{
		{name: "primary refused", primary: deadPrimary(t), fallback: standby},
		{name: "only a read-only server answers", primary: readOnly, fallback: standby},
		{name: "the primary answers with an error", primary: openNoPing(t, empty), fallback: standby,
			wantErr: func(err error) bool { return err != nil && !postgis.Unreachable(err) }},
		{name: "the fallback fails too", primary: deadPrimary(t), fallback: openNoPing(t, empty),
			wantErr: postgis.Unreachable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.primary.WithReadFallback(tc.fallback).FindRegion(ctx)
			if tc.wantErr != nil {
				if !tc.wantErr(err) {
					t.Errorf("got %+v, %v; want the primary's error", got, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, %v; want the standby's %+v", got, err, want)
			}
		})
	}
}

// auditCount counts the audit trail's records in the database at url.
func auditCount(t *testing.T, url string) int {
	t.Helper()
	return pgtest.Value[int](t, url, `SELECT count(*) FROM audit_log`)
}

// TestReadFallback_brokenConnection: a primary whose connection breaks
// while it runs a read (its server process terminated, as a primary
// stopped mid-query) has the read asked of the fallback: a query before
// its first row, a one-row query, and a read-only transaction that broke
// after statements had run (run again whole on the fallback). A
// read the primary answered with an error of the query is not moved.
func TestReadFallback_brokenConnection(t *testing.T) {
	ctx := context.Background()
	primary, fallback := openNoPing(t, pgtest.EmptyURL(t)), openNoPing(t, pgtest.EmptyURL(t))
	var primaryName, fallbackName string
	if err := primary.QueryRowForTest(ctx, `SELECT current_database()`).Scan(&primaryName); err != nil {
		t.Fatal(err)
	}
	if err := fallback.QueryRowForTest(ctx, `SELECT current_database()`).Scan(&fallbackName); err != nil {
		t.Fatal(err)
	}
	db := primary.WithReadFallback(fallback)
	// On the primary, the statement ends its own connection: before its
	// first row (the count reads every row of the series first).
	const dies = `SELECT current_database()::text FROM (SELECT count(*) FROM generate_series(1, 1000) g
		WHERE current_database() <> $1 OR pg_terminate_backend(pg_backend_pid())) c`

	rows, err := postgis.ReadQueryForTest(ctx, db, dies, primaryName)
	if err != nil || !reflect.DeepEqual(rows, []string{fallbackName}) {
		t.Errorf("a query: %v, %v; want the fallback's [%s]", rows, err, fallbackName)
	}
	row, err := postgis.ReadQueryRowForTest(ctx, db, dies, primaryName)
	if err != nil || row != fallbackName {
		t.Errorf("a one-row query: %q, %v; want the fallback's %q", row, err, fallbackName)
	}
	runs := 0
	got, err := postgis.ReadTxForTest(ctx, db, func(tx pgx.Tx) (string, error) {
		runs++
		var name string
		if err := tx.QueryRow(ctx, `SELECT current_database()`).Scan(&name); err != nil {
			return "", err
		}
		var out string
		err := tx.QueryRow(ctx, dies, primaryName).Scan(&out)
		return out, err
	})
	if err != nil || got != fallbackName || runs != 2 {
		t.Errorf("a transaction: %q, %v after %d runs; want the fallback's %q after 2", got, err, runs, fallbackName)
	}
	if _, err := postgis.ReadQueryForTest(ctx, primary, dies, primaryName); !postgis.Unreachable(err) {
		t.Errorf("a query with no fallback: %v, want unreachable", err)
	}

	runs = 0
	_, err = postgis.ReadTxForTest(ctx, db, func(tx pgx.Tx) (string, error) {
		runs++
		var n string
		err := tx.QueryRow(ctx, `SELECT CASE WHEN current_database() = $1 THEN 1/0 ELSE 1 END::text`, primaryName).Scan(&n)
		return n, err
	})
	if err == nil || postgis.Unreachable(err) || runs != 1 {
		t.Errorf("a wrong query: %v after %d runs; want its error after 1", err, runs)
	}
	if _, err := postgis.ReadQueryForTest(ctx, db, `SELECT CASE WHEN current_database() = $1 THEN 1/0 ELSE 1 END::text`, primaryName); err == nil {
		t.Error("a wrong query on the primary was answered by the fallback")
	}
}
