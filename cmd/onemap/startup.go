package main

import (
	"log/slog"
	"time"

	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/replicasnap"
)

// startupClock times the phases of a server's start-up, to log them once
// it serves: at province scale (millions of features) the start-up is
// minutes unless each phase is watched.
type startupClock struct {
	start, last time.Time
	attrs       []any
}

func newStartupClock() *startupClock {
	now := time.Now()
	return &startupClock{start: now, last: now}
}

// done ends the phase named, which began where the last one ended.
func (c *startupClock) done(phase string) {
	now := time.Now()
	c.attrs = append(c.attrs, phase, now.Sub(c.last).Round(time.Millisecond))
	c.last = now
}

// log logs the phases and the whole start-up.
func (c *startupClock) log(log *slog.Logger) {
	log.Info("start-up", append(c.attrs, "took", time.Since(c.start).Round(time.Millisecond))...)
}

// logReplicaLoad logs where the replica load's time went: the read, each
// layer's indexing and the tallies.
func logReplicaLoad(log *slog.Logger, t inmem.LoadTimes) {
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	for _, l := range t.Layers {
		log.Info("replica load: indexed a layer", "layer", l.ID, "records", l.Records, "at", r(l.At), "index", r(l.Index), "names", r(l.Names))
	}
	log.Info("replica load: phases", "read", r(t.Read), "open_cases", t.Cases, "tallies", r(t.Tallies), "total", r(t.Total))
}

// logReplicaSnapshot logs whether the replica started from its snapshot
// (and the changes replayed after it) or from the rows, and why.
func logReplicaSnapshot(log *slog.Logger, res replicasnap.Result) {
	if res.Used {
		log.Info("replica load: from the snapshot", "seq", res.Seq, "replayed", res.Replayed, "replay", res.Replay.Round(time.Millisecond))
		return
	}
	log.Info("replica load: from the rows", "why", res.Why)
}
