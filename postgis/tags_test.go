package postgis_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/internal/testfix"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
)

func tagWorld(t *testing.T) (*postgis.DB, *postgis.Tags, *testfix.Clock, onemap.Source, *pgx.Conn) {
	t.Helper()
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	clock := testfix.NewClock(time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC))
	live := postgis.NewLive(db, clock.Now, 0)
	ctx := onemap.NewContext(context.Background(), onemap.Caller{Name: "system", Role: "system"})
	_, verifier := onemap.NewSourceKey()
	src, err := live.AddSource(ctx, onemap.Source{Name: "iot", Kinds: []string{onemap.EventTagPosition, onemap.EventTagAlarm}, Region: "532329000000"}, verifier)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return db, postgis.NewTags(db, postgis.TagOptions{Now: clock.Now}), clock, src, conn
}

func tagPos(id, tag string, at time.Time, lon, lat float64) onemap.IngestEvent {
	return onemap.IngestEvent{ID: id, Kind: onemap.EventTagPosition, Tag: tag, At: at, Point: orb.Point{lon, lat}, HasPoint: true}
}

// TestTags_seed: the demo county holds the 536 synthetic tags TAG-000001…
// TAG-000536, each registered in one of the three pilot townships and
// placed inside it, each with an owner, and a night geofence per township.
func TestTags_seed(t *testing.T) {
	_, _, _, _, conn := tagWorld(t)
	ctx := t.Context()
	var n, inside, owners, fences, synthetic int
	var first, last string
	err := conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE ST_Intersects(t.home, g.geom)), count(o.tag_id),
			count(*) FILTER (WHERE t.synthetic), min(t.code), max(t.code),
			(SELECT count(*) FROM geofences WHERE trigger = 'leave' AND window_from = 1320 AND window_to = 360)
		FROM tags t JOIN grids v ON v.id = t.grid_id JOIN grids g ON g.id = CASE WHEN v.level = 'village' THEN v.parent_id ELSE v.id END
		LEFT JOIN tag_owners o ON o.tag_id = t.id
		WHERE g.code IN ('532329101000', '532329208000', '532329207000')`).Scan(&n, &inside, &owners, &synthetic, &first, &last, &fences)
	if err != nil {
		t.Fatal(err)
	}
	if n != 536 || inside != 536 || owners != 536 || synthetic != 536 || first != "TAG-000001" || last != "TAG-000536" || fences != 3 {
		t.Errorf("tags %d (inside their township %d, owners %d, synthetic %d) %s…%s, night fences %d; want 536 of each, TAG-000001…TAG-000536, 3",
			n, inside, owners, synthetic, first, last, fences)
	}
}

// TestTags_positions: a batch of positions is taken once (a retry is a
// duplicate, a position twice in one batch too); a track of a period and
// "where was it at t" answer from them; an unknown tag is quarantined; a
// position older than the retention is refused; a tag outside the
// source's region refuses the batch and nothing is written.
func TestTags_positions(t *testing.T) {
	db, tags, clock, src, conn := tagWorld(t)
	ctx := t.Context()
	t0 := clock.Now().Add(-2 * time.Hour)
	var evs []onemap.IngestEvent
	for i := range 10 {
		evs = append(evs, tagPos(fmt.Sprint("p", i), "TAG-000001", t0.Add(time.Duration(i)*10*time.Minute), 102.40+float64(i)*0.001, 25.53))
	}
	evs = append(evs, tagPos("p0again", "TAG-000001", t0, 102.4, 25.53), tagPos("u", "TAG-999999", t0, 102.4, 25.5),
		tagPos("old", "TAG-000002", clock.Now().Add(-31*24*time.Hour), 102.4, 25.5))
	got, err := tags.IngestTags(ctx, src, evs)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, r := range got.Results {
		outcomes = append(outcomes, r.Outcome)
	}
	want := []string{"taken", "taken", "taken", "taken", "taken", "taken", "taken", "taken", "taken", "taken", "duplicate", "quarantined", "refused"}
	if !slices.Equal(outcomes, want) || len(got.Positions) != 10 {
		t.Fatalf("outcomes %v (%d positions), want %v", outcomes, len(got.Positions), want)
	}
	again, err := tags.IngestTags(ctx, src, evs[:3])
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range again.Results {
		if r.Outcome != "duplicate" {
			t.Errorf("retry: %+v, want duplicate", r)
		}
	}
	tag, err := tags.FindTag(ctx, "TAG-000001")
	if err != nil {
		t.Fatal(err)
	}
	track, more, err := tags.Track(ctx, tag.ID, t0.Add(15*time.Minute), t0.Add(65*time.Minute), 100)
	if err != nil || more || len(track) != 5 || !track[0].At.Equal(t0.Add(20*time.Minute)) {
		t.Errorf("track: %v %v %v, want the 5 positions from 00:20", track, more, err)
	}
	if _, more, _ := tags.Track(ctx, tag.ID, t0, clock.Now(), 3); !more {
		t.Error("a track over its limit does not say there is more")
	}
	p, err := tags.PositionAt(ctx, tag.ID, t0.Add(25*time.Minute))
	if err != nil || !p.At.Equal(t0.Add(20*time.Minute)) || p.Point[0] != 102.402 {
		t.Errorf("at 00:25: %+v %v, want the position of 00:20", p, err)
	}
	if _, err := tags.PositionAt(ctx, tag.ID, t0.Add(-time.Minute)); onemap.ErrorCode(err) != onemap.ENOTFOUND {
		t.Errorf("before the first position: %v, want ENOTFOUND", err)
	}
	// A source of one township: a tag of another refuses the batch.
	live := postgis.NewLive(db, clock.Now, 0)
	_, verifier := onemap.NewSourceKey()
	sys := onemap.NewContext(ctx, onemap.Caller{Name: "system", Role: "system"})
	small, err := live.AddSource(sys, onemap.Source{Name: "iot-huanzhou", Kinds: []string{onemap.EventTagPosition}, Region: "532329207000"}, verifier)
	if err != nil {
		t.Fatal(err)
	}
	var before int
	conn.QueryRow(ctx, `SELECT count(*) FROM tag_positions`).Scan(&before)
	if _, err := tags.IngestTags(ctx, small, []onemap.IngestEvent{tagPos("x", "TAG-000536", clock.Now(), 102.3, 25.7),
		tagPos("y", "TAG-000001", clock.Now(), 102.4, 25.5)}); onemap.ErrorCode(err) != onemap.EFORBIDDEN {
		t.Errorf("a tag outside the region: %v, want EFORBIDDEN", err)
	}
	var after int
	conn.QueryRow(ctx, `SELECT count(*) FROM tag_positions`).Scan(&after)
	if after != before {
		t.Errorf("a refused batch wrote %d positions", after-before)
	}
}

// TestTags_retention: the retention job drops the days of positions older
// than the retention period, under the store's clock, and keeps the rest.
func TestTags_retention(t *testing.T) {
	_, tags, clock, src, conn := tagWorld(t)
	ctx := t.Context()
	start := clock.Now()
	for d := range 3 {
		clock.Set(start.Add(time.Duration(d) * 24 * time.Hour))
		if _, err := tags.IngestTags(ctx, src, []onemap.IngestEvent{tagPos(fmt.Sprint("d", d), "TAG-000001", clock.Now(), 102.4, 25.5)}); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM tag_positions`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if dropped, err := tags.DropOldPositions(ctx); err != nil || len(dropped) != 0 || count() != 3 {
		t.Fatalf("within the retention: dropped %v (%v), %d kept; want none dropped, 3 kept", dropped, err, count())
	}
	// 30 days after the second day's end: the first two days go.
	clock.Set(start.Truncate(24 * time.Hour).Add(2*24*time.Hour + tags.Retention()))
	dropped, err := tags.DropOldPositions(ctx)
	if err != nil || !slices.Equal(dropped, []string{"tag_positions_p20261206", "tag_positions_p20261207"}) || count() != 1 {
		t.Errorf("after the retention: dropped %v (%v), %d kept; want the first two days dropped, 1 kept", dropped, err, count())
	}
	var audited int
	conn.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'tag.retention'`).Scan(&audited)
	if audited != 2 {
		t.Errorf("%d retention records in the audit trail, want 2", audited)
	}
	// A day dropped can take positions again (its partition is made anew).
	clock.Set(start.Add(29 * 24 * time.Hour))
	if _, err := tags.IngestTags(ctx, src, []onemap.IngestEvent{tagPos("late", "TAG-000002", start.Add(24*time.Hour+time.Hour), 102.4, 25.5)}); err != nil {
		t.Errorf("a position of a day dropped but within the retention now: %v", err)
	}
}

// TestTags_alarms: a tag's own alarm is bound to the tag (no camera), a
// retry of its event is a duplicate, a second alarm within the storm
// window joins the first, and the alarm reads back with the tag's code.
func TestTags_alarms(t *testing.T) {
	db, tags, clock, src, _ := tagWorld(t)
	ctx := t.Context()
	alarm := onemap.IngestEvent{ID: "a1", Kind: onemap.EventTagAlarm, Tag: "TAG-000007", At: clock.Now(), Severity: 2, Description: "剪线报警"}
	got, err := tags.IngestTags(ctx, src, []onemap.IngestEvent{alarm})
	if err != nil || got.Results[0].Outcome != "taken" || len(got.Alarms) != 1 {
		t.Fatalf("tag alarm: %+v %v", got, err)
	}
	a := got.Alarms[0]
	if a.Tag != "TAG-000007" || a.CameraID != 0 || a.Kind != onemap.EventTagAlarm || a.Count != 1 {
		t.Errorf("alarm %+v, want TAG-000007's, no camera, count 1", a)
	}
	dup, err := tags.IngestTags(ctx, src, []onemap.IngestEvent{alarm})
	if err != nil || dup.Results[0].Outcome != "duplicate" || dup.Results[0].AlarmID != a.ID {
		t.Errorf("retry: %+v %v, want a duplicate of alarm %d", dup.Results, err, a.ID)
	}
	clock.Set(clock.Now().Add(time.Minute))
	alarm.ID = "a2"
	next, err := tags.IngestTags(ctx, src, []onemap.IngestEvent{alarm})
	if err != nil || next.Results[0].AlarmID != a.ID || next.Results[0].Count != 2 {
		t.Errorf("within the storm: %+v %v, want alarm %d, count 2", next.Results, err, a.ID)
	}
	live := postgis.NewLive(db, clock.Now, 0)
	back, err := live.FindAlarm(ctx, a.ID)
	if err != nil || back.Tag != "TAG-000007" {
		t.Errorf("FindAlarm: %+v %v", back, err)
	}
}
