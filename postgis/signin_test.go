package postgis_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
)

// TestSignInThrottle: failures are counted per name and client, for names
// no account has exactly as for an account's; they are forgotten after the
// memory, cleared by a sign-in from that client and by an unlock; known
// devices are remembered per account and forgotten with a new password.
func TestSignInThrottle(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.URL(t))
	a, err := db.CreateAccount(ctx, onemap.Account{Name: "zhou", Role: onemap.RoleCommander}, testHash)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	delay := func(n int) time.Duration { return time.Duration(n) * time.Second }
	fail := func(name, client string, at time.Time) onemap.SignInThrottle {
		t.Helper()
		th, err := db.LoginFailed(ctx, name, client, at, time.Hour, delay, "wrong password")
		if err != nil {
			t.Fatal(err)
		}
		return th
	}
	for i := 1; i <= 4; i++ {
		known, unknown := fail("zhou", "addr:10.0.0.1", at), fail("nobody", "addr:10.0.0.1", at)
		if known.Failures != i || unknown.Failures != i || !known.BlockedUntil.Equal(unknown.BlockedUntil) {
			t.Fatalf("failure %d: an account's name %+v, a name nobody has %+v; want the same", i, known, unknown)
		}
	}
	// A failure an hour and more after the last starts over.
	if th := fail("zhou", "addr:10.0.0.1", at.Add(time.Hour+time.Second)); th.Failures != 1 {
		t.Errorf("a failure after the memory: %d in a row, want 1", th.Failures)
	}
	if th, _ := db.FindSignInThrottle(ctx, "nobody", "addr:10.0.0.1", at.Add(time.Second)); th.Failures != 0 {
		t.Errorf("failures older than forgetBefore: %+v, want none", th)
	}
	// The old rows went as the new failure came.
	var n int
	if err := db.QueryRowForTest(ctx, `SELECT count(*) FROM signin_failures WHERE name = 'nobody'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("forgotten failures kept: %d rows (%v)", n, err)
	}

	// A sign-in clears its client's failures under the name, not others'.
	fail("zhou", "addr:10.0.0.2", at)
	device := sha256.Sum256([]byte("device-token"))
	if _, err := db.StartSession(ctx, a, onemap.NewSession{Token: "tok", CSRF: "c", At: at, TTL: time.Hour,
		Client: "addr:10.0.0.1", Device: device[:]}); err != nil {
		t.Fatal(err)
	}
	if th, _ := db.FindSignInThrottle(ctx, "zhou", "addr:10.0.0.1", at.Add(-time.Hour)); th.Failures != 0 {
		t.Errorf("after a sign-in from 10.0.0.1 its failures are %d, want 0", th.Failures)
	}
	if th, _ := db.FindSignInThrottle(ctx, "zhou", "addr:10.0.0.2", at.Add(-time.Hour)); th.Failures != 1 {
		t.Errorf("another client's failures are %d after a sign-in, want 1", th.Failures)
	}
	// The device is known to this account, not to another name, and not
	// once it has been unseen too long.
	for _, tc := range []struct {
		name  string
		since time.Time
		want  bool
	}{{"zhou", at, true}, {"nobody", at, false}, {"zhou", at.Add(time.Second), false}} {
		if got, err := db.KnownDevice(ctx, tc.name, device[:], tc.since); err != nil || got != tc.want {
			t.Errorf("KnownDevice(%s, since %v) = %v, %v; want %v", tc.name, tc.since, got, err, tc.want)
		}
	}
	// A session started at the server's instant expires by it.
	if _, err := db.FindSessionAt(ctx, "tok", at.Add(59*time.Minute), 2*time.Hour); err != nil {
		t.Errorf("the session at 59 min of 60: %v", err)
	}
	if _, err := db.FindSessionAt(ctx, "tok", at.Add(61*time.Minute), 2*time.Hour); onemap.ErrorCode(err) != onemap.EUNAUTHORIZED {
		t.Errorf("the session at 61 min of 60: %v, want unauthorized", err)
	}

	// Idle: a session unused for longer than idle ends; each use within it
	// marks it seen, but written at most once a minute.
	if _, err := db.StartSession(ctx, a, onemap.NewSession{Token: "tok2", CSRF: "c2", At: at, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	version := func() string {
		t.Helper()
		var x string
		if err := db.QueryRowForTest(ctx, `SELECT xmin::text FROM sessions WHERE csrf = 'c2'`).Scan(&x); err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, m := range []time.Duration{9, 18} {
		before := version()
		if _, err := db.FindSessionAt(ctx, "tok2", at.Add(m*time.Minute), 10*time.Minute); err != nil {
			t.Fatalf("used after %d min: %v", m, err)
		}
		if version() == before {
			t.Errorf("a use after %d min did not mark the session seen", m)
		}
		before = version()
		if _, err := db.FindSessionAt(ctx, "tok2", at.Add(m*time.Minute+30*time.Second), 10*time.Minute); err != nil {
			t.Fatal(err)
		}
		if version() != before {
			t.Errorf("a use 30 s after the last wrote the session again")
		}
	}
	if _, err := db.FindSessionAt(ctx, "tok2", at.Add(29*time.Minute), 10*time.Minute); onemap.ErrorCode(err) != onemap.EUNAUTHORIZED {
		t.Errorf("11 minutes unused of 10: %v, want unauthorized", err)
	}

	// An unlock clears every client's failures under the account's name.
	fail("zhou", "addr:10.0.0.3", at)
	if n, err := db.UnlockAccount(ctx, "zhou"); err != nil || n != 2 {
		t.Errorf("UnlockAccount = %d, %v; want 2 clients", n, err)
	}
	if th, _ := db.FindSignInThrottle(ctx, "zhou", "addr:10.0.0.2", at.Add(-time.Hour)); th.Failures != 0 {
		t.Errorf("after an unlock: %+v", th)
	}
	if _, err := db.UnlockAccount(ctx, "nobody"); onemap.ErrorCode(err) != onemap.ENOTFOUND {
		t.Errorf("UnlockAccount(nobody) = %v, want not found", err)
	}
	// A new password forgets the known devices.
	hash := testHash
	if _, err := db.UpdateAccount(ctx, "zhou", postgis.AccountChange{PasswordHash: &hash}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.KnownDevice(ctx, "zhou", device[:], at); got {
		t.Error("a device is still known after a new password")
	}
}
