package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/onemapgis/onemap"
)

// Runner sends a Generator's events to a OneMap server as source Source,
// signing each request with Key (onemap.SigningKey, CanonicalRequest).
type Runner struct {
	URL    string // the server, http://127.0.0.1:8080
	Source string
	Key    string
	Gen    *Generator
	Client *http.Client     // nil: a client with a 30 s timeout
	Now    func() time.Time // the clock of events and signatures (nil: time.Now)
	Log    *slog.Logger     // nil: none

	tagsRefused bool // the server does not take tag positions: sent no more
}

// Stats counts what one step sent and what became of it.
type Stats struct {
	Sent     int
	Results  map[string]int // taken, duplicate, quarantined, refused
	Alarms   int            // alarm events taken
	Statuses int            // status events taken
	Tags     int            // tag positions taken
}

// ingestPath is where events go.
const ingestPath = "/api/ingest/events"

// Step makes the next tick's events and sends them, the cameras' and the
// tags' in batches of their own (so that a server without the tags'
// ingest still takes the cameras'). A tag batch refused whole stops the
// tags (logged once); a camera batch refused is an error.
func (r *Runner) Step(ctx context.Context) (Stats, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	cams, tags := r.Gen.Step(now())
	st := Stats{Results: map[string]int{}}
	for len(cams) > 0 {
		n := min(len(cams), onemap.IngestMaxBatch)
		if err := r.send(ctx, now(), cams[:n], &st); err != nil {
			return st, err
		}
		cams = cams[n:]
	}
	for len(tags) > 0 && !r.tagsRefused {
		n := min(len(tags), onemap.IngestMaxBatch)
		if err := r.send(ctx, now(), tags[:n], &st); err != nil {
			r.tagsRefused = true
			if r.Log != nil {
				r.Log.Warn("simulator: the server does not take tag positions; the tags are left still", "error", err)
			}
			break
		}
		tags = tags[n:]
	}
	return st, nil
}

// send signs and posts one batch, and counts its results.
func (r *Runner) send(ctx context.Context, at time.Time, events []Event, st *Stats) error {
	body, err := json.Marshal(map[string]any{"events": events})
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	sig := onemap.Sign(onemap.SigningKey(r.Key), onemap.CanonicalRequest(r.Source, "POST", ingestPath, ts, body))
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimRight(r.URL, "/")+ingestPath, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(onemap.HeaderSource, r.Source)
	req.Header.Set(onemap.HeaderTimestamp, ts)
	req.Header.Set(onemap.HeaderSignature, sig)
	client := r.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("simulator: send: %w", err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("simulator: the ingest answered %d: %.300s", resp.StatusCode, out)
	}
	var got struct {
		Results []struct {
			Result string `json:"result"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out, &got); err != nil || len(got.Results) != len(events) {
		return fmt.Errorf("simulator: the ingest's answer: %.300s", out)
	}
	st.Sent += len(events)
	for i, res := range got.Results {
		st.Results[res.Result]++
		if res.Result != onemap.IngestTaken {
			continue
		}
		switch k := events[i].Kind; {
		case onemap.IsAlarmKind(k):
			st.Alarms++
		case k == onemap.EventStatus:
			st.Statuses++
		case k == kindTagPosition:
			st.Tags++
		}
	}
	return nil
}

// Run steps every tick until ctx ends, logging what each minute sent; a
// step that fails is logged and the next tick tries again.
func (r *Runner) Run(ctx context.Context) {
	t := time.NewTicker(r.Gen.cfg.Tick)
	defer t.Stop()
	total := Stats{Results: map[string]int{}}
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st, err := r.Step(ctx)
		if err != nil && ctx.Err() == nil && r.Log != nil {
			r.Log.Warn("simulator: step failed", "error", err)
		}
		total.Sent += st.Sent
		total.Alarms += st.Alarms
		total.Statuses += st.Statuses
		total.Tags += st.Tags
		for k, v := range st.Results {
			total.Results[k] += v
		}
		if time.Since(last) >= time.Minute && r.Log != nil {
			r.Log.Info("simulator: sent", "events", total.Sent, "alarms", total.Alarms, "statuses", total.Statuses, "tag_positions", total.Tags,
				"refused", total.Results[onemap.IngestRefused], "quarantined", total.Results[onemap.IngestQuarantined])
			total, last = Stats{Results: map[string]int{}}, time.Now()
		}
	}
}

// sourceStore is what Prepare asks of the database (postgis.Live).
type sourceStore interface {
	RekeySource(ctx context.Context, s onemap.Source, verifier []byte) (onemap.Source, error)
	SimulationTargets(ctx context.Context, pilots []string) ([]onemap.SimCamera, []onemap.SimTag, error)
}

// DefaultSource is the name of the simulator's own source.
const DefaultSource = "simulator"

// Prepare gives the simulator's source (name, in region: the county's
// code) a fresh key, adding it if need be, and returns a Runner over the
// county's cameras and tags that sends to url. The key lives only in the
// Runner: each start makes a new one (source.rekey in the audit trail).
func Prepare(ctx context.Context, store sourceStore, name, region, url string, cfg Config) (*Runner, error) {
	key, verifier := onemap.NewSourceKey()
	ctx = onemap.NewContext(ctx, onemap.Caller{Name: "system", Role: "system", Client: "simulator"})
	kinds := onemap.EventKinds()
	if _, err := store.RekeySource(ctx, onemap.Source{Name: name, Kinds: kinds, Region: region}, verifier); err != nil {
		return nil, fmt.Errorf("simulator: its source %s: %w", name, err)
	}
	cams, tags, err := store.SimulationTargets(ctx, onemap.PilotTownships())
	if err != nil {
		return nil, err
	}
	if cfg.Run == "" {
		cfg.Run = strconv.FormatInt(time.Now().Unix(), 10)
	}
	return &Runner{URL: url, Source: name, Key: key, Gen: NewGenerator(cfg, cams, tags)}, nil
}
