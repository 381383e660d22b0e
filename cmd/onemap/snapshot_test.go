package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// TestServe_startsFromTheSnapshot: a server that found no snapshot loads
// the rows and stores one once it serves; the next server starts from it
// and replays the change made meanwhile; `onemap snapshot` stores none
// when one as new is stored, and one after a change; with
// --replica-snapshot=false a server reads the rows.
func TestServe_startsFromTheSnapshot(t *testing.T) {
	url := pgtest.DemoURL(t)
	first := startProcess(t, url)
	first.waitLog(t, "msg=\"replica snapshot\" wrote=true", 2*time.Minute)
	if !strings.Contains(first.log(), "replica load: from the rows\" why=\"replicasnap: the snapshot is not used: none is stored\"") {
		t.Errorf("the first server's log:\n%s", first.log())
	}
	if err := first.stop(t); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), `UPDATE cameras SET name = name || '新' WHERE id = (SELECT min(id) FROM cameras)`); err != nil {
		t.Fatal(err)
	}
	second := startProcess(t, url)
	if log := second.log(); !strings.Contains(log, "replica load: from the snapshot\"") || !strings.Contains(log, "replayed=1 ") {
		t.Errorf("the second server's log:\n%s", log)
	}
	if err := second.stop(t); err != nil {
		t.Fatal(err)
	}
	snapshot := func() string {
		t.Helper()
		var out strings.Builder
		if err := run(t.Context(), []string{"onemap", "snapshot", "--log-level", "warn"}, env(map[string]string{"ONEMAP_DATABASE_URL": url}), nil, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	// The second server stored none: it started from a snapshot.
	if out := snapshot(); !strings.Contains(out, "stored the replica's snapshot") {
		t.Errorf("onemap snapshot after a change = %q", out)
	}
	if out := snapshot(); !strings.Contains(out, "or later is stored already") {
		t.Errorf("onemap snapshot again = %q", out)
	}
	third := startProcess(t, url, "--replica-snapshot=false")
	if !strings.Contains(third.log(), "replica load: from the rows\" why=off") {
		t.Errorf("the third server's log:\n%s", third.log())
	}
	if err := third.stop(t); err != nil {
		t.Fatal(err)
	}
}
