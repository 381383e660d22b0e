package postgis_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
)

// household is an import row of a household with the code, level and
// position given.
func household(code, kind, level string, at orb.Point) postgis.ImportRow {
	return postgis.ImportRow{Where: "row " + code, Feature: &onemap.Feature{Layer: onemap.LayerHouseholds, Geometry: at,
		Properties: map[string]any{"code": code, "kind": kind, "level": level, "responsible_name": "李四",
			"last_assessed_on": "2026-10-01", "next_assessment_due": "2027-01-01"}}}
}

// TestImport_upsert imports households by their natural key, the code: a
// reassessed household re-imported updates the one row as version 2 with
// its history (its personal details kept), a row that changes nothing
// writes nothing, a dry run reports and writes nothing, a file that mixes
// new and known households inserts the one and updates the other, and a
// file that names one household twice is refused.
func TestImport_upsert(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	db := pgtest.Open(t, url)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var kind string
	if err := conn.QueryRow(ctx, `SELECT code FROM household_kinds ORDER BY code LIMIT 1`).Scan(&kind); err != nil {
		t.Fatal(err)
	}
	at := orb.Point{102.4, 25.5}
	opts := postgis.ImportOptions{Actor: "importer", File: "households.csv"}
	rep, err := db.ImportWith(ctx, onemap.LayerHouseholds, []postgis.ImportRow{household("HH-A1", kind, "yellow", at)}, opts)
	if err != nil || rep != (postgis.ImportReport{Inserted: 1}) {
		t.Fatalf("first import: %+v %v", rep, err)
	}
	var id int64
	if err := conn.QueryRow(ctx, `SELECT id FROM households WHERE code = 'HH-A1'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO household_details (household_id, head_name, members) VALUES ($1, '王五', 4)`, id); err != nil {
		t.Fatal(err)
	}
	state := func() (rows, version, history, feed int) {
		t.Helper()
		err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM households), (SELECT max(version) FROM households WHERE code = 'HH-A1'),
			(SELECT count(*) FROM feature_history WHERE layer = 'households'), (SELECT count(*) FROM change_feed)`).Scan(&rows, &version, &history, &feed)
		if err != nil {
			t.Fatal(err)
		}
		return
	}

	// Reassessed: red now. A dry run first: reported, nothing written.
	r0, v0, h0, f0 := state()
	dry := opts
	dry.DryRun = true
	rep, err = db.ImportWith(ctx, onemap.LayerHouseholds, []postgis.ImportRow{household("HH-A1", kind, "red", at)}, dry)
	if err != nil || rep != (postgis.ImportReport{Updated: 1}) {
		t.Fatalf("dry run: %+v %v, want 1 updated", rep, err)
	}
	if r, v, h, f := state(); r != r0 || v != v0 || h != h0 || f != f0 {
		t.Fatalf("dry run wrote: rows %d→%d version %d→%d history %d→%d feed %d→%d", r0, r, v0, v, h0, h, f0, f)
	}
	rep, err = db.ImportWith(ctx, onemap.LayerHouseholds, []postgis.ImportRow{household("HH-A1", kind, "red", at)}, opts)
	if err != nil || rep != (postgis.ImportReport{Updated: 1}) {
		t.Fatalf("re-import: %+v %v, want 1 updated", rep, err)
	}
	if r, v, h, _ := state(); r != r0 || v != 2 || h != h0+1 {
		t.Errorf("re-import: %d rows (want %d), version %d (want 2), %d history rows (want %d)", r, r0, v, h, h0+1)
	}
	var level, code, file, head string
	if err := conn.QueryRow(ctx, `SELECT h.level, fh.reason_code, fh.import_file, d.head_name FROM households h
		JOIN feature_history fh ON fh.layer = 'households' AND fh.feature_id = h.id AND fh.version = 2
		JOIN household_details d ON d.household_id = h.id WHERE h.id = $1`, id).Scan(&level, &code, &file, &head); err != nil {
		t.Fatal(err)
	}
	if level != "red" || code != "import" || file != "households.csv" || head != "王五" {
		t.Errorf("after re-import: level %q, history %q %q, details' head %q", level, code, file, head)
	}

	// The same file again: nothing changes, no new version.
	r1, v1, h1, f1 := state()
	rep, err = db.ImportWith(ctx, onemap.LayerHouseholds, []postgis.ImportRow{household("HH-A1", kind, "red", at)}, opts)
	if err != nil || rep != (postgis.ImportReport{Unchanged: 1}) {
		t.Errorf("unchanged re-import: %+v %v, want 1 unchanged", rep, err)
	}
	if r, v, h, f := state(); r != r1 || v != v1 || h != h1 || f != f1 {
		t.Errorf("an unchanged row wrote: rows %d→%d version %d→%d history %d→%d feed %d→%d", r1, r, v1, v, h1, h, f1, f)
	}

	// New and known rows mixed; a dry run of it first.
	mixed := []postgis.ImportRow{household("HH-B2", kind, "blue", orb.Point{102.41, 25.51}), household("HH-A1", kind, "orange", at),
		household("HH-A1x", kind, "blue", orb.Point{102.42, 25.52})}
	mixed[2].Feature.Properties["code"] = "HH-C3"
	rep, err = db.ImportWith(ctx, onemap.LayerHouseholds, mixed, dry)
	if err != nil || rep != (postgis.ImportReport{Inserted: 2, Updated: 1}) {
		t.Errorf("dry run of a mixed file: %+v %v", rep, err)
	}
	if r, _, _, _ := state(); r != r1 {
		t.Errorf("dry run of a mixed file wrote: %d rows, want %d", r, r1)
	}
	mixed = append(mixed, household("HH-A1", kind, "orange", at))
	mixed[3].Where = "row 4"
	if _, err := db.ImportWith(ctx, onemap.LayerHouseholds, mixed, opts); onemap.ErrorCode(err) != onemap.EINVALID || onemap.ErrorField(err) != "code" {
		t.Errorf("a file that names a household twice: %v, want EINVALID on code", err)
	}
	mixed = mixed[:3]
	rep, err = db.ImportWith(ctx, onemap.LayerHouseholds, mixed, opts)
	if err != nil || rep != (postgis.ImportReport{Inserted: 2, Updated: 1}) {
		t.Fatalf("mixed file: %+v %v", rep, err)
	}
	if r, v, _, _ := state(); r != r1+2 || v != 3 {
		t.Errorf("mixed file: %d rows (want %d), HH-A1 at version %d (want 3)", r, r1+2, v)
	}

	// A household imported without a code gets one from its id.
	row := household("", kind, "blue", orb.Point{102.43, 25.53})
	delete(row.Feature.Properties, "code")
	if _, err := db.ImportWith(ctx, onemap.LayerHouseholds, []postgis.ImportRow{row}, opts); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := conn.QueryRow(ctx, `SELECT code FROM households WHERE id = $1`, row.Feature.ID).Scan(&got); err != nil || got == "" {
		t.Errorf("a household without a code: %q %v", got, err)
	}
}
