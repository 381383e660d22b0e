package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
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

// snapshotWriter stores the replica's snapshot in the background when one
// is due (replicasnap.Policy): it looks when asked — after a change of op
// onemap.OpReload (a bulk load) is applied — and at every tick, and
// writes only if the stored snapshot is missing, a layer was reloaded
// after it, the feed holds many changes after it, or it is old. After a
// start from the rows that found the stored snapshot unusable (damaged,
// or of another layer definition: nothing the policy sees), it is asked
// to write whatever the policy says. Asks while it writes make one more
// look.
type snapshotWriter struct {
	db      *postgis.DB
	catalog *onemap.Catalog
	replica *inmem.Replica
	log     *slog.Logger
	policy  replicasnap.Policy
	now     func() time.Time // the policy's clock
	ticks   <-chan time.Time // periodic looks; nil: none
	kick    chan struct{}    // an ask
	force   atomic.Bool      // the next look writes whatever the policy says
	looked  func(wrote bool) // called after each look (tests); nil: none
}

func newSnapshotWriter(db *postgis.DB, catalog *onemap.Catalog, replica *inmem.Replica, log *slog.Logger, ticks <-chan time.Time) *snapshotWriter {
	return &snapshotWriter{db: db, catalog: catalog, replica: replica, log: log, now: time.Now, ticks: ticks, kick: make(chan struct{}, 1)}
}

// ask asks for a look; it never waits. A nil writer does nothing.
func (w *snapshotWriter) ask() {
	if w == nil {
		return
	}
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// askForced asks for a write, whatever the policy says.
func (w *snapshotWriter) askForced() {
	if w == nil {
		return
	}
	w.force.Store(true)
	w.ask()
}

// onApply asks for a look if changes hold a reload.
func (w *snapshotWriter) onApply(changes []onemap.Change) {
	for _, c := range changes {
		if c.Op == onemap.OpReload {
			w.ask()
			return
		}
	}
}

// run looks when asked and at every tick until ctx ends.
func (w *snapshotWriter) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
		case <-w.ticks:
		}
		w.look(ctx)
	}
}

// look writes the snapshot if one is due, or if forced.
func (w *snapshotWriter) look(ctx context.Context) {
	start := time.Now()
	snap := w.replica.Snapshot()
	var (
		wrote bool
		why   string
		err   error
	)
	if w.force.Swap(false) {
		why = "the stored one was not usable"
		wrote, err = replicasnap.Write(ctx, w.db, w.catalog, snap)
	} else {
		wrote, why, err = replicasnap.WriteIfDue(ctx, w.db, w.catalog, snap, w.policy, w.now())
	}
	if w.looked != nil {
		defer w.looked(wrote)
	}
	switch {
	case err != nil:
		if ctx.Err() == nil {
			w.log.Warn("replica snapshot: writing failed", "error", err)
		}
	case wrote:
		w.log.Info("replica snapshot", "wrote", wrote, "seq", snap.Seq(), "why", why, "took", time.Since(start).Round(time.Millisecond))
	default:
		w.log.Debug("replica snapshot", "wrote", wrote, "seq", snap.Seq(), "why", why)
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
