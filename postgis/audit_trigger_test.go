package postgis_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
)

// TestMigrate_auditTriggerOfItsOwn: after the migrations the change feed's
// trigger function does the change feed's job only, and a feature write
// still writes its change-feed row and its audit record, both or neither,
// with the chain intact.
func TestMigrate_auditTriggerOfItsOwn(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.URL(t))

	var src string
	if err := db.QueryRowForTest(ctx, `SELECT prosrc FROM pg_proc WHERE oid = 'onemap_after_write()'::regprocedure`).Scan(&src); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(src), "audit") {
		t.Errorf("onemap_after_write still writes the audit trail:\n%s", src)
	}
	if !strings.Contains(src, "change_feed") || !strings.Contains(src, "feature_history") {
		t.Errorf("onemap_after_write no longer writes history and change feed:\n%s", src)
	}
	// Every tracked table has both triggers, the audit's firing second.
	var tables int
	if err := db.QueryRowForTest(ctx, `SELECT count(*) FROM pg_trigger f JOIN pg_trigger a ON a.tgrelid = f.tgrelid
		WHERE f.tgfoid = 'onemap_after_write()'::regprocedure AND a.tgfoid = 'onemap_audit_write()'::regprocedure
		  AND f.tgname < a.tgname`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 7 {
		t.Errorf("%d tables fire the audit trigger after the change feed's, want 7 (grids, four point layers, hazard zones and shelters)", tables)
	}

	feed := func() int { return count(t, db, `SELECT count(*) FROM change_feed WHERE layer = 'stations'`) }
	edits := func() int {
		return count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'edit' AND target LIKE 'stations/%'`)
	}
	c := onemap.Caller{Name: "qian", Role: onemap.RolePlanner, Client: "198.51.100.4"}
	rows := []postgis.ImportRow{station("拆分测试站", 102.4, 25.5)}
	if _, err := db.ImportFeatures(onemap.NewContext(ctx, c), "stations", rows, "qian", "split"); err != nil {
		t.Fatal(err)
	}
	if f, e := feed(), edits(); f != 1 || e != 1 {
		t.Fatalf("after one write: %d change-feed rows and %d audit records, want 1 and 1", f, e)
	}
	var detail, client string
	if err := db.QueryRowForTest(ctx, `SELECT detail::text, client FROM audit_log WHERE action = 'edit' AND target = $1`,
		"stations/"+strconv.FormatInt(rows[0].Feature.ID, 10)).Scan(&detail, &client); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"op": "insert"`, `"version": 1`, `"reason": "split"`, "拆分测试站", "after_geom_md5"} {
		if !strings.Contains(detail, want) {
			t.Errorf("the audit record's detail %s lacks %s", detail, want)
		}
	}
	if client != c.Client {
		t.Errorf("the audit record's client = %q, want %q", client, c.Client)
	}

	// A write that fails later in its transaction leaves neither row.
	bad := station("坏站", 102.42, 25.53)
	bad.Feature.Properties["kind"] = "no_such_kind"
	if _, err := db.ImportFeatures(onemap.NewContext(ctx, c), "stations",
		[]postgis.ImportRow{station("回滚站", 102.41, 25.52), bad}, "qian", ""); onemap.ErrorCode(err) != onemap.EINVALID {
		t.Fatalf("import with a bad second row: err = %v, want EINVALID", err)
	}
	if f, e := feed(), edits(); f != 1 || e != 1 {
		t.Errorf("after a rolled back write: %d change-feed rows and %d audit records, want still 1 and 1", f, e)
	}
	// An audit record that cannot be written fails the write whole.
	if err := db.ExecForTest(ctx, `ALTER TABLE audit_log ADD CONSTRAINT no_station_edits CHECK (target NOT LIKE 'stations/%') NOT VALID`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ImportFeatures(onemap.NewContext(ctx, c), "stations", []postgis.ImportRow{station("拒审站", 102.41, 25.52)}, "qian", ""); err == nil {
		t.Fatal("a write whose audit record was refused succeeded")
	}
	if f, e := feed(), edits(); f != 1 || e != 1 {
		t.Errorf("after a refused audit record: %d change-feed rows and %d audit records, want still 1 and 1", f, e)
	}
	if err := db.ExecForTest(ctx, `ALTER TABLE audit_log DROP CONSTRAINT no_station_edits`); err != nil {
		t.Fatal(err)
	}
	if check, err := db.VerifyAudit(ctx); err != nil || !check.OK || check.Rows < 1 {
		t.Errorf("the chain after the writes: %+v, %v", check, err)
	}
}

// TestMigrate_auditTriggerLockOrder: a feature write holds the change
// feed's advisory lock while it waits for audit_log's, never the other way
// round (grid edits take them in that order; the other would deadlock).
func TestMigrate_auditTriggerLockOrder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dbURL := pgtest.URL(t)
	db := pgtest.Open(t, dbURL)
	connect := func() *pgx.Conn {
		t.Helper()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		return conn
	}

	// holder holds audit_log's lock, so the write stops at its audit record.
	holder := connect()
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('onemap.audit_log'))`); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := db.ImportFeatures(ctx, "stations", []postgis.ImportRow{station("锁序站", 102.4, 25.5)}, "qian", "")
		done <- err
	}()

	probe := connect()
	for {
		var waiting bool
		if err := probe.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))`).Scan(&waiting); err != nil {
			t.Fatalf("waiting for the write to block: %v", err)
		}
		if waiting {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the write finished (%v) while audit_log's lock was held", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	var free bool
	if err := probe.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtext('onemap.change_feed'))`).Scan(&free); err != nil {
		t.Fatal(err)
	}
	if free {
		t.Error("a write waiting for audit_log's lock does not hold the change feed's: it takes them in the wrong order")
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("the write, once audit_log's lock was free: %v", err)
	}
}

// TestAudit_beforeInsertIgnoresCallersSearchPath: a temporary audit_log of
// the caller's does not feed the chain its last number and hash.
func TestAudit_beforeInsertIgnoresCallersSearchPath(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.URL(t)
	db := pgtest.Open(t, dbURL)
	recs := auditSome(t, db, 2)
	last := recs[len(recs)-1].Seq

	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TEMP TABLE audit_log (seq bigint, hash bytea);
		INSERT INTO audit_log VALUES (1000, sha256('forged'))`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO `+pgx.Identifier{schema, "audit_log"}.Sanitize()+
		` (actor, role, client, action, target) VALUES ('wu', 'commander', '', 'test', 'x')`); err != nil {
		t.Fatal(err)
	}
	var seq int64
	if err := db.QueryRowForTest(ctx, `SELECT max(seq) FROM audit_log`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	if seq != last+1 {
		t.Errorf("the record was numbered %d, want %d (after the real ones)", seq, last+1)
	}
	if check, err := db.VerifyAudit(ctx); err != nil || !check.OK || check.LastSeq != last+1 {
		t.Errorf("the chain: %+v, %v; want it intact up to %d", check, err, last+1)
	}
}
