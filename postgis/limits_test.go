package postgis_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
)

// TestOpen_statementTimeout: every connection of the pool carries the
// statement timeout, and a statement past it is cut off by the database and
// reported as unavailable (503 with Retry-After), not as an internal error.
func TestOpen_statementTimeout(t *testing.T) {
	url := pgtest.URL(t)
	db, err := postgis.Open(context.Background(), url, onemap.NewCatalog(),
		slog.New(slog.NewTextHandler(io.Discard, nil)), postgis.Options{StatementTimeout: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got string
	if err := db.QueryRowForTest(t.Context(), `SHOW statement_timeout`).Scan(&got); err != nil || got != "250ms" {
		t.Fatalf("statement_timeout = %q, %v; want 250ms", got, err)
	}
	// Another session holds the change feed, so reading it waits.
	other, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.Background())
	tx, err := other.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(t.Context(), `LOCK TABLE change_feed IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	_, err = db.LatestSeq(t.Context())
	if onemap.ErrorCode(err) != onemap.EUNAVAILABLE {
		t.Errorf("a statement past statement_timeout: %v (code %q), want unavailable", err, onemap.ErrorCode(err))
	}
}
