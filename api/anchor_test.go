package api_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/checkpoint"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// TestAuditVerify_anchored: GET /api/audit/verify compares the trail with
// the latest checkpoint and reports a cut tail that the chain alone does
// not show.
func TestAuditVerify_anchored(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	db := pgtest.Open(t, url)
	dir := t.TempDir()
	key, err := checkpoint.GenerateKey(filepath.Join(dir, "k"))
	if err != nil {
		t.Fatal(err)
	}
	anchor := &checkpoint.Anchor{Key: key, File: checkpoint.File{Path: filepath.Join(dir, "cp.jsonl")}, Trail: db}
	srv := serveDeps(t, db, api.Deps{AuditAnchor: anchor})
	addAccount(t, db, "auditor2", onemap.RoleAuditor, 0)
	aud := newBrowser(t, srv.URL)
	aud.signIn("auditor2", "password-auditor2")
	if _, err := anchor.Write(ctx); err != nil {
		t.Fatal(err)
	}
	verify := func() checkpoint.Report {
		t.Helper()
		resp, body := aud.do("GET", "/api/audit/verify", "")
		var r checkpoint.Report
		if err := json.Unmarshal(body, &r); resp.StatusCode != 200 || err != nil {
			t.Fatalf("verify = %d %s", resp.StatusCode, body)
		}
		return r
	}
	if r := verify(); !r.OK || !r.Anchored || r.Checkpoint == nil {
		t.Errorf("an untouched trail: %+v", r)
	}
	newest, err := db.ListAudit(ctx, onemap.AuditFilter{Newest: true, Limit: 1})
	if err != nil || len(newest) != 1 {
		t.Fatal(newest, err)
	}
	head := newest[0].Seq
	conn := sqlConn(t, url) // as the superuser
	for _, sql := range []string{`ALTER TABLE audit_log DISABLE TRIGGER USER`, `DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)`,
		`ALTER TABLE audit_log ENABLE TRIGGER USER`} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	if r := verify(); r.OK || r.BrokenAt != head || r.Problem == "" {
		t.Errorf("a cut tail: %+v; want broken at %d", r, head)
	}
}
