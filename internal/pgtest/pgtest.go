// Package pgtest gives each test a database of its own on a real PostgreSQL +
// PostGIS server: a fresh copy of a migrated template (URL), or of a template
// that also holds the demo county (DemoURL). The server is named by
// ONEMAP_TEST_DATABASE_URL (a URL of a maintenance database such as
// "postgres", as `scripts/db.sh` prints). Without it tests skip, except when
// CI=true, where they fail.
//
// Templates are built once per test run (ONEMAP_TEST_RUN, which `make test`
// sets) under an advisory lock, so that test binaries running side by side
// share them.
//
// It is for tests only, and it talks to PostgreSQL with pgx itself, beside
// package postgis: creating, templating and dropping databases is no work
// of the server's, and ReplicaDiff reads every layer's ids and versions
// straight from the database to hold the in-memory replica to it.
package pgtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/demo"
	"github.com/onemapgis/onemap/migrations"
	"github.com/onemapgis/onemap/postgis"
)

var counter atomic.Int64

// AdminURL returns the URL of the maintenance database, or skips (fails in
// CI) when none is configured.
func AdminURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("ONEMAP_TEST_DATABASE_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("pgtest: ONEMAP_TEST_DATABASE_URL is not set, and CI needs PostGIS: run `make test`")
		}
		tb.Skip("pgtest: ONEMAP_TEST_DATABASE_URL is not set; `make test` provisions PostGIS")
	}
	return u
}

// EmptyURL returns the URL of a new database with nothing in it, not even
// the migrations, dropped when the test ends.
func EmptyURL(tb testing.TB) string {
	tb.Helper()
	return clone(tb, "template1")
}

// URL returns the URL of a new, migrated, empty database that is dropped when
// the test ends.
func URL(tb testing.TB) string {
	tb.Helper()
	return clone(tb, template(tb, "tmpl", nil))
}

// DemoURL returns the URL of a new database that holds the demo county,
// dropped when the test ends.
func DemoURL(tb testing.TB) string {
	tb.Helper()
	return clone(tb, template(tb, "demo", func(ctx context.Context, db *postgis.DB) error {
		d, err := demo.Wuding()
		if err != nil {
			return err
		}
		_, err = db.Seed(ctx, d.SeedRows, false)
		return err
	}))
}

// Open opens a pool on url and closes it when the test ends.
func Open(tb testing.TB, url string) *postgis.DB {
	tb.Helper()
	// A server's 30 s statement timeout is for production; a loaded test
	// machine seeds the demo county's 15,128 cameras in one statement, which
	// may take longer. Tests of the timeout itself set their own.
	db, err := postgis.Open(context.Background(), url, onemap.NewCatalog(), slog.New(slog.NewTextHandler(io.Discard, nil)),
		postgis.Options{StatementTimeout: 5 * time.Minute})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(db.Close)
	return db
}

// runID names this test run's templates.
func runID() string {
	if id := os.Getenv("ONEMAP_TEST_RUN"); id != "" {
		return id
	}
	// Outside `make test`, templates are keyed by the test binary itself, so
	// a changed program never meets a stale template.
	h := sha256.New()
	if exe, err := os.Executable(); err == nil {
		if f, err := os.Open(exe); err == nil {
			io.Copy(h, f)
			f.Close()
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func withDB(u, name string) string {
	p, err := url.Parse(u)
	if err != nil {
		panic(err)
	}
	p.Path = "/" + name
	return p.String()
}

func template(tb testing.TB, kind string, fill func(context.Context, *postgis.DB) error) string {
	tb.Helper()
	admin := AdminURL(tb)
	ctx := context.Background()
	name := "onemap_" + kind + "_" + strings.ToLower(strings.NewReplacer("-", "_", ".", "_").Replace(runID()))
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext('onemap.pgtest'))`); err != nil {
		tb.Fatal(err)
	}
	defer conn.Exec(ctx, `SELECT pg_advisory_unlock(hashtext('onemap.pgtest'))`)
	var ready bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)`, name).Scan(&ready); err != nil {
		tb.Fatal(err)
	}
	if ready {
		return name
	}
	ident := pgx.Identifier{name}.Sanitize()
	conn.Exec(ctx, `DROP DATABASE IF EXISTS `+ident+` WITH (FORCE)`)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+ident); err != nil {
		tb.Fatalf("pgtest: create template: %v", err)
	}
	start := time.Now()
	db := Open(tb, withDB(admin, name))
	if err := db.Migrate(ctx, migrations.FS); err != nil {
		tb.Fatalf("pgtest: migrate template: %v", err)
	}
	if fill != nil {
		if err := fill(ctx, db); err != nil {
			tb.Fatalf("pgtest: fill template %s: %v", kind, err)
		}
	}
	db.Close()
	if _, err := conn.Exec(ctx, `ALTER DATABASE `+ident+` WITH IS_TEMPLATE true`); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("pgtest: built template %s in %v", name, time.Since(start).Round(time.Millisecond))
	return name
}

func clone(tb testing.TB, tmpl string) string {
	tb.Helper()
	admin := AdminURL(tb)
	ctx := context.Background()
	name := fmt.Sprintf("onemap_t_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, counter.Add(1))
	ident := pgx.Identifier{name}.Sanitize()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	// CREATE DATABASE fails while another session is copying the same
	// template; retry for a while.
	for i := 0; ; i++ {
		_, err = conn.Exec(ctx, `CREATE DATABASE `+ident+` TEMPLATE `+pgx.Identifier{tmpl}.Sanitize())
		if err == nil {
			break
		}
		if i == 100 {
			tb.Fatalf("pgtest: create database: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), `DROP DATABASE IF EXISTS `+ident+` WITH (FORCE)`)
	})
	return withDB(admin, name)
}
