package postgis_test

import (
	"context"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/internal/testfix"
	"github.com/onemapgis/onemap/postgis"
)

// TestLive_batchStorm: a batch written set-wise answers each event as
// applying them one at a time would. Events of one camera and kind join
// one alarm, each answered with the count after it (the alarm's version
// rising with each); an id again in the batch is a duplicate answered at
// the count then; a second batch joins the open alarm, taking the least
// severity and filling only the fields still empty; a retried batch is
// duplicates at the alarm's count now; a heartbeat brings an offline
// camera online and a status beside it in the batch wins.
func TestLive_batchStorm(t *testing.T) {
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	clock := testfix.NewClock(time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC))
	live := postgis.NewLive(db, clock.Now, 0)
	ctx := onemap.NewContext(context.Background(), onemap.Caller{Name: "system", Role: "system"})
	_, verifier := onemap.NewSourceKey()
	src, err := live.AddSource(ctx, onemap.Source{Name: "video", Kinds: onemap.EventKinds(), Region: "532329000000"}, verifier)
	if err != nil {
		t.Fatal(err)
	}
	var camA, camB string
	var idB int64
	if err := db.QueryRowForTest(ctx, `SELECT min(device_code), max(device_code) FROM cameras`).Scan(&camA, &camB); err != nil {
		t.Fatal(err)
	}
	if err := db.ExecForTest(ctx, `UPDATE cameras SET status = 'offline' WHERE device_code = $1`, camB); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowForTest(ctx, `SELECT id FROM cameras WHERE device_code = $1`, camB).Scan(&idB); err != nil {
		t.Fatal(err)
	}
	ev := func(id, kind, device string, sev int, extra ...string) onemap.IngestEvent {
		e := onemap.IngestEvent{ID: id, Kind: kind, Device: device, At: clock.Now().Add(-time.Minute), Severity: sev}
		if len(extra) > 0 {
			e.Description = extra[0]
		}
		if kind == onemap.EventStatus {
			e.Status = onemap.CameraFault
		}
		return e
	}
	type want struct {
		outcome string
		alarm   int // the index of the event whose alarm it is (-1: none)
		count   int
	}
	check := func(name string, got []onemap.IngestResult, ws []want) {
		t.Helper()
		for i, w := range ws {
			r := got[i]
			wantAlarm := int64(0)
			if w.alarm >= 0 {
				wantAlarm = got[w.alarm].AlarmID
			}
			if r.Outcome != w.outcome || r.Count != w.count || r.AlarmID != wantAlarm || (w.alarm >= 0 && r.AlarmID == 0) {
				t.Errorf("%s, event %d (%s): %s alarm %d count %d, want %s alarm %d count %d", name, i, r.ID, r.Outcome, r.AlarmID, r.Count,
					w.outcome, wantAlarm, w.count)
			}
		}
	}
	first := []onemap.IngestEvent{
		ev("c1", onemap.EventCrowd, camA, 3),
		ev("f1", onemap.EventFace, camA, 2),
		ev("c2", onemap.EventCrowd, camA, 4, "人群聚集"),
		ev("c1", onemap.EventCrowd, camA, 3), // again in the batch
		ev("c3", onemap.EventCrowd, camA, 3),
		ev("h1", onemap.EventHeartbeat, camB, 0),
		ev("s1", onemap.EventStatus, camB, 0),
	}
	got, alarms, err := live.Ingest(ctx, src, first)
	if err != nil {
		t.Fatal(err)
	}
	check("first batch", got, []want{{"taken", 0, 1}, {"taken", 1, 1}, {"taken", 0, 2}, {"duplicate", 0, 2}, {"taken", 0, 3},
		{"taken", -1, 0}, {"taken", -1, 0}})
	if got[0].AlarmID == got[1].AlarmID || len(alarms) != 2 {
		t.Fatalf("crowd and face in one alarm, or %d alarms changed", len(alarms))
	}
	crowd := alarms[0]
	if crowd.ID != got[0].AlarmID {
		crowd = alarms[1]
	}
	if crowd.Count != 3 || crowd.Version != 3 || crowd.Severity != 3 || crowd.Description != "人群聚集" {
		t.Errorf("crowd alarm %+v, want count 3, version 3, severity 3, 人群聚集", crowd)
	}
	var status string
	if err := db.QueryRowForTest(ctx, `SELECT status FROM cameras WHERE id = $1`, idB).Scan(&status); err != nil || status != "fault" {
		t.Errorf("camera B %q (%v), want fault (the status after the heartbeat)", status, err)
	}

	clock.Set(clock.Now().Add(time.Minute))
	second := []onemap.IngestEvent{ev("c1", onemap.EventCrowd, camA, 3), ev("c4", onemap.EventCrowd, camA, 1, "另一句"),
		ev("c1", onemap.EventCrowd, camA, 3), ev("c5", onemap.EventCrowd, camA, 2)}
	got2, alarms2, err := live.Ingest(ctx, src, second)
	if err != nil {
		t.Fatal(err)
	}
	if got2[1].AlarmID != crowd.ID {
		t.Fatalf("the second batch opened alarm %d, want it to join %d", got2[1].AlarmID, crowd.ID)
	}
	check("second batch", got2, []want{{"duplicate", 1, 3}, {"taken", 1, 4}, {"duplicate", 1, 4}, {"taken", 1, 5}})
	if len(alarms2) != 1 || alarms2[0].Count != 5 || alarms2[0].Version != 5 || alarms2[0].Severity != 1 || alarms2[0].Description != "人群聚集" {
		t.Errorf("joined alarm %+v, want count 5, version 5, severity 1, the first description kept", alarms2)
	}
	// The first batch again: duplicates, at the counts now; nothing written.
	clock.Set(clock.Now().Add(time.Minute))
	got3, alarms3, err := live.Ingest(ctx, src, first)
	if err != nil {
		t.Fatal(err)
	}
	check("retry", got3, []want{{"duplicate", 0, 5}, {"duplicate", 1, 1}, {"duplicate", 0, 5}, {"duplicate", 0, 5}, {"duplicate", 0, 5},
		{"duplicate", -1, 0}, {"duplicate", -1, 0}})
	if len(alarms3) != 0 || got3[0].AlarmID != crowd.ID || got3[5].CameraID != idB {
		t.Errorf("retry changed %d alarms, answered %+v", len(alarms3), got3)
	}
}
