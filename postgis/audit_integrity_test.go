package postgis_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/checkpoint"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/migrations"
	"github.com/onemapgis/onemap/postgis"
)

// auditSome appends n records to the trail and returns them.
func auditSome(t *testing.T, db *postgis.DB, n int) []onemap.AuditRecord {
	t.Helper()
	ctx := onemap.NewContext(context.Background(), onemap.Caller{Name: "wu", Role: onemap.RoleCommander, Client: "10.0.0.9"})
	for i := range n {
		if err := db.Audit(ctx, onemap.AuditHouseholdRead, fmt.Sprintf("households/%d", i+1), map[string]any{"purpose": "走访", "i": i}); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := db.ListAudit(ctx, onemap.AuditFilter{Actor: "wu", Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// rebuildChain recomputes every hash from record from on with the
// database's own audit_payload, as someone who can disable the triggers
// would after editing a record: the chain holds again by itself.
const rebuildChain = `WITH RECURSIVE chain(seq, prev, hash) AS (
	SELECT a.seq, p.hash, sha256(p.hash || audit_payload(a.seq, a.at, a.actor, a.role, a.client, a.action, a.target, a.detail))
	  FROM audit_log a,
	       (SELECT coalesce((SELECT hash FROM audit_log WHERE seq = $1 - 1), (SELECT hash FROM audit_anchor)) AS hash) p
	 WHERE a.seq = $1
	UNION ALL
	SELECT a.seq, chain.hash, sha256(chain.hash || audit_payload(a.seq, a.at, a.actor, a.role, a.client, a.action, a.target, a.detail))
	  FROM audit_log a JOIN chain ON a.seq = chain.seq + 1)
UPDATE audit_log t SET prev_hash = chain.prev, hash = chain.hash FROM chain WHERE t.seq = chain.seq`

// asSuperuser runs statements on db with the trail's triggers disabled, as
// a superuser can.
func asSuperuser(t *testing.T, db *postgis.DB, stmts ...func() error) {
	t.Helper()
	if err := db.ExecForTest(context.Background(), `ALTER TABLE audit_log DISABLE TRIGGER USER`); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := db.ExecForTest(context.Background(), `ALTER TABLE audit_log ENABLE TRIGGER USER`); err != nil {
			t.Fatal(err)
		}
	}()
	for _, f := range stmts {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
}

func exec(db *postgis.DB, sql string, args ...any) func() error {
	return func() error { return db.ExecForTest(context.Background(), sql, args...) }
}

// newAnchor makes a key and a checkpoint file for db's trail in a folder
// of the test's own, with a clock the test sets.
func newAnchor(t *testing.T, db *postgis.DB, now *time.Time) *checkpoint.Anchor {
	t.Helper()
	dir := t.TempDir()
	key, err := checkpoint.GenerateKey(filepath.Join(dir, "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	return &checkpoint.Anchor{Key: key, File: checkpoint.File{Path: filepath.Join(dir, "checkpoints.jsonl")}, Trail: db,
		Now: func() time.Time { return *now }}
}

func verify(t *testing.T, a *checkpoint.Anchor) checkpoint.Report {
	t.Helper()
	r, err := a.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestAudit_appRoleCannotPrune: the old escape hatch (SET
// onemap.audit_prune = 'on') deletes nothing, whether the server's user is
// a superuser or an ordinary owner of the database; the ordinary owner
// cannot disable the trail's triggers, move its anchor or replace its
// functions either, and prunes only through audit_prune.
func TestAudit_appRoleCannotPrune(t *testing.T) {
	ctx := context.Background()
	setTrick := func(t *testing.T, dbURL string, seq int64) error {
		t.Helper()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `SET onemap.audit_prune = 'on'`); err != nil {
			t.Fatal(err)
		}
		_, err = conn.Exec(ctx, `DELETE FROM audit_log WHERE seq >= $1`, seq)
		return err
	}

	t.Run("superuser", func(t *testing.T) {
		dbURL := pgtest.URL(t)
		db := pgtest.Open(t, dbURL)
		u, _ := url.Parse(dbURL)
		ownedAfterMigrating(t, dbURL, u.User.Username())
		recs := auditSome(t, db, 4)
		if err := setTrick(t, dbURL, recs[2].Seq); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("the newest records deleted with SET onemap.audit_prune: err = %v, want refused as append-only", err)
		}
		if got := auditSome(t, db, 0); len(got) != 4 {
			t.Errorf("after the attempt the trail holds %d of 4 records", len(got))
		}
		if super, _, err := db.AuditPowers(ctx); err != nil || !super {
			t.Errorf("AuditPowers as a superuser = %v, %v; want superuser", super, err)
		}
	})

	t.Run("ordinary owner", func(t *testing.T) {
		su, role, appURL, owner := ordinaryOwner(t, false)
		app := pgtest.Open(t, appURL)
		if err := app.Migrate(ctx, migrations.FS); err != nil {
			t.Fatalf("migrate as an ordinary owner: %v", err)
		}
		ownedAfterMigrating(t, appURL, role)
		if super, createRole, err := app.AuditPowers(ctx); err != nil || super || !createRole {
			t.Errorf("AuditPowers as an owner with CREATEROLE = %v, %v, %v; want createrole only", super, createRole, err)
		}
		recs := auditSome(t, app, 4)
		if err := setTrick(t, appURL, recs[2].Seq); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("the newest records deleted with SET onemap.audit_prune: err = %v, want permission denied", err)
		}
		for _, sql := range []string{
			`ALTER TABLE audit_log DISABLE TRIGGER audit_append_only`,
			`UPDATE audit_log SET actor = 'x'`,
			`TRUNCATE audit_log`,
			`UPDATE audit_anchor SET seq = 1000000`,
			`CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$`,
			`SET ROLE onemap_audit`,
		} {
			if err := app.ExecForTest(ctx, sql); err == nil {
				t.Errorf("as the server's user: %s succeeded", sql)
			}
		}
		if got := auditSome(t, app, 0); len(got) != 4 {
			t.Fatalf("after the attempts the trail holds %d of 4 records", len(got))
		}
		// Retention through audit_prune still works for the server's user:
		// two records of a year ago go, and the anchor moves.
		asSuperuser(t, owner,
			exec(owner, `UPDATE audit_log SET at = at - interval '1 year' WHERE seq <= $1`, recs[1].Seq),
			exec(owner, rebuildChain, recs[0].Seq))
		if _, err := app.PruneAudit(ctx, 24*time.Hour); err == nil {
			t.Error("a retention of one day was accepted")
		}
		n, err := app.PruneAudit(ctx, 4380*time.Hour)
		if err != nil || n != 2 {
			t.Errorf("PruneAudit as the server's user = %d, %v; want 2 removed", n, err)
		}
		if check, err := app.VerifyAudit(ctx); err != nil || !check.OK || check.FirstSeq != recs[2].Seq {
			t.Errorf("after pruning: %+v, %v", check, err)
		}
		var member bool
		if err := su.QueryRow(ctx, `SELECT pg_has_role($1, 'onemap_audit', 'MEMBER')`, role).Scan(&member); err != nil || member {
			t.Errorf("the server's user is a member of onemap_audit after migrating (%v)", err)
		}
	})

	// An owner that is a member of onemap_audit already (the operator's
	// doing) migrates without joining it, and stays a member: migration
	// 0007 takes back only the membership it gave.
	t.Run("ordinary owner, a member already", func(t *testing.T) {
		su, role, appURL, _ := ordinaryOwner(t, true)
		if err := pgtest.Open(t, appURL).Migrate(ctx, migrations.FS); err != nil {
			t.Fatalf("migrate as an ordinary owner and member: %v", err)
		}
		ownedAfterMigrating(t, appURL, role)
		var member bool
		if err := su.QueryRow(ctx, `SELECT pg_has_role($1, 'onemap_audit', 'MEMBER')`, role).Scan(&member); err != nil || !member {
			t.Errorf("the server's user is no longer a member of onemap_audit after migrating (%v)", err)
		}
	})
}

// ordinaryOwner makes a role with CREATEROLE and a database of its own, as
// an operator sets up the server's user without a superuser, and returns a
// superuser's connection, the role, the database's URL as the role and the
// database as the superuser (with PostGIS, which only a superuser may
// create). With member the role is a member of onemap_audit beforehand.
func ordinaryOwner(t *testing.T, member bool) (su *pgx.Conn, role, appURL string, owner *postgis.DB) {
	t.Helper()
	ctx := context.Background()
	admin := pgtest.AdminURL(t)
	role = fmt.Sprintf("onemap_app_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	pw := "pw-" + role
	su, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { su.Close(context.Background()) })
	var create string
	if err := su.QueryRow(ctx, `SELECT format('CREATE ROLE %I LOGIN CREATEROLE PASSWORD %L', $1::text, $2::text)`, role, pw).Scan(&create); err != nil {
		t.Fatal(err)
	}
	if _, err := su.Exec(ctx, create); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // after the database is dropped (cleanups run last first)
		c, err := pgx.Connect(context.Background(), admin)
		if err == nil {
			c.Exec(context.Background(), `DROP ROLE IF EXISTS `+pgx.Identifier{role}.Sanitize())
			c.Close(context.Background())
		}
	})
	if member {
		// Roles are the cluster's: onemap_audit is there if any database
		// of the cluster was migrated, and made here if none was.
		if _, err := su.Exec(ctx, `DO $$ BEGIN CREATE ROLE onemap_audit NOLOGIN;
			EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`); err != nil {
			t.Fatal(err)
		}
		if _, err := su.Exec(ctx, `GRANT onemap_audit TO `+pgx.Identifier{role}.Sanitize()); err != nil {
			t.Fatal(err)
		}
	}
	dbURL := pgtest.EmptyURL(t)
	owner = pgtest.Open(t, dbURL) // as the superuser: what only a superuser may do
	if err := owner.ExecForTest(ctx, `CREATE EXTENSION IF NOT EXISTS postgis`); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(dbURL)
	if err := owner.ExecForTest(ctx, `ALTER DATABASE `+pgx.Identifier{strings.TrimPrefix(u.Path, "/")}.Sanitize()+` OWNER TO `+pgx.Identifier{role}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, pw)
	return su, role, u.String(), owner
}

// ownedAfterMigrating fails t unless, in the database at appURL migrated by
// role, the trail and its functions belong to onemap_audit and the tables
// of the migrations after 0007 to role: migration 0007 hands the trail over
// without acting as onemap_audit afterwards.
func ownedAfterMigrating(t *testing.T, appURL, role string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), appURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c
		WHERE c.relname IN ('audit_log', 'audit_anchor', 'photo_turns', 'case_tally', 'schema_migrations') AND c.relkind = 'r'
		UNION ALL SELECT p.proname, pg_get_userbyid(p.proowner) FROM pg_proc p WHERE p.proname IN ('audit_prune', 'audit_append_only')
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	owners, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Name, Owner string }])
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"audit_log": "onemap_audit", "audit_anchor": "onemap_audit", "audit_prune": "onemap_audit",
		"audit_append_only": "onemap_audit", "photo_turns": role, "case_tally": role, "schema_migrations": role}
	if len(owners) != len(want) {
		t.Errorf("owners %v, want those of %v", owners, want)
	}
	for _, o := range owners {
		if want[o.Name] != o.Owner {
			t.Errorf("%s belongs to %s, want %s", o.Name, o.Owner, want[o.Name])
		}
	}
}

// TestAudit_checkpointCatchesCutTail: a superuser deletes the newest
// records (the chain holds by itself), then the trail grows past the
// checkpoint again; both are reported against the checkpoint.
func TestAudit_checkpointCatchesCutTail(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.URL(t))
	now := time.Now()
	a := newAnchor(t, db, &now)
	auditSome(t, db, 3)
	if _, err := a.Write(ctx); err != nil {
		t.Fatal(err)
	}
	recs := auditSome(t, db, 2)
	cp, err := a.Write(ctx)
	if err != nil || cp.Seq != recs[4].Seq {
		t.Fatalf("Write = %+v, %v; want a checkpoint of record %d", cp, err, recs[4].Seq)
	}
	if r := verify(t, a); !r.OK || !r.Anchored || r.Checkpoint.Seq != cp.Seq {
		t.Fatalf("an untouched trail: %+v", r)
	}
	asSuperuser(t, db, exec(db, `DELETE FROM audit_log WHERE seq >= $1`, recs[3].Seq))
	if check, _ := db.VerifyAudit(ctx); !check.OK {
		t.Fatalf("the chain alone should hold after its tail is cut (that is the hole): %+v", check)
	}
	r := verify(t, a)
	if r.OK || r.BrokenAt != recs[3].Seq || !strings.Contains(r.Problem, "were removed") {
		t.Errorf("a cut tail: %+v; want broken at %d, records removed", r, recs[3].Seq)
	}
	if _, err := a.Write(ctx); err == nil {
		t.Error("a checkpoint was signed over a cut tail")
	}
	auditSome(t, db, 3) // new records take the numbers of the removed ones
	r = verify(t, a)
	want := fmt.Sprintf("one of records %d to %d was changed", recs[3].Seq, cp.Seq)
	if r.OK || r.BrokenAt != recs[3].Seq || !strings.Contains(r.Problem, want) {
		t.Errorf("a cut tail grown again: %+v; want broken at %d, %q", r, recs[3].Seq, want)
	}
}

// TestAudit_checkpointCatchesRebuiltChain: a superuser disables the
// triggers, edits a record and rebuilds the chain with audit_payload(): the
// chain holds by itself, the checkpoint says otherwise.
func TestAudit_checkpointCatchesRebuiltChain(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.URL(t))
	now := time.Now()
	a := newAnchor(t, db, &now)
	auditSome(t, db, 5)
	cp1, err := a.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	recs := auditSome(t, db, 5)
	cp2, err := a.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	asSuperuser(t, db,
		exec(db, `UPDATE audit_log SET detail = '{"purpose": "无"}' WHERE seq = $1`, recs[7].Seq),
		exec(db, rebuildChain, recs[7].Seq))
	if check, _ := db.VerifyAudit(ctx); !check.OK {
		t.Fatalf("the rebuilt chain should hold by itself (that is the hole): %+v", check)
	}
	// The latest checkpoint catches it; the one before narrows it down.
	r := verify(t, a)
	want := fmt.Sprintf("one of records %d to %d was changed", cp1.Seq+1, cp2.Seq)
	if r.OK || r.BrokenAt != cp1.Seq+1 || !strings.Contains(r.Problem, "rebuilt") || !strings.Contains(r.Problem, want) {
		t.Errorf("a rebuilt chain: %+v; want broken at %d, %q", r, cp1.Seq+1, want)
	}
	if _, err := a.Write(ctx); err == nil {
		t.Error("a checkpoint was signed over a rebuilt chain")
	}
}

// TestAudit_checkpointAfterRetention: pruning through audit_prune verifies
// against checkpoints before it, also one whose record it removed; a fake
// pruning of recent records does not.
func TestAudit_checkpointAfterRetention(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.URL(t))
	now := time.Now()
	a := newAnchor(t, db, &now)
	recs := auditSome(t, db, 6)
	asSuperuser(t, db, // a trail whose first three records are a year old
		exec(db, `UPDATE audit_log SET at = at - interval '1 year' WHERE seq <= $1`, recs[2].Seq),
		exec(db, rebuildChain, recs[0].Seq))
	recs = auditSome(t, db, 0)
	old := &checkpoint.Anchor{Key: a.Key, File: checkpoint.File{Path: filepath.Join(t.TempDir(), "old.jsonl")}, Trail: db, Now: a.Now}
	cp, err := a.Key.Sign(checkpoint.Point{Seq: recs[1].Seq, At: recs[1].At, Hash: hashOf(t, db, recs[1].Seq)}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.File.Append(cp); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Write(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := db.PruneAudit(ctx, 4380*time.Hour)
	if err != nil || n != 3 {
		t.Fatalf("PruneAudit = %d, %v; want the 3 old records removed", n, err)
	}
	if r := verify(t, a); !r.OK || !r.Anchored {
		t.Errorf("after pruning, against the checkpoint of the head: %+v", r)
	}
	if r := verify(t, old); !r.OK || !r.Anchored {
		t.Errorf("after pruning, against a checkpoint of a pruned record: %+v", r)
	}
	if _, err := a.Write(ctx); err != nil {
		t.Errorf("a checkpoint after pruning: %v", err)
	}
	// Records of today removed as if by retention: the anchor moved by
	// hand past the record of a checkpoint written today, while the latest
	// checkpoint's record is kept.
	recs = auditSome(t, db, 3)
	if _, err := a.Write(ctx); err != nil {
		t.Fatal(err)
	}
	asSuperuser(t, db,
		exec(db, `UPDATE audit_anchor SET seq = a.seq, hash = a.hash, pruned_at = now() FROM audit_log a WHERE a.seq = $1`, recs[len(recs)-2].Seq),
		exec(db, `DELETE FROM audit_log WHERE seq <= $1`, recs[len(recs)-2].Seq))
	if check, _ := db.VerifyAudit(ctx); !check.OK {
		t.Fatalf("the chain alone should hold from the moved anchor: %+v", check)
	}
	if r := verify(t, a); r.OK || r.BrokenAt != recs[len(recs)-2].Seq || !strings.Contains(r.Problem, "not by retention") {
		t.Errorf("recent records removed under a moved anchor: %+v", r)
	}
}

func hashOf(t *testing.T, db *postgis.DB, seq int64) []byte {
	t.Helper()
	var h []byte
	if err := db.QueryRowForTest(context.Background(), `SELECT hash FROM audit_log WHERE seq = $1`, seq).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestAudit_checkpointTampered: a checkpoint whose fields or signature were
// changed, or that another key signed, is reported.
func TestAudit_checkpointTampered(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.URL(t))
	now := time.Now()
	a := newAnchor(t, db, &now)
	auditSome(t, db, 3)
	cp, err := a.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other := newAnchor(t, db, &now)
	foreign, err := other.Key.Sign(checkpoint.Point{Seq: cp.Seq, At: cp.At, Hash: cp.Hash}, now)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		edit func(c *checkpoint.Checkpoint)
		want string
	}{
		"seq":       {func(c *checkpoint.Checkpoint) { c.Seq-- }, "signature"},
		"signature": {func(c *checkpoint.Checkpoint) { c.Sig[3] ^= 1 }, "signature"},
		"key":       {func(c *checkpoint.Checkpoint) { *c = foreign }, "signed by key"},
	} {
		c := cp
		c.Sig = append([]byte{}, cp.Sig...)
		tc.edit(&c)
		line, _ := json.Marshal(c)
		path := filepath.Join(t.TempDir(), name+".jsonl")
		if err := os.WriteFile(path, append(line, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		b := *a
		b.File = checkpoint.File{Path: path}
		if r := verify(t, &b); r.OK || !strings.Contains(r.Problem, tc.want) {
			t.Errorf("a checkpoint with its %s changed: %+v; want %q", name, r, tc.want)
		}
	}
	// Without a checkpoint, verify says it is not anchored.
	b := *a
	b.File = checkpoint.File{Path: filepath.Join(t.TempDir(), "none.jsonl")}
	if r := verify(t, &b); !r.OK || r.Anchored || !strings.Contains(r.Note, "not anchored") {
		t.Errorf("without checkpoints: %+v", r)
	}
}
