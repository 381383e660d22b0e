package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/onemapgis/onemap/internal/pgtest"
)

func TestUserCommands(t *testing.T) {
	url := pgtest.URL(t)
	onemap := newCLITest(t, url).onemapIn
	// The first admin, with a password made and shown once.
	out, err := onemap("", "user", "add", "root", "--role", "admin")
	if err != nil || !regexp.MustCompile(`password: \S{16,}`).MatchString(out) {
		t.Fatalf("user add root = %q, %v", out, err)
	}
	if out, err := onemap("correct horse battery\n", "user", "add", "zhang", "--role", "commander", "--password-stdin", "--display-name", "张队长"); err != nil ||
		strings.Contains(out, "password:") {
		t.Fatalf("user add zhang = %q, %v", out, err)
	}
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"user", "add", "zhang", "--role", "planner"}, "exists already"},
		{"", []string{"user", "add", "li", "--role", "public"}, "--role"},
		{"", []string{"user", "add", "li", "--role", "viewer"}, "needs a grid"},
		{"", []string{"user", "add", "li", "--role", "viewer", "--grid", "999999"}, "does not exist"},
		{"short\n", []string{"user", "add", "li", "--role", "auditor", "--password-stdin"}, "at least 10"},
		{"", []string{"user", "role", "nobody", "planner"}, "no account"},
		{"", []string{"user", "frobnicate"}, "usage"},
	} {
		if _, err := onemap(tc.stdin, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("onemap %s: err = %v, want it to say %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
	if out, err := onemap("", "user", "role", "zhang", "planner"); err != nil || !strings.Contains(out, "now planner") {
		t.Errorf("user role = %q, %v", out, err)
	}
	if out, err := onemap("", "user", "disable", "zhang"); err != nil || !strings.Contains(out, "disabled") {
		t.Errorf("user disable = %q, %v", out, err)
	}
	if out, err := onemap("another good password\n", "user", "passwd", "zhang", "--password-stdin"); err != nil || !strings.Contains(out, "sessions are ended") {
		t.Errorf("user passwd = %q, %v", out, err)
	}
	out, err = onemap("", "user", "list")
	if err != nil || !regexp.MustCompile(`zhang\s+planner\s+0\s+true\s+张队长`).MatchString(out) || !strings.Contains(out, "root") {
		t.Errorf("user list = %q, %v", out, err)
	}
	// Each change is in the audit trail, and the trail holds.
	if n := countRows(t, url, "audit_log"); n < 5 {
		t.Errorf("audit_log holds %d records after 5 account changes", n)
	}
	if out, err := onemap("", "audit", "verify"); err != nil || !strings.Contains(out, "intact") {
		t.Errorf("audit verify = %q, %v", out, err)
	}
	if _, err := onemap("", "audit", "prune", "--keep", "720h"); err == nil || !strings.Contains(err.Error(), "six months") {
		t.Errorf("audit prune --keep 720h: err = %v, want refused", err)
	}
}

func TestServe_demoAccounts(t *testing.T) {
	url := pgtest.DemoURL(t)
	base := startServer(t, url, "--demo-accounts")
	for _, tc := range []struct{ name, role string }{{"commander", "commander"}, {"viewer", "viewer"}, {"auditor", "auditor"},
		{"gridworker", "grid_worker"}, {"operator", "operator"}} {
		resp, err := http.Post(base+"/api/session", "application/json",
			strings.NewReader(`{"name":"`+tc.name+`","password":"onemap-demo"}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"role":"`+tc.role+`"`) {
			t.Errorf("sign in as %s = %d %s", tc.name, resp.StatusCode, body)
		}
	}
}
