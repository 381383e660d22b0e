package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Scan runs a query of one row on the database at url, on a connection of
// its own, and scans the row's columns into dest. An error, or no row,
// fails the test with the query.
func Scan(tb testing.TB, url, sql string, args []any, dest ...any) {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, sql, args...).Scan(dest...); err != nil {
		tb.Fatalf("pgtest: %v\n%s", err, sql)
	}
}

// Value returns the one value a query of one row returns from the database
// at url (a count, an id); as Scan, an error or no row fails the test.
func Value[T any](tb testing.TB, url, sql string, args ...any) T {
	tb.Helper()
	var v T
	Scan(tb, url, sql, args, &v)
	return v
}
