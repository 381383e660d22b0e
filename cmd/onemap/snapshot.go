package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/postgis"
	"github.com/onemapgis/onemap/replicasnap"
)

// runSnapshot is `onemap snapshot`: it loads the replica from the rows and
// stores its snapshot, from which servers then start (replicasnap).
func runSnapshot(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	f := newFlags("snapshot", "snapshot [flags]", getenv, stderr)
	f.database(&c)
	f.integer(&c.LoadGOGC, "load-gogc", 400, "the collector's target (GOGC, percent) while the replica loads (0: leave GOGC as it is)")
	if err := f.parse(args); err != nil {
		return ignoreHelp(err)
	}
	db, log, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	catalog := onemap.NewCatalog()
	replica := inmem.NewWith(catalog, replicaOptions(&c))
	start := time.Now()
	if err := replica.LoadFrom(ctx, db); err != nil {
		return fmt.Errorf("snapshot: load the replica: %w", err)
	}
	loaded := time.Since(start)
	wrote, err := replicasnap.Write(ctx, db, catalog, replica.Snapshot())
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	log.Info("replica snapshot", "wrote", wrote, "seq", replica.Snapshot().Seq(), "load", loaded.Round(time.Millisecond),
		"write", (time.Since(start) - loaded).Round(time.Millisecond))
	if wrote {
		fmt.Fprintf(stdout, "onemap: stored the replica's snapshot at change %d\n", replica.Snapshot().Seq())
	} else {
		fmt.Fprintf(stdout, "onemap: a snapshot at change %d or later is stored already (or being written)\n", replica.Snapshot().Seq())
	}
	return nil
}

// snapshotWriter stores the replica's snapshot in the background when
// asked: after a start-up from the rows, and after a change of op
// onemap.OpReload (a bulk load) is applied, so that the next server
// starts from a snapshot close to the feed's head. Asks while it writes
// make one more write.
type snapshotWriter struct {
	db      *postgis.DB
	catalog *onemap.Catalog
	replica *inmem.Replica
	log     *slog.Logger
	kick    chan struct{}
}

func newSnapshotWriter(db *postgis.DB, catalog *onemap.Catalog, replica *inmem.Replica, log *slog.Logger) *snapshotWriter {
	return &snapshotWriter{db: db, catalog: catalog, replica: replica, log: log, kick: make(chan struct{}, 1)}
}

// ask asks for a write; it never waits. A nil writer does nothing.
func (w *snapshotWriter) ask() {
	if w == nil {
		return
	}
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// onApply asks for a write if changes hold a reload.
func (w *snapshotWriter) onApply(changes []onemap.Change) {
	for _, c := range changes {
		if c.Op == onemap.OpReload {
			w.ask()
			return
		}
	}
}

// run writes when asked until ctx ends.
func (w *snapshotWriter) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
		}
		start := time.Now()
		snap := w.replica.Snapshot()
		wrote, err := replicasnap.Write(ctx, w.db, w.catalog, snap)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Warn("replica snapshot: writing failed", "error", err)
			}
			continue
		}
		w.log.Info("replica snapshot", "wrote", wrote, "seq", snap.Seq(), "took", time.Since(start).Round(time.Millisecond))
	}
}

// snapshotSource is the database the replica loads from, as feedSource:
// the standby's with --read-database-url, else the primary.
func snapshotSource(w *standbyWatch, primary *postgis.DB) *postgis.DB {
	if w != nil {
		return w.db
	}
	return primary
}
