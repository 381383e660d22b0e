package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"sync"
	"time"
)

// caseSpreadCommand is the subcommand that measures how soon a changed
// case reaches every server's map (issue 16: "within 1 s"): two onemap
// servers over one database (the demo county, no case history), an
// operator changing cases through the first, and a commander's
// /api/events stream held on the second. Each change is timed from the
// first server's answer (the change committed) to its event on the second
// server's stream: the database's notification, the second server's
// replica applying the change feed, and the event written to the stream.
const caseSpreadCommand = "casespread"

// caseSpreadTarget is the floor: a changed case on every server's
// map within a second.
const caseSpreadTarget = time.Second

func runCaseSpread(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	m := newModeFlags(caseSpreadCommand, stderr)
	var c config
	m.StringVar(&c.Onemap, "onemap", "bin/onemap", "the onemap binary to run")
	changes := m.Int("changes", 50, "case changes to time: reports and acceptances, alternately")
	gap := m.Duration("gap", 200*time.Millisecond, "pause between two changes (each is timed on its own)")
	if help, err := m.parse(args, getenv); help || err != nil {
		return err
	}
	if *changes < 2 || *gap < 0 {
		return fmt.Errorf("want --changes ≥ 2 and --gap ≥ 0")
	}
	c.AdminURL = m.AdminURL
	return runMode("case spread", c, stdout, stderr, func(b *bench) error {
		return b.caseSpread(ctx, *changes, *gap, m.Keep)
	})
}

// spreadEvent is what the benchmark reads of a change event.
type spreadEvent struct {
	Layer string `json:"layer"`
	ID    int64  `json:"id"`
	Op    string `json:"op"`
}

// spreadKey names one change of one case: its id and the event's op
// (insert for a report, update for a step).
type spreadKey struct {
	id int64
	op string
}

// caseSpread runs the measurement.
func (b *bench) caseSpread(ctx context.Context, changes int, gap time.Duration, keep bool) error {
	b.printf("\n== A changed case on every server's map: two onemap servers over one database\n\n")
	b.printf("machine   %s; load average %s (1, 5, 15 min) at the start\n", machine(), loadAverage())
	b.say("casespread: creating a database and seeding the demo county (no case history)")
	db, err := createDB(ctx, b.AdminURL, "casespread")
	if err != nil {
		return err
	}
	if keep {
		b.printf("database  %s (kept)\n", db.name)
	} else {
		defer db.drop(context.WithoutCancel(ctx))
	}
	if _, err := runOnemap(ctx, b.Onemap, db.URL, "seed", "demo", "--history=false"); err != nil {
		return err
	}
	procs, stop, err := b.onemapServers(ctx, 2, func(i int) string { return []string{"onemap-a", "onemap-b"}[i] }, db.URL, nil,
		"--demo-accounts")
	if err != nil {
		return err
	}
	defer stop()
	a, other := procs[0], procs[1]

	// The operator of 狮山镇 on the first server; a place of its township.
	op, err := newSpreadClient(ctx, a.URL, "operator")
	if err != nil {
		return err
	}
	var places struct {
		Features []struct {
			Geometry struct {
				Coordinates []float64 `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := op.do(ctx, http.MethodGet, "/api/layers/households/features?limit=1", nil, &places); err != nil {
		return err
	}
	if len(places.Features) == 0 || len(places.Features[0].Geometry.Coordinates) < 2 {
		return fmt.Errorf("the operator sees no household to report a case at")
	}
	at := places.Features[0].Geometry.Coordinates

	// The commander's stream on the second server.
	cmd, err := newSpreadClient(ctx, other.URL, "commander")
	if err != nil {
		return err
	}
	arrived, stopStream, err := cmd.stream(ctx)
	if err != nil {
		return err
	}
	defer stopStream()

	type change struct {
		key      spreadKey
		answered time.Time // the first server's answer came
		sent     time.Time // the request left
	}
	var done []change
	var id int64
	for i := range changes {
		var ch change
		ch.sent = time.Now()
		if i%2 == 0 {
			var k struct {
				ID int64 `json:"id"`
			}
			body := map[string]any{"category": "safety", "description": fmt.Sprintf("bench %d：路灯不亮", i), "lon": at[0], "lat": at[1]}
			if err := op.do(ctx, http.MethodPost, "/api/cases", body, &k); err != nil {
				return fmt.Errorf("report: %w", err)
			}
			id, ch.key = k.ID, spreadKey{k.ID, "insert"}
		} else {
			body := map[string]any{"action": "accept", "version": 1}
			if err := op.do(ctx, http.MethodPost, fmt.Sprintf("/api/cases/%d/actions", id), body, nil); err != nil {
				return fmt.Errorf("accept: %w", err)
			}
			ch.key = spreadKey{id, "update"}
		}
		ch.answered = time.Now()
		done = append(done, ch)
		select {
		case <-time.After(gap):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// Every change's event, waited for at most a minute after the last.
	deadline := time.Now().Add(time.Minute)
	var lags, fromSent []time.Duration
	var missing []spreadKey
	for _, ch := range done {
		got, ok := arrived.wait(ch.key, deadline)
		if !ok {
			missing = append(missing, ch.key)
			continue
		}
		lags = append(lags, max(0, got.Sub(ch.answered)))
		fromSent = append(fromSent, got.Sub(ch.sent))
	}
	b.printf("changes   %d through %s (an operator: reports and acceptances alternately, %v apart)\n", len(done), a.URL, gap)
	b.printf("stream    a commander's /api/events on %s\n", other.URL)
	if len(missing) > 0 {
		b.fail("%d of %d changes never reached the other server's stream within a minute: %v", len(missing), len(done), missing)
		return nil
	}
	slices.Sort(lags)
	slices.Sort(fromSent)
	p99 := percentile(lags, 99)
	b.printf("\n%-40s %8s %8s %8s\n", "", "p50 ms", "p99 ms", "max ms")
	b.printf("%-40s %8.1f %8.1f %8.1f\n", "answer on A → event on B's stream", ms(percentile(lags, 50)), ms(p99), ms(lags[len(lags)-1]))
	b.printf("%-40s %8.1f %8.1f %8.1f\n", "request to A → event on B's stream", ms(percentile(fromSent, 50)), ms(percentile(fromSent, 99)), ms(fromSent[len(fromSent)-1]))
	b.printf("\ntarget    on every server's map within %v at p99: %s\n", caseSpreadTarget, verdict(p99 < caseSpreadTarget))
	b.printf("load      average %s (1, 5, 15 min) at the end\n", loadAverage())
	return nil
}

// spreadClient is a signed-in browser of the benchmark: its cookies and
// CSRF token.
type spreadClient struct {
	base string
	c    *http.Client
	csrf string
}

// newSpreadClient signs name (a demo account) in at base.
func newSpreadClient(ctx context.Context, base, name string) (*spreadClient, error) {
	jar, _ := cookiejar.New(nil)
	s := &spreadClient{base: base, c: &http.Client{Jar: jar}}
	var session struct {
		CSRF string `json:"csrf"`
	}
	if err := s.do(ctx, http.MethodPost, "/api/session", map[string]string{"name": name, "password": "onemap-demo"}, &session); err != nil {
		return nil, fmt.Errorf("sign in as %s: %w", name, err)
	}
	if session.CSRF == "" {
		return nil, fmt.Errorf("sign in as %s: no CSRF token", name)
	}
	s.csrf = session.CSRF
	return s, nil
}

// do sends a request with body as JSON (none if nil) and decodes a 2xx
// answer into out (unless nil); any other answer is an error.
func (s *spreadClient) do(ctx context.Context, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if s.csrf != "" {
		req.Header.Set("X-CSRF-Token", s.csrf)
	}
	resp, err := s.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, tail(string(data), 3))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// arrivals records when each case event came on a stream.
type arrivals struct {
	mu   sync.Mutex
	at   map[spreadKey]time.Time
	more chan struct{} // closed and replaced on each arrival
}

// wait returns when k's event came, waiting until deadline.
func (a *arrivals) wait(k spreadKey, deadline time.Time) (time.Time, bool) {
	for {
		a.mu.Lock()
		t, ok := a.at[k]
		more := a.more
		a.mu.Unlock()
		if ok {
			return t, true
		}
		select {
		case <-more:
		case <-time.After(time.Until(deadline)):
			return time.Time{}, false
		}
	}
}

// stream opens /api/events and records the arrival of every case event
// (the first of each case and op) until stop is called.
func (s *spreadClient) stream(ctx context.Context) (*arrivals, func(), error) {
	ctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/events", nil)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	resp, err := s.c.Do(req)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, nil, fmt.Errorf("GET /api/events: %d", resp.StatusCode)
	}
	a := &arrivals{at: map[spreadKey]time.Time{}, more: make(chan struct{})}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok || !strings.HasPrefix(data, "{") {
				continue
			}
			now := time.Now()
			var e spreadEvent
			if json.Unmarshal([]byte(data), &e) != nil || e.Layer != "cases" {
				continue
			}
			a.mu.Lock()
			if k := (spreadKey{e.ID, e.Op}); a.at[k].IsZero() {
				a.at[k] = now
				close(a.more)
				a.more = make(chan struct{})
			}
			a.mu.Unlock()
		}
	}()
	return a, func() { cancel(); resp.Body.Close(); <-finished }, nil
}
