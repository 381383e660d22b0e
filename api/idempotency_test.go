package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/postgis"
)

// auditCount counts the audit records of an action by an actor.
func auditCount(t *testing.T, db *postgis.DB, action, actor string) int {
	t.Helper()
	recs, err := db.ListAudit(context.Background(), onemap.AuditFilter{Action: action, Actor: actor, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

// casesBy counts the cases an account reported.
func casesBy(t *testing.T, db *postgis.DB, account string) int {
	t.Helper()
	list, err := postgis.NewCases(db, nil).ListCases(context.Background(), onemap.CaseFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, k := range list {
		if k.ReportedBy == account {
			n++
		}
	}
	return n
}

// TestIdempotency_caseCreate: a report sent again under its key is
// answered with the first answer (same case, same body) and written once,
// with one audit record; the key reused with another body is 422 and
// writes nothing; another account's same key is its own; a bad key is 400
// naming it; the anonymous may not key writes.
func TestIdempotency_caseCreate(t *testing.T) {
	w := startCaseWorld(t)
	gw := w.as(t, "gw_key", onemap.RoleGridWorker, w.group)
	op := w.as(t, "op_key", onemap.RoleOperator, w.township)
	const key = "6f1c2a0e-8b7d-4c3e-9a51-2f0d7e1b3c44"
	body := reportJSON("safety", w.inGroup, "")
	resp, first := gw.do("POST", "/api/cases", body, "X-CSRF-Token", gw.csrf, "Idempotency-Key", key)
	if resp.StatusCode != 201 || resp.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first send = %d %s", resp.StatusCode, first)
	}
	made := decode[caseOut](t, first)
	for i := range 3 {
		resp, again := gw.do("POST", "/api/cases", body, "X-CSRF-Token", gw.csrf, "Idempotency-Key", key)
		if resp.StatusCode != 201 || string(again) != string(first) || resp.Header.Get("Idempotent-Replayed") != "true" ||
			resp.Header.Get("ETag") != `"1"` {
			t.Errorf("send %d = %d %s %v, want the first answer %s", i+2, resp.StatusCode, again, resp.Header, first)
		}
	}
	if n := casesBy(t, w.db, "gw_key"); n != 1 {
		t.Errorf("%d cases written, want 1", n)
	}
	if n := auditCount(t, w.db, onemap.AuditCaseCreate, "gw_key"); n != 1 {
		t.Errorf("%d case.create audit records, want 1", n)
	}
	// The same key with another body: 422, nothing written.
	resp, got := gw.do("POST", "/api/cases", reportJSON("sanitation", w.inGroup, ""), "X-CSRF-Token", gw.csrf, "Idempotency-Key", key)
	if resp.StatusCode != 422 || decode[fieldError](t, got).Field != "idempotency_key" {
		t.Errorf("key reused with another body = %d %s, want 422", resp.StatusCode, got)
	}
	// … and on another route.
	resp, got = gw.do("POST", fmt.Sprintf("/api/cases/%d/actions", made.ID), `{"action":"handle","version":1,"note":"x"}`,
		"X-CSRF-Token", gw.csrf, "Idempotency-Key", key)
	if resp.StatusCode != 422 {
		t.Errorf("key reused on another route = %d %s, want 422", resp.StatusCode, got)
	}
	if n := casesBy(t, w.db, "gw_key"); n != 1 {
		t.Errorf("%d cases after the reuse, want 1", n)
	}
	// Keys are an account's: the operator's same key is a write of its own.
	resp, got = op.do("POST", "/api/cases", body, "X-CSRF-Token", op.csrf, "Idempotency-Key", key)
	if resp.StatusCode != 201 || decode[caseOut](t, got).ID == made.ID {
		t.Errorf("another account's key = %d %s", resp.StatusCode, got)
	}
	// Without a key, a second send is a second report.
	for range 2 {
		if resp, got := gw.do("POST", "/api/cases", body, "X-CSRF-Token", gw.csrf); resp.StatusCode != 201 {
			t.Fatalf("unkeyed = %d %s", resp.StatusCode, got)
		}
	}
	if n := casesBy(t, w.db, "gw_key"); n != 3 {
		t.Errorf("%d cases after two unkeyed sends, want 3", n)
	}
	for _, bad := range []string{"has space", "ü-nicode", strings.Repeat("k", 101)} {
		resp, got := gw.do("POST", "/api/cases", body, "X-CSRF-Token", gw.csrf, "Idempotency-Key", bad)
		if resp.StatusCode != 400 || decode[fieldError](t, got).Field != "idempotency_key" {
			t.Errorf("key %.20q = %d %s", bad, resp.StatusCode, got)
		}
	}
	pub := newBrowser(t, w.url)
	if resp, got := pub.do("POST", "/api/cases", body, "Idempotency-Key", "anon-1"); resp.StatusCode != 401 {
		t.Errorf("anonymous keyed write = %d %s", resp.StatusCode, got)
	}
}

// TestIdempotency_action: a step sent again under its key — also after the
// case has moved on — is answered with its first answer and taken once.
func TestIdempotency_action(t *testing.T) {
	w := startCaseWorld(t)
	gw := w.as(t, "gw_act", onemap.RoleGridWorker, w.group)
	op := w.as(t, "op_act", onemap.RoleOperator, w.township)
	resp, body := op.do("POST", "/api/cases", reportJSON("safety", w.inGroup, ""), "X-CSRF-Token", op.csrf)
	if resp.StatusCode != 201 {
		t.Fatalf("report = %d %s", resp.StatusCode, body)
	}
	k := decode[caseOut](t, body)
	path := fmt.Sprintf("/api/cases/%d/actions", k.ID)
	for _, step := range []string{`{"action":"accept","version":1}`, fmt.Sprintf(`{"action":"assign","version":2,"grid_id":%d}`, w.group)} {
		if resp, body := op.do("POST", path, step, "X-CSRF-Token", op.csrf); resp.StatusCode != 200 {
			t.Fatalf("%s = %d %s", step, resp.StatusCode, body)
		}
	}
	const key = "handle-1"
	handle := `{"action":"handle","version":3,"note":"已到现场"}`
	resp, first := gw.do("POST", path, handle, "X-CSRF-Token", gw.csrf, "Idempotency-Key", key)
	if resp.StatusCode != 200 {
		t.Fatalf("handle = %d %s", resp.StatusCode, first)
	}
	if resp, body := gw.do("POST", path, `{"action":"feedback","version":4,"note":"已处理"}`, "X-CSRF-Token", gw.csrf); resp.StatusCode != 200 {
		t.Fatalf("feedback = %d %s", resp.StatusCode, body)
	}
	// The phone never heard the answer and sends the step again: the first
	// answer, not a 409 for version 3, and no second step.
	resp, again := gw.do("POST", path, handle, "X-CSRF-Token", gw.csrf, "Idempotency-Key", key)
	if resp.StatusCode != 200 || string(again) != string(first) {
		t.Errorf("handle sent again = %d %s, want %s", resp.StatusCode, again, first)
	}
	_, body = op.do("GET", fmt.Sprintf("/api/cases/%d", k.ID), "")
	got := decode[caseOut](t, body)
	handles := 0
	for _, s := range got.Timeline {
		if s.Action == "handle" {
			handles++
		}
	}
	if got.Version != 5 || handles != 1 {
		t.Errorf("version %d, %d handle steps; want 5 and 1: %s", got.Version, handles, body)
	}
	if n := auditCount(t, w.db, onemap.AuditCaseAction, "gw_act"); n != 2 {
		t.Errorf("%d case.action audit records by the grid worker, want 2", n)
	}
}

// TestIdempotency_race: sends of one keyed report racing each other make
// one case; each is answered with it, or told to ask again (409 naming the
// key) while the first answer is being kept.
func TestIdempotency_race(t *testing.T) {
	w := startCaseWorld(t)
	gw := w.as(t, "gw_race", onemap.RoleGridWorker, w.group)
	body := reportJSON("other", w.inGroup, "")
	const sends = 4
	type answer struct {
		status int
		id     int64
		field  string
	}
	answers := make([]answer, sends)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range sends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, got := gw.do("POST", "/api/cases", body, "X-CSRF-Token", gw.csrf, "Idempotency-Key", "race-key")
			answers[i] = answer{status: resp.StatusCode, id: decode[caseOut](t, got).ID, field: decode[fieldError](t, got).Field}
		}()
	}
	close(start)
	wg.Wait()
	var id int64
	for i, a := range answers {
		switch {
		case a.status == 201 && (id == 0 || id == a.id):
			id = a.id
		case a.status == 409 && a.field == "idempotency_key":
		default:
			t.Errorf("send %d: %+v", i, a)
		}
	}
	if n := casesBy(t, w.db, "gw_race"); n != 1 || id == 0 {
		t.Errorf("%d cases written (answers %+v), want 1", n, answers)
	}
}

// TestIdempotency_answerNotKept: a write made under a key whose answer was
// never kept (the server stopped between the two) is not made again: a
// repeat is told so (409 naming the key, Retry-After), and no second case
// is written.
func TestIdempotency_answerNotKept(t *testing.T) {
	w := startCaseWorld(t)
	gw := w.as(t, "gw_lost", onemap.RoleGridWorker, w.group)
	body := reportJSON("other", w.inGroup, "")
	// The hash the server takes of this request (api/idempotency.go).
	h := sha256.New()
	for _, part := range []string{"POST", "/api/cases", ""} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write([]byte(body))
	ctx := onemap.WithIdempotentRequest(onemap.NewContext(context.Background(),
		onemap.Caller{Name: "gw_lost", Role: onemap.RoleGridWorker, GridID: w.group}),
		onemap.IdempotentRequest{Key: "lost-1", Hash: hex.EncodeToString(h.Sum(nil))})
	k, err := postgis.NewCases(w.db, w.clock.Now).CreateCase(ctx, onemap.CaseReport{Source: onemap.SourceGridWorker,
		Category: "other", Description: "路灯坏了", Point: w.inGroup})
	if err != nil {
		t.Fatal(err)
	}
	resp, got := gw.do("POST", "/api/cases", body, "X-CSRF-Token", gw.csrf, "Idempotency-Key", "lost-1")
	if e := decode[fieldError](t, got); resp.StatusCode != 409 || e.Field != "idempotency_key" || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(e.Error, fmt.Sprintf("cases/%d", k.ID)) {
		t.Errorf("repeat of a write without its answer = %d %s %v", resp.StatusCode, got, resp.Header)
	}
	if n := casesBy(t, w.db, "gw_lost"); n != 1 {
		t.Errorf("%d cases, want 1", n)
	}
}

// TestIdempotency_kept: a key is kept IdempotencyKeep; past it, the
// account's next keyed write prunes it (the clock is the test's).
func TestIdempotency_kept(t *testing.T) {
	w := startCaseWorld(t)
	gw := w.as(t, "gw_old", onemap.RoleGridWorker, w.group)
	body := reportJSON("other", w.inGroup, "")
	send := func(key string) *http.Response {
		t.Helper()
		resp, got := gw.do("POST", "/api/cases", body, "X-CSRF-Token", gw.csrf, "Idempotency-Key", key)
		if resp.StatusCode != 201 {
			t.Fatalf("send %s = %d %s", key, resp.StatusCode, got)
		}
		return resp
	}
	send("old-1")
	w.clock.Add(onemap.IdempotencyKeep - time.Hour)
	send("old-2")
	if resp := send("old-1"); resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Error("a key younger than IdempotencyKeep was not kept")
	}
	w.clock.Add(2 * time.Hour)
	send("old-3") // prunes old-1
	if _, err := w.db.FindIdempotentAnswer(context.Background(), "gw_old", "old-1"); onemap.ErrorCode(err) != onemap.ENOTFOUND {
		t.Errorf("old-1 past IdempotencyKeep: %v, want not found", err)
	}
	if _, err := w.db.FindIdempotentAnswer(context.Background(), "gw_old", "old-2"); err != nil {
		t.Errorf("old-2 pruned too early: %v", err)
	}
}
