package postgis_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/migrations"
	"github.com/onemapgis/onemap/postgis"
)

// schemaOf describes a database's schema: every column, constraint, index
// and trigger, and the applied migrations.
const schemaOf = `SELECT string_agg(x, E'\n' ORDER BY x) FROM (
	SELECT format('column %s.%s %s %s', table_name, column_name, data_type, is_nullable) AS x
	  FROM information_schema.columns WHERE table_schema = 'public'
	UNION ALL SELECT format('constraint %s %s', conrelid::regclass, pg_get_constraintdef(oid))
	  FROM pg_constraint WHERE connamespace = 'public'::regnamespace
	UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
	UNION ALL SELECT format('trigger %s on %s', tgname, tgrelid::regclass) FROM pg_trigger WHERE NOT tgisinternal
	UNION ALL SELECT 'migration ' || name FROM schema_migrations) s`

func TestMigrate_twiceChangesNothing(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.EmptyURL(t))
	if err := db.Migrate(ctx, migrations.FS); err != nil {
		t.Fatalf("first migrate: %v", err)
	}
	var first, second string
	if err := db.QueryRowForTest(ctx, schemaOf).Scan(&first); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, migrations.FS); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if err := db.QueryRowForTest(ctx, schemaOf).Scan(&second); err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Errorf("second migrate changed the schema:\nbefore:\n%s\nafter:\n%s", first, second)
	}
	var n int
	if err := db.QueryRowForTest(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	files, _ := migrations.FS.ReadDir(".")
	if want := len(files); n != want {
		t.Errorf("schema_migrations holds %d rows, want %d", n, want)
	}
}

func TestMigrate_concurrent(t *testing.T) {
	ctx := context.Background()
	url := pgtest.EmptyURL(t)
	const servers = 4
	var wg sync.WaitGroup
	errs := make([]error, servers)
	for i := range servers {
		db := pgtest.Open(t, url)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Migrate(ctx, migrations.FS)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrator %d: %v", i, err)
		}
	}
	var n int
	db := pgtest.Open(t, url)
	if err := db.QueryRowForTest(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Errorf("no migration was recorded")
	}
}

// TestMigrate_noStatementTimeout runs a migration longer than the pool's
// statement timeout: a backfill over a large county must not be cancelled
// halfway by the timeout meant for requests. The timeout is long enough for
// the migrator's own bookkeeping statements on a busy machine (50 ms was
// passed there at a load average of 40); the migration sleeps three times
// as long.
func TestMigrate_noStatementTimeout(t *testing.T) {
	ctx := context.Background()
	db, err := postgis.Open(ctx, pgtest.EmptyURL(t), onemap.NewCatalog(), slog.New(slog.NewTextHandler(io.Discard, nil)),
		postgis.Options{StatementTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	slow := fstest.MapFS{"0001_slow.sql": {Data: []byte(`CREATE TABLE slow AS SELECT 1 AS x FROM pg_sleep(1.5)`)}}
	if err := db.Migrate(ctx, slow); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	var n int
	if err := db.QueryRowForTest(ctx, `SELECT count(*) FROM slow`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("slow holds %d rows (%v), want 1", n, err)
	}
}
