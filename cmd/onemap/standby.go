package main

import (
	"context"
	"log/slog"
	"math"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/postgis"
	"github.com/prometheus/client_golang/prometheus"
)

// standbyFlags say where a server reads from when that is a PostgreSQL hot
// standby rather than the primary (README: Deployment).
type standbyFlags struct {
	ReadURL string        // the standby; "" reads from --database-url
	MaxLag  time.Duration // /readyz fails past it
	Poll    time.Duration // how often the change feed is read there
}

func (f *flags) standby(s *standbyFlags) {
	f.secret(&s.ReadURL, "read-database-url", "PostgreSQL URL of a hot standby to load and follow the in-memory replica from "+
		"(default: none, --database-url); writes, sessions and the rest go to --database-url, which should then name every "+
		"database that may become primary with target_session_attrs=read-write")
	f.dur(&s.MaxLag, "max-lag", 10*time.Second, "with --read-database-url: /readyz answers 503 while the replica is further behind the primary than this (0: no bound)")
	f.dur(&s.Poll, "standby-poll", 250*time.Millisecond, "with --read-database-url: how often the change feed is read on the standby (notifications do not reach standbys)")
}

// check checks the flags; log warns of a write URL that cannot follow a
// failover.
func (s *standbyFlags) check(writeURL string, log func(msg string, args ...any)) error {
	if s.ReadURL == "" {
		return nil
	}
	if s.MaxLag < 0 || s.Poll <= 0 {
		return onemap.Errorf(onemap.EINVALID, "--max-lag %s, --standby-poll %s: want 0 or more, and more than 0", s.MaxLag, s.Poll)
	}
	if log != nil && !strings.Contains(targetAttrs(writeURL), "read-write") {
		log("--read-database-url is set but --database-url has no target_session_attrs=read-write: " +
			"after a failover the server will not find the new primary by itself")
	}
	return nil
}

// targetAttrs returns the target_session_attrs of a database URL or
// keyword/value string, or "".
func targetAttrs(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		return u.Query().Get("target_session_attrs")
	}
	for _, kv := range strings.Fields(dsn) {
		if v, ok := strings.CutPrefix(kv, "target_session_attrs="); ok {
			return v
		}
	}
	return ""
}

// standbyWatch is the standby a server's replica reads from, and how far
// that replica is behind the primary (api's standby). Safe for concurrent
// use.
type standbyWatch struct {
	db      *postgis.DB // the standby
	primary *postgis.DB
	replica *inmem.Replica
	mu      sync.Mutex
	lag     time.Duration
	known   bool
}

// Ping implements api's standby.
func (w *standbyWatch) Ping(ctx context.Context) error { return w.db.Ping(ctx) }

// FindSessionReadOnly implements api's standby.
func (w *standbyWatch) FindSessionReadOnly(ctx context.Context, token string, at time.Time, idle time.Duration) (onemap.Session, error) {
	return w.db.FindSessionReadOnly(ctx, token, at, idle)
}

// Lag implements api's standby: as last measured.
func (w *standbyWatch) Lag() (time.Duration, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lag, w.known
}

// measure asks the primary how far the replica is behind.
func (w *standbyWatch) measure(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	lag, err := w.primary.FeedLag(ctx, w.replica.Snapshot().Seq())
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lag, w.known = lag, err == nil
}

// run measures the lag every interval until ctx ends.
func (w *standbyWatch) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		w.measure(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// register adds the lag to the server's metrics: onemap_replica_lag_seconds
// (NaN while the primary cannot be asked) and onemap_primary_reachable.
func (w *standbyWatch) register(reg *prometheus.Registry) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "onemap_replica_lag_seconds",
		Help: "How far the in-memory replica, following a hot standby, is behind the primary: the age of the oldest change it has not applied (NaN: the primary does not answer)."},
		func() float64 {
			if lag, known := w.Lag(); known {
				return lag.Seconds()
			}
			return math.NaN()
		}))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "onemap_primary_reachable",
		Help: "1 while the primary (--database-url) answered the last lag measurement, 0 otherwise: writes are refused with 503 meanwhile."},
		func() float64 {
			if _, known := w.Lag(); known {
				return 1
			}
			return 0
		}))
}

// openStandby opens the standby of --read-database-url, or returns nil
// without one.
func openStandby(ctx context.Context, c *config, catalog *onemap.Catalog, primary *postgis.DB, log *slog.Logger) (*standbyWatch, error) {
	if c.Standby.ReadURL == "" {
		return nil, nil
	}
	db, err := postgis.Open(ctx, c.Standby.ReadURL, catalog, log, postgis.Options{StatementTimeout: c.StatementTimeout})
	if err != nil {
		return nil, err
	}
	if in, err := db.InRecovery(ctx); err == nil && !in {
		log.Warn("--read-database-url is not a standby (it is a primary): it works, but takes the reads off no primary")
	}
	return &standbyWatch{db: db, primary: primary}, nil
}

// feedSource is what the replica loads from: the standby, if any.
func feedSource(w *standbyWatch, primary *postgis.DB) inmem.Feed {
	if w != nil {
		return w.db
	}
	return primary
}

// standbyDeps is w as api's Deps.Standby: nil without a standby.
func standbyDeps(w *standbyWatch) interface {
	Ping(ctx context.Context) error
	Lag() (time.Duration, bool)
	FindSessionReadOnly(ctx context.Context, token string, at time.Time, idle time.Duration) (onemap.Session, error)
} {
	if w == nil {
		return nil
	}
	return w
}
