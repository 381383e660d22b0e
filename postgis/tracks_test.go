package postgis_test

import (
	"strings"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/postgis"
)

// TestTags_trackIndexOnly: a tag's day of positions, with every other
// tag's interleaved in time as they arrive, is read from the primary key
// alone once the retention job has vacuumed the closed day (migration
// 0029: the key carries lon and lat): an index-only scan with no heap
// fetch, whatever the heap's spread. The job vacuums a closed day once,
// and leaves the open day to autovacuum.
func TestTags_trackIndexOnly(t *testing.T) {
	_, tags, clock, src, conn := tagWorld(t)
	ctx := t.Context()
	day := clock.Now().Truncate(24 * time.Hour).Add(-24 * time.Hour) // yesterday, closed
	// One position of yesterday and one of today through the ingest (it
	// makes their partitions), then every tag once a minute, in time order.
	if _, err := tags.IngestTags(ctx, src, []onemap.IngestEvent{tagPos("a", "TAG-000001", day, 102.4, 25.5),
		tagPos("b", "TAG-000001", clock.Now().Add(-time.Minute), 102.4, 25.5)}); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO tag_positions (tag_id, at, lon, lat)
		SELECT t.id, $1::timestamptz + m * interval '1 minute', ST_X(t.home), ST_Y(t.home)
		FROM generate_series(1, 1439) m CROSS JOIN tags t ORDER BY 2, 1`, day); err != nil {
		t.Fatal(err)
	}
	if _, err := tags.DropOldPositions(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := tags.DropOldPositions(ctx); err != nil { // again: nothing more to vacuum
		t.Fatal(err)
	}
	vacuums := map[string]int{}
	rows, err := conn.Query(ctx, `SELECT relname, vacuum_count FROM pg_stat_user_tables WHERE relname LIKE 'tag_positions_p%'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		vacuums[name] = n
	}
	rows.Close()
	if vacuums["tag_positions_p20261205"] != 1 || vacuums["tag_positions_p20261206"] != 0 {
		t.Errorf("vacuums by partition %v, want the closed day once and the open day not", vacuums)
	}
	tag, err := tags.FindTag(ctx, "TAG-000001")
	if err != nil {
		t.Fatal(err)
	}
	track, _, err := tags.Track(ctx, tag.ID, day, day.Add(24*time.Hour), onemap.TrackMaxPoints)
	if err != nil || len(track) != 1440 {
		t.Fatalf("track of the day: %d positions (%v), want 1440", len(track), err)
	}
	var plan []string
	rows, err = conn.Query(ctx, `EXPLAIN (ANALYZE, COSTS OFF) `+postgis.TrackQuery, tag.ID, day, day.Add(24*time.Hour), onemap.TrackMaxPoints+1)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	rows.Close()
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "Index Only Scan using tag_positions_p20261205_pkey") || !strings.Contains(text, "Heap Fetches: 0") {
		t.Errorf("the track's plan reads the heap:\n%s", text)
	}
}
