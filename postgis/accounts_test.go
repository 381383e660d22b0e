package postgis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
)

const testHash = "$argon2id$v=19$m=19456,t=2,p=1$lK+Vgas8rhSWwep921Auvw$mnoZOOYPIoD7qtLDFqGY78PUBF8Y+umDAIXU0M9Vwng"

func TestAccountsAndSessions(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.URL(t))
	if _, err := db.CreateAccount(ctx, onemap.Account{Name: "wang", Role: onemap.RoleViewer}, testHash); err == nil ||
		!strings.Contains(err.Error(), "needs a grid") {
		t.Errorf("a viewer without a grid: err = %v, want it refused", err)
	}
	if _, err := db.CreateAccount(ctx, onemap.Account{Name: "bad name!", Role: onemap.RoleCommander}, testHash); onemap.ErrorCode(err) != onemap.EINVALID {
		t.Errorf("a bad name: err = %v, want invalid", err)
	}
	a, err := db.CreateAccount(ctx, onemap.Account{Name: "li", Role: onemap.RoleCommander}, testHash)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateAccount(ctx, onemap.Account{Name: "li", Role: onemap.RolePlanner}, testHash); onemap.ErrorCode(err) != onemap.ECONFLICT {
		t.Errorf("a second li: err = %v, want conflict", err)
	}
	s, err := db.CreateSession(ctx, a, "token-1", "csrf-1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.FindSession(ctx, "token-1", time.Hour)
	if err != nil || got.Account.Name != "li" || got.CSRF != "csrf-1" || !got.ExpiresAt.Equal(s.ExpiresAt) {
		t.Fatalf("FindSession = %+v, %v", got, err)
	}
	if _, err := db.FindSession(ctx, "token-2", time.Hour); onemap.ErrorCode(err) != onemap.EUNAUTHORIZED {
		t.Errorf("an unknown token: err = %v, want unauthorized", err)
	}
	// The database holds the token's hash only.
	var n int
	if err := db.QueryRowForTest(ctx, `SELECT count(*) FROM sessions WHERE token_hash = convert_to('token-1', 'UTF8')`).Scan(&n); err != nil || n != 0 {
		t.Errorf("a session row holds the token itself (%d, %v)", n, err)
	}
	// A role change ends the account's sessions.
	r := onemap.RolePlanner
	if _, err := db.UpdateAccount(ctx, "li", postgis.AccountChange{Role: &r}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindSession(ctx, "token-1", time.Hour); onemap.ErrorCode(err) != onemap.EUNAUTHORIZED {
		t.Errorf("after a role change the session lives on: %v", err)
	}
	// Failed sign-ins count per name and client, and the client waits as
	// long as the delay says from the instant given (the server's clock).
	at := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	delay := func(n int) time.Duration { return time.Duration(n) * time.Minute }
	var th onemap.SignInThrottle
	for range 3 {
		if th, err = db.LoginFailed(ctx, "li", "addr:10.0.0.1", at, time.Hour, delay, "wrong password"); err != nil {
			t.Fatal(err)
		}
	}
	if th.Failures != 3 || !th.BlockedUntil.Equal(at.Add(3*time.Minute)) {
		t.Errorf("after 3 failures: %+v; want 3, blocked until 08:03", th)
	}
	if got, err := db.FindSignInThrottle(ctx, "li", "addr:10.0.0.1", at.Add(-time.Hour)); err != nil || got.Failures != 3 || !got.BlockedUntil.Equal(th.BlockedUntil) {
		t.Errorf("FindSignInThrottle = %+v, %v; want %+v", got, err, th)
	}
	if got, err := db.FindSignInThrottle(ctx, "li", "addr:10.0.0.2", at.Add(-time.Hour)); err != nil || got.Failures != 0 {
		t.Errorf("another client: %+v, %v; want no failures", got, err)
	}
}

func TestAudit_chainDetectsTampering(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.URL(t))
	c := onemap.Caller{Name: "zhao", Role: onemap.RoleCommander, Client: "10.0.0.7"}
	for i, target := range []string{"households/1", "households/2", "households/3", "households/4"} {
		if err := db.Audit(onemap.NewContext(ctx, c), onemap.AuditHouseholdRead, target, map[string]any{"purpose": "走访 " + target, "i": i}); err != nil {
			t.Fatal(err)
		}
	}
	check, err := db.VerifyAudit(ctx)
	if err != nil || !check.OK || check.Rows < 4 {
		t.Fatalf("an untouched trail: %+v, %v", check, err)
	}
	recs, err := db.ListAudit(ctx, onemap.AuditFilter{Actor: "zhao"})
	if err != nil || len(recs) != 4 || recs[0].Client != "10.0.0.7" || recs[0].Role != "commander" {
		t.Fatalf("ListAudit = %+v, %v", recs, err)
	}
	// The application cannot change or remove a record.
	for _, sql := range []string{`UPDATE audit_log SET actor = 'x' WHERE seq = $1`, `DELETE FROM audit_log WHERE seq = $1`} {
		if err := db.ExecForTest(ctx, sql, recs[1].Seq); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want refused as append-only", sql, err)
		}
	}
	if err := db.ExecForTest(ctx, `TRUNCATE audit_log`); err == nil {
		t.Error("TRUNCATE audit_log succeeded")
	}
	if _, err := db.PruneAudit(ctx, 24*time.Hour); err == nil {
		t.Error("a retention of one day was accepted; at least six months is required")
	}
	// Someone with the database's keys edits, then deletes, a record behind
	// the application's back: the chain says where.
	tamper := func(sql string, args ...any) {
		t.Helper()
		if err := db.ExecForTest(ctx, `ALTER TABLE audit_log DISABLE TRIGGER audit_append_only`); err != nil {
			t.Fatal(err)
		}
		if err := db.ExecForTest(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
		if err := db.ExecForTest(ctx, `ALTER TABLE audit_log ENABLE TRIGGER audit_append_only`); err != nil {
			t.Fatal(err)
		}
	}
	tamper(`UPDATE audit_log SET detail = '{"purpose": "无"}' WHERE seq = $1`, recs[2].Seq)
	check, err = db.VerifyAudit(ctx)
	if err != nil || check.OK || check.BrokenAt != recs[2].Seq || !strings.Contains(check.Problem, "changed") {
		t.Errorf("an edited record: %+v, %v; want broken at %d", check, err, recs[2].Seq)
	}
	tamper(`DELETE FROM audit_log WHERE seq >= $1 AND seq <= $2`, recs[1].Seq, recs[2].Seq)
	check, err = db.VerifyAudit(ctx)
	if err != nil || check.OK || check.BrokenAt != recs[3].Seq || !strings.Contains(check.Problem, "missing") {
		t.Errorf("deleted records: %+v, %v; want broken at %d", check, err, recs[3].Seq)
	}
}

func TestAudit_editsAndDetailReads(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.DemoURL(t))
	c := onemap.Caller{Name: "zhou", Role: onemap.RoleCommander, Client: "192.0.2.1"}
	var id int64
	if err := db.QueryRowForTest(ctx, `SELECT min(household_id) FROM household_details`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	d, err := db.ReadHouseholdDetails(onemap.NewContext(ctx, c), id, "矛盾纠纷回访")
	if err != nil || d.HeadName == "" {
		t.Fatalf("ReadHouseholdDetails = %+v, %v", d, err)
	}
	if _, err := db.ReadHouseholdDetails(onemap.NewContext(ctx, c), -1, "x"); onemap.ErrorCode(err) != onemap.ENOTFOUND {
		t.Errorf("a missing household: err = %v", err)
	}
	recs, err := db.ListAudit(ctx, onemap.AuditFilter{Actor: "zhou"})
	if err != nil || len(recs) != 1 || recs[0].Action != onemap.AuditHouseholdRead || !strings.Contains(string(recs[0].Detail), "矛盾纠纷回访") {
		t.Fatalf("the read's record: %+v, %v", recs, err)
	}
	// An edit through the database enters the trail with before and after.
	n, err := db.ImportFeatures(onemap.NewContext(ctx, c), "stations", []postgis.ImportRow{station("审计测试站", 102.4, 25.5)}, "zhou", "test")
	if err != nil || n != 1 {
		t.Fatal(n, err)
	}
	recs, err = db.ListAudit(ctx, onemap.AuditFilter{Actor: "zhou", Action: "edit"})
	if err != nil || len(recs) != 1 || recs[0].Client != "192.0.2.1" || !strings.Contains(string(recs[0].Detail), "审计测试站") ||
		!strings.Contains(string(recs[0].Detail), "after_geom_md5") {
		t.Fatalf("the edit's record: %+v, %v", recs, err)
	}
	if check, err := db.VerifyAudit(ctx); err != nil || !check.OK {
		t.Errorf("the seeded trail does not verify: %+v, %v", check, err)
	}
}
