package onemap

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testClock is a clock the test moves by hand.
type testClock struct{ t time.Time }

func (c *testClock) Now() time.Time          { return c.t }
func (c *testClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func TestSignInRules_DelayAfter(t *testing.T) {
	def := DefaultSignInRules()
	for n, want := range map[int]time.Duration{
		0: 0, 1: 0, 4: 0, 5: 30 * time.Second, 6: time.Minute, 7: 2 * time.Minute, 8: 4 * time.Minute,
		9: 8 * time.Minute, 10: 15 * time.Minute, 11: 15 * time.Minute, 1000: 15 * time.Minute,
	} {
		if got := def.DelayAfter(n); got != want {
			t.Errorf("defaults: delay after %d failures = %v, want %v", n, got, want)
		}
	}
	r := SignInRules{MaxFailures: 3, Delay: time.Minute, MaxDelay: 5 * time.Minute}
	for n, want := range map[int]time.Duration{2: 0, 3: time.Minute, 4: 2 * time.Minute, 5: 4 * time.Minute, 6: 5 * time.Minute} {
		if got := r.DelayAfter(n); got != want {
			t.Errorf("3/1m/5m: delay after %d failures = %v, want %v", n, got, want)
		}
	}
}

func TestSignInRules_WithDefaults(t *testing.T) {
	if got := (SignInRules{}).WithDefaults(); got != DefaultSignInRules() {
		t.Errorf("zero rules = %+v, want the defaults", got)
	}
	got := SignInRules{TTL: time.Hour, MaxFailures: 3}.WithDefaults()
	want := DefaultSignInRules()
	want.TTL, want.MaxFailures = time.Hour, 3
	if got != want {
		t.Errorf("partial rules = %+v, want %+v", got, want)
	}
}

// TestSignInRules_underClock follows one client's failures under one name
// on a clock the test moves: the wait it is told, when it may try again,
// and when its failures are forgotten.
func TestSignInRules_underClock(t *testing.T) {
	r := DefaultSignInRules()
	clk := &testClock{t: time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)}
	var blockedUntil, last time.Time
	fail := func(n int) {
		last = clk.Now()
		blockedUntil = last.Add(r.DelayAfter(n))
	}
	for n := 1; n <= 4; n++ {
		fail(n)
		if w := r.Wait(blockedUntil, clk.Now()); w != 0 {
			t.Fatalf("after %d failures the client waits %v, want none", n, w)
		}
		clk.Advance(time.Second)
	}
	fail(5)
	if w := r.Wait(blockedUntil, clk.Now()); w != 30*time.Second {
		t.Fatalf("after 5 failures: wait %v, want 30s", w)
	}
	clk.Advance(29 * time.Second)
	if w := r.Wait(blockedUntil, clk.Now()); w != time.Second {
		t.Fatalf("29 s on: wait %v, want 1s", w)
	}
	clk.Advance(time.Second)
	if w := r.Wait(blockedUntil, clk.Now()); w != 0 {
		t.Fatalf("30 s on: wait %v, want none", w)
	}
	fail(6)
	if w := r.Wait(blockedUntil, clk.Now()); w != time.Minute {
		t.Fatalf("after 6 failures: wait %v, want 1m", w)
	}
	// The failures count while the last is within Memory of now (the
	// store keeps those at or after ForgetBefore), and not after.
	clk.Advance(r.Memory)
	if fb := r.ForgetBefore(clk.Now()); last.Before(fb) {
		t.Errorf("a day after the last failure it is forgotten already (forget before %v)", fb)
	}
	clk.Advance(time.Nanosecond)
	if fb := r.ForgetBefore(clk.Now()); !last.Before(fb) {
		t.Errorf("a day and a moment after the last failure it still counts (forget before %v)", fb)
	}
}

func TestValidAccountName(t *testing.T) {
	for name, want := range map[string]bool{
		"zhou": true, "li.wei@county-7": true, "A_9": true, strings.Repeat("a", 64): true,
		"": false, strings.Repeat("a", 65): false, "张三": false, "li wei": false, "li:wei": false,
		"li\x00": false, "li/../wei": false, "ｚｈｏｕ": false,
	} {
		if got := ValidAccountName(name); got != want {
			t.Errorf("ValidAccountName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestSignInFailure(t *testing.T) {
	on, off := Account{Name: "zhou"}, Account{Name: "zhou", Disabled: true}
	for _, tc := range []struct {
		found   bool
		a       Account
		matches bool
		want    string
	}{
		{false, Account{}, false, "no such account"},
		{false, Account{}, true, "no such account"},
		{true, off, true, "account disabled"},
		{true, off, false, "account disabled"},
		{true, on, false, "wrong password"},
		{true, on, true, ""},
	} {
		if got := SignInFailure(tc.found, tc.a, tc.matches); got != tc.want {
			t.Errorf("SignInFailure(%v, disabled %v, %v) = %q, want %q", tc.found, tc.a.Disabled, tc.matches, got, tc.want)
		}
	}
}

func TestSignInClient_Key(t *testing.T) {
	addr := SignInClient{Addr: "2001:db8::/64"}
	dev := SignInClient{Addr: "2001:db8::/64", Device: "00ff"}
	if addr.Known() || addr.Key() != "addr:2001:db8::/64" {
		t.Errorf("address client: known %v key %q", addr.Known(), addr.Key())
	}
	if !dev.Known() || dev.Key() != "device:00ff" {
		t.Errorf("known device: known %v key %q", dev.Known(), dev.Key())
	}
}

func TestSignInGate(t *testing.T) {
	var g SignInGate // the zero value admits
	a := SignInClient{Addr: "10.0.0.1"}
	b := SignInClient{Addr: "10.0.0.1", Device: "0b"} // a browser known to its account, behind the same address
	if !g.Enter("zhou", a) {
		t.Fatal("a first try is refused")
	}
	if g.Enter("zhou", a) {
		t.Error("a second try under the same name and client is admitted while the first is under way")
	}
	if !g.Enter("li", a) {
		t.Error("a try under another name from the address is refused (two per address)")
	}
	if g.Enter("wang", a) {
		t.Error("a third try from the address is admitted")
	}
	if !g.Enter("wang", b) || !g.Enter("zhou", b) {
		t.Error("a known device is held up by its address's tries")
	}
	if g.Enter("zhou", b) {
		t.Error("a known device has two tries under one name at once")
	}
	g.Leave("zhou", a)
	if !g.Enter("wang", a) {
		t.Error("a try is refused after one under way from the address left")
	}
	for _, tc := range []struct {
		name string
		c    SignInClient
	}{{"li", a}, {"wang", a}, {"wang", b}, {"zhou", b}} {
		g.Leave(tc.name, tc.c)
	}
	if len(g.underWay) != 0 {
		t.Errorf("left behind: %v", g.underWay)
	}
}

// TestSignInGate_concurrent sends many tries under one name at once: one
// is admitted.
func TestSignInGate_concurrent(t *testing.T) {
	var g SignInGate
	var admitted atomic.Int32
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if g.Enter("zhou", SignInClient{Addr: "10.0.0.1"}) {
				admitted.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := admitted.Load(); n != 1 {
		t.Errorf("%d tries admitted at once, want 1", n)
	}
}
