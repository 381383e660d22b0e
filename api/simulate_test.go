package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/sim"
)

// TestSimulator_ingest: the simulator gives its own source a key and
// drives the demo county through the real signed ingest: heartbeats are
// kept, cameras go offline or to fault and come back through the cameras
// layer, alarms are raised at the pilot townships' cameras; started again
// it makes a new key (the old one is refused) and audits it. Without the
// table tags it sends no tag positions; with one (the tags' migration) it
// sends every tag's, in a batch of their own, so that a server that does
// not take them still takes the cameras'.
func TestSimulator_ingest(t *testing.T) {
	w := startLiveWorld(t)
	cfg := sim.Config{Seed: 42, Run: "test", AlarmChance: 1, StatusChance: 1, Tick: 5 * time.Second}
	// The region as serve --simulate finds it: its six-digit code names
	// the county's grid only as a grid code.
	reg, err := w.db.FindRegion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if reg.GridCode() != countyCode {
		t.Fatalf("the region %q's grid code is %q, want %q", reg.Code, reg.GridCode(), countyCode)
	}
	r, err := sim.Prepare(t.Context(), w.live, "simulator", reg.GridCode(), w.url, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.Now = w.clock.Now
	var total sim.Stats
	for range 12 { // a minute of ticks
		st, err := r.Step(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if st.Tags != 0 || st.Results[onemap.IngestRefused] != 0 || st.Results[onemap.IngestQuarantined] != 0 {
			t.Errorf("a step: %+v", st)
		}
		total.Sent += st.Sent
		total.Alarms += st.Alarms
		total.Statuses += st.Statuses
		w.clock.Add(5 * time.Second)
	}
	var alarms, pilotAlarms, liveness, notOnline int
	if err := w.conn.QueryRow(t.Context(), `WITH RECURSIVE pilot AS (
			SELECT id FROM grids WHERE level = 'township' AND name = ANY($1)
			UNION SELECT g.id FROM grids g JOIN pilot p ON g.parent_id = p.id)
		SELECT (SELECT count(*) FROM alarms), (SELECT count(*) FROM alarms WHERE grid_id IN (SELECT id FROM pilot)),
		(SELECT count(*) FROM camera_liveness), (SELECT count(*) FROM feature_history WHERE layer = 'cameras' AND changed_by = 'source:simulator')`,
		onemap.PilotTownships()).Scan(&alarms, &pilotAlarms, &liveness, &notOnline); err != nil {
		t.Fatal(err)
	}
	if alarms == 0 || alarms != pilotAlarms || liveness < 12*250 || notOnline == 0 || total.Statuses < 12 {
		t.Errorf("a minute: %d alarms (%d at pilot cameras), %d cameras heard, %d camera changes by the simulator, %+v",
			alarms, pilotAlarms, liveness, notOnline, total)
	}

	// Started again: a new key; the old one no longer signs.
	old := r.Key
	r2, err := sim.Prepare(t.Context(), w.live, "simulator", countyCode, w.url, cfg)
	if err != nil || r2.Key == old {
		t.Fatalf("again: %v", err)
	}
	resp, body := w.send(t, signedRequest{source: "simulator", key: old, path: "/api/ingest/events",
		body: batch(eventJSON("x", onemap.EventHeartbeat, camShishan1, w.clock.Now(), ""))})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the old key = %d %s, want 401", resp.StatusCode, body)
	}
	var rekeys int
	if err := w.conn.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = 'source.rekey' AND target = 'sources/simulator'`).Scan(&rekeys); err != nil || rekeys != 1 {
		t.Errorf("%d rekeys audited (%v), want 1 (the first start added the source)", rekeys, err)
	}

	// With tags: every tag's position, apart from the cameras'.
	if _, err := w.conn.Exec(t.Context(), `CREATE TABLE IF NOT EXISTS tags (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, code text UNIQUE NOT NULL,
		kind text, grid_id bigint, home geometry(Point, 4326) NOT NULL, synthetic bool);
		INSERT INTO tags (code, home) VALUES ('SIM-T1', ST_SetSRID(ST_MakePoint(102.41, 25.53), 4326)), ('SIM-T2', ST_SetSRID(ST_MakePoint(102.42, 25.54), 4326))
		ON CONFLICT DO NOTHING`); err != nil {
		t.Fatal(err)
	}
	r3, err := sim.Prepare(t.Context(), w.live, "simulator", countyCode, w.url, sim.Config{Seed: 1, Run: "tags", Tick: 5 * time.Second, TagEvery: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r3.Now = w.clock.Now
	st, err := r3.Step(t.Context())
	if err != nil || st.Sent < 250 || st.Results[onemap.IngestRefused] != 0 {
		t.Fatalf("a step with tags: %+v %v", st, err)
	}
	// A server that takes tag positions takes both; one that does not
	// (before the tags' ingest) refuses their batch and takes the cameras'.
	if st.Tags != 0 && st.Tags != 2 {
		t.Errorf("tag positions taken: %d, want both or none", st.Tags)
	}
}
