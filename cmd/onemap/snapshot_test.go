package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/replicasnap"
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
	renameFirstCamera(t, url)
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

// TestSnapshotWriter_due: the writer stores a snapshot at a tick only when
// the policy says one is due — on its injected clock, once the stored one
// is MaxAge old with a change after it — and, asked after a start that
// found the stored one unusable, writes whatever the policy says.
func TestSnapshotWriter_due(t *testing.T) {
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	catalog := onemap.NewCatalog()
	replica := inmem.New(catalog)
	if err := replica.LoadFrom(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	ticks := make(chan time.Time)
	w := newSnapshotWriter(db, catalog, replica, slog.New(slog.DiscardHandler), ticks)
	now := time.Now()
	w.now = func() time.Time { return now }
	w.policy = replicasnap.Policy{MaxAge: time.Hour}
	looked := make(chan bool)
	w.looked = func(wrote bool) { looked <- wrote }
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); w.run(ctx) }()
	defer func() { stop(); <-done }()
	look := func(name string, kick func(), want bool) {
		t.Helper()
		kick()
		if got := <-looked; got != want {
			t.Errorf("%s: wrote %v, want %v", name, got, want)
		}
	}
	tick := func() { ticks <- now }
	look("none stored", tick, true)
	look("as new as the replica", tick, false)
	renameFirstCamera(t, url)
	changes, err := db.Changes(t.Context(), replica.Snapshot().Seq(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := replica.ApplyFeed(t.Context(), db, changes); err != nil {
		t.Fatal(err)
	}
	look("a change after it, young", tick, false)
	now = now.Add(59 * time.Minute)
	look("a change after it, 59 minutes old", tick, false)
	now = now.Add(2 * time.Minute)
	look("a change after it, an hour old", tick, true)
	now = time.Now()                   // the stored one was just written
	look("forced", w.askForced, false) // as new a one is stored: Write itself declines
	execSQL(t, url, `UPDATE replica_snapshot SET seq = seq - 1`)
	look("behind by one, young", w.ask, false)
	look("behind by one, forced", w.askForced, true)
	// A database restored from a backup older than its stored snapshot:
	// the snapshot is ahead of the feed, and replaced at the next look.
	execSQL(t, url, `UPDATE replica_snapshot SET seq = seq + 1000`)
	look("ahead of the feed", w.ask, true)
	look("then as new as the replica", w.ask, false)
}

// renameFirstCamera changes the name of the camera of the lowest id: one
// change in the feed.
func renameFirstCamera(t *testing.T, url string) {
	t.Helper()
	execSQL(t, url, `UPDATE cameras SET name = name || '新' WHERE id = (SELECT min(id) FROM cameras)`)
}

// execSQL runs the statement on a connection of its own.
func execSQL(t *testing.T, url, sql string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
