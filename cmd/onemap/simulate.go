package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/postgis"
	"github.com/onemapgis/onemap/sim"
)

// liveFlags are serve's flags of the live side: the video platform,
// retention, and the simulator.
type liveFlags struct {
	SnapshotBaseURL string
	LiveVideoURL    string
	LiveVideoSecret string
	LiveVideoTTL    time.Duration
	AlarmKeep       time.Duration
	SnapshotKeep    time.Duration
	Simulate        bool
	SimulateSeed    uint64
}

// liveFlagsOf registers serve's live flags.
func (f *flags) live(l *liveFlags) {
	f.str(&l.SnapshotBaseURL, "snapshot-base-url", "", "where the server fetches alarms' snapshots from the video platform: a URL with {ref} for the snapshot's reference, or a base the reference is appended to (default: none, snapshots answer 404)")
	f.str(&l.LiveVideoURL, "live-video-url", "", "the video platform's live address that cameras' live pictures are signed on (camera, expires and sig added to its query); with --live-video-secret (default: the relay address in camera_streams)")
	f.secret(&l.LiveVideoSecret, "live-video-secret", "the secret shared with the video platform that signs live addresses (HMAC-SHA256)")
	f.dur(&l.LiveVideoTTL, "live-video-ttl", onemap.DefaultLiveTTL, "how long a signed live address stays valid (at most 30m)")
	f.dur(&l.AlarmKeep, "alarm-keep", onemap.DefaultAlarmKeep, "how long alarms, ingest events and quarantined events are kept (0: forever); older ones are removed hourly")
	f.dur(&l.SnapshotKeep, "snapshot-keep", onemap.DefaultSnapshotKeep, "how long alarms' snapshot references are kept (0: as long as the alarm)")
	f.boolean(&l.Simulate, "simulate", false, "drive the demo county through the ingest: camera heartbeats, status changes, alarms and tag positions (demo only; on in make run)")
	f.fs.Uint64Var(&l.SimulateSeed, "simulate-seed", 1, "the simulator's seed: the same seed makes the same events")
}

// check refuses live flags that cannot work.
func (l *liveFlags) check() error {
	if err := l.videoConfig().Check(); err != nil {
		return onemap.Errorf(onemap.EINVALID, "--live-video-url, --live-video-secret, --live-video-ttl, --snapshot-base-url: %v", err)
	}
	if l.AlarmKeep < 0 || l.SnapshotKeep < 0 || (l.AlarmKeep > 0 && l.SnapshotKeep > l.AlarmKeep) {
		return onemap.Errorf(onemap.EINVALID, "--alarm-keep %s, --snapshot-keep %s: want 0 or more, the snapshots' no longer than the alarms'", l.AlarmKeep, l.SnapshotKeep)
	}
	return nil
}

func (l *liveFlags) videoConfig() api.VideoConfig {
	return api.VideoConfig{SnapshotBaseURL: l.SnapshotBaseURL, LiveBaseURL: l.LiveVideoURL, LiveSecret: l.LiveVideoSecret, LiveTTL: l.LiveVideoTTL}
}

func (l *liveFlags) retention() onemap.AlarmRetention {
	return onemap.AlarmRetention{Keep: l.AlarmKeep, SnapshotKeep: l.SnapshotKeep}
}

// pruneAlarms removes alarms, ingest events and snapshot references past
// their retention every hour, the first a minute after start, until ctx
// ends.
func pruneAlarms(ctx context.Context, live *postgis.Live, r onemap.AlarmRetention, log *slog.Logger) {
	if r.Keep <= 0 && r.SnapshotKeep <= 0 {
		return
	}
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if rep, err := live.PruneAlarms(ctx, r); err != nil {
			log.Warn("alarm retention: prune failed", "error", err)
		} else if rep != (onemap.PruneReport{}) {
			log.Info("alarm retention: removed", "alarms", rep.Alarms, "events", rep.Events, "quarantined", rep.Quarantined,
				"snapshot_refs", rep.SnapshotRefs)
		}
		t.Reset(time.Hour)
	}
}

// startSimulator drives the county through the server at url until ctx
// ends (serve --simulate).
func startSimulator(ctx context.Context, db *postgis.DB, live *postgis.Live, url string, seed uint64, log *slog.Logger) error {
	reg, err := db.FindRegion(ctx)
	if err != nil {
		return fmt.Errorf("simulator: %w", err)
	}
	r, err := sim.Prepare(ctx, live, sim.DefaultSource, reg.GridCode(), url, sim.Config{Seed: seed})
	if err != nil {
		return err
	}
	r.Log = log
	log.Warn("simulator: driving the county through the ingest with made-up events: demo only", "source", sim.DefaultSource, "seed", seed)
	go r.Run(ctx)
	return nil
}

// loopbackOf is the address the server's own simulator reaches it at: its
// listener's, with loopback for an unspecified host (0.0.0.0, ::).
func loopbackOf(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok && t.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(t.Port))
	}
	return a.String()
}

const simulateUsage = `usage: onemap simulate --url http://127.0.0.1:8080 [--seed N] [--tick 5s] [--duration 0]
Drives the demo county through a running server's signed ingest: camera
heartbeats, occasional status changes and alarms, and the e-bike tags'
positions (when the database has tags). It gives its own source
("simulator", or --source) a fresh key at each start. Demo only.`

// runSimulate is `onemap simulate`: the simulator against a server.
func runSimulate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	var url, source string
	var seed uint64
	var tick, duration time.Duration
	f := newFlags("simulate", "simulate [flags]", getenv, stderr)
	f.database(&c)
	f.str(&url, "url", "http://127.0.0.1:8080", "the OneMap server to send to")
	f.str(&source, "source", sim.DefaultSource, "the simulator's source name")
	f.fs.Uint64Var(&seed, "seed", 1, "the seed: the same seed makes the same events")
	f.dur(&tick, "tick", 5*time.Second, "time between two steps")
	f.dur(&duration, "duration", 0, "how long to run (0: until interrupted)")
	if err := f.parse(args); err != nil {
		if err == errHelp {
			fmt.Fprintln(stderr, simulateUsage)
		}
		return ignoreHelp(err)
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	db, _, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	reg, err := db.FindRegion(ctx)
	if err != nil {
		return err
	}
	r, err := sim.Prepare(ctx, postgis.NewLive(db, nil, 0), source, reg.GridCode(), url, sim.Config{Seed: seed, Tick: tick})
	if err != nil {
		return err
	}
	r.Log = log
	fmt.Fprintf(stdout, "onemap: simulating the county through %s as source %s (seed %s)\n", url, source, strconv.FormatUint(seed, 10))
	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}
	r.Run(ctx)
	return nil
}
