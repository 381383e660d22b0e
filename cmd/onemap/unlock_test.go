package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/onemapgis/onemap/internal/pgtest"
)

// TestUserUnlock: `onemap user unlock NAME` forgets every client's failed
// sign-ins under the account's name, so that none waits any longer.
func TestUserUnlock(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	onemap := newCLITest(t, url).onemapIn
	if _, err := onemap("a good password\n", "user", "add", "qin", "--role", "admin", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	db := pgtest.Open(t, url)
	now := time.Now()
	wait := func(int) time.Duration { return time.Hour }
	for _, client := range []string{"addr:198.51.100.7", "addr:203.0.113.5"} {
		if _, err := db.LoginFailed(ctx, "qin", client, now, 24*time.Hour, wait, "wrong password"); err != nil {
			t.Fatal(err)
		}
	}
	if th, _ := db.FindSignInThrottle(ctx, "qin", "addr:198.51.100.7", now.Add(-time.Hour)); !th.BlockedUntil.After(now) {
		t.Fatalf("before the unlock the client does not wait: %+v", th)
	}
	out, err := onemap("", "user", "unlock", "qin")
	if err != nil || !strings.Contains(out, "qin unlocked (2 clients") {
		t.Errorf("user unlock qin = %q, %v", out, err)
	}
	for _, client := range []string{"addr:198.51.100.7", "addr:203.0.113.5"} {
		if th, err := db.FindSignInThrottle(ctx, "qin", client, now.Add(-time.Hour)); err != nil || th.Failures != 0 {
			t.Errorf("after the unlock %s: %+v, %v; want no failures", client, th, err)
		}
	}
	if _, err := onemap("", "user", "unlock", "nobody"); err == nil || !strings.Contains(err.Error(), "no account") {
		t.Errorf("user unlock nobody: err = %v, want no account", err)
	}
	if _, err := onemap("", "user", "unlock"); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("user unlock without a name: err = %v, want the usage", err)
	}
}
