package onemap

import (
	"sync"
	"time"
)

// SignInRules are the rules of signing in and of sessions, apart from HTTP
// (cookies, headers, answers) and from storage (where failures are
// counted): what a name must look like, how long a client waits after
// failing, when failures are forgotten, how long a session lives.
//
// Failed sign-ins are throttled per name tried and per client, never per
// account alone, so that no outsider can lock anyone out: once a client has
// failed MaxFailures times in a row under a name, it waits Delay before it
// may try that name again, and each further failure doubles the wait, up to
// MaxDelay; other clients do not wait. A name that no account has is
// throttled exactly alike, so that the answers do not tell which names
// exist. A browser that has signed in to the account before (a known
// device) is a client apart from its address (SignInClient). Failures are
// forgotten Memory after the last one.
//
// The zero value is no rule; DefaultSignInRules gives the defaults, and
// WithDefaults fills what is left zero.
type SignInRules struct {
	TTL         time.Duration // a session ends this long after sign-in
	Idle        time.Duration // or after this long unused
	MaxFailures int           // failures in a row under a name from a client that make it wait
	Delay       time.Duration // its first wait
	MaxDelay    time.Duration // its longest
	Memory      time.Duration // failures are forgotten this long after the last
}

// DefaultSignInRules returns the rules a server signs in with unless told
// otherwise: sessions of 12 h, ended after 2 h unused; a wait of 30 s after
// 5 failures in a row, doubling up to 15 min; failures forgotten a day after
// the last.
func DefaultSignInRules() SignInRules {
	return SignInRules{TTL: 12 * time.Hour, Idle: 2 * time.Hour, MaxFailures: 5,
		Delay: 30 * time.Second, MaxDelay: 15 * time.Minute, Memory: 24 * time.Hour}
}

// WithDefaults returns r with its zero fields set as DefaultSignInRules
// sets them.
func (r SignInRules) WithDefaults() SignInRules {
	d := DefaultSignInRules()
	for _, f := range []struct{ got, def *time.Duration }{
		{&r.TTL, &d.TTL}, {&r.Idle, &d.Idle}, {&r.Delay, &d.Delay}, {&r.MaxDelay, &d.MaxDelay}, {&r.Memory, &d.Memory},
	} {
		if *f.got == 0 {
			*f.got = *f.def
		}
	}
	if r.MaxFailures == 0 {
		r.MaxFailures = d.MaxFailures
	}
	return r
}

// DelayAfter returns how long a client waits after its n-th failed sign-in
// in a row under one name: nothing before MaxFailures, then Delay, doubled
// for each failure after, at most MaxDelay.
func (r SignInRules) DelayAfter(n int) time.Duration {
	if n < r.MaxFailures {
		return 0
	}
	d := r.Delay
	for i := r.MaxFailures; i < n && d < r.MaxDelay; i++ {
		d *= 2
	}
	return min(d, r.MaxDelay)
}

// ForgetBefore returns the time before which a client's last failure under
// a name no longer counts, at now.
func (r SignInRules) ForgetBefore(now time.Time) time.Time { return now.Add(-r.Memory) }

// Wait returns how long a client whose tries under a name are held until
// blockedUntil (the last failure plus DelayAfter) still waits at now
// before it may try again: 0 when it may try now.
func (r SignInRules) Wait(blockedUntil, now time.Time) time.Duration {
	if now.Before(blockedUntil) {
		return blockedUntil.Sub(now)
	}
	return 0
}

// ValidAccountName reports whether name has the form of an account's name:
// 1 to 64 ASCII letters, digits or _ . @ - (the accounts table's rule).
// What has not cannot be anyone's, and is refused before it is looked up.
func ValidAccountName(name string) bool {
	if len(name) < 1 || len(name) > 64 {
		return false
	}
	for _, r := range name {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '_', r == '.', r == '@', r == '-':
		default:
			return false
		}
	}
	return true
}

// SignInFailure returns why a sign-in fails, or "" when it does not: no
// account has the name (found false), the account is disabled, or the
// password does not match, in that order. The reason goes to the audit
// trail only; the caller is told the same for every one.
func SignInFailure(found bool, a Account, passwordMatches bool) string {
	switch {
	case !found:
		return "no such account"
	case a.Disabled:
		return "account disabled"
	case !passwordMatches:
		return "wrong password"
	}
	return ""
}

// SignInClient is who tries to sign in, as the throttle counts it: its
// address, or, for a browser that has signed in to the account before, its
// known device. A known device is trusted apart from its address: an
// outsider who fails under the name, or under many names, from the same
// address does not hold it up, and the address's own limits (its failures
// per period, its sign-ins under way) do not apply to it.
type SignInClient struct {
	Addr   string // the address as the limits count it (an IPv6 /64 is one client)
	Device string // a known device's key (hex of its token's hash); "" for a browser not known to the account
}

// Known reports whether the client is a device known to the account.
func (c SignInClient) Known() bool { return c.Device != "" }

// Key returns the key under which the client's failures under a name are
// counted: "device:…" for a known device, "addr:…" otherwise.
func (c SignInClient) Key() string {
	if c.Known() {
		return "device:" + c.Device
	}
	return "addr:" + c.Addr
}

// Sign-ins checked at once (SignInGate): per name and client one, so that
// each try sees the failures of the one before; per address two.
const (
	SignInsPerName = 1
	SignInsPerAddr = 2
)

// SignInGate admits the sign-ins being checked: a failure is counted only
// once its try has been hashed, so tries sent at once would otherwise all
// pass the throttle's checks before the first failure counts. It admits
// SignInsPerName per name and client, and SignInsPerAddr per address of
// the clients that are no known device. The zero value admits; it is safe
// for concurrent use.
type SignInGate struct {
	mu       sync.Mutex
	underWay map[string]int
}

// gateKeys returns the counters of SignInGate that a try of name by c
// takes: its name and client's, and its address's unless it is known.
func (c SignInClient) gateKeys(name string) (nameKey, addrKey string) {
	nameKey = name + "\x00" + c.Key()
	if !c.Known() {
		addrKey = "addr:" + c.Addr
	}
	return nameKey, addrKey
}

// Enter admits a try of name by c, or reports false when as many as the
// gate admits are under way for them already. An admitted try must Leave.
func (g *SignInGate) Enter(name string, c SignInClient) bool {
	nameKey, addrKey := c.gateKeys(name)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.underWay[nameKey] >= SignInsPerName || addrKey != "" && g.underWay[addrKey] >= SignInsPerAddr {
		return false
	}
	if g.underWay == nil {
		g.underWay = map[string]int{}
	}
	g.underWay[nameKey]++
	if addrKey != "" {
		g.underWay[addrKey]++
	}
	return true
}

// Leave ends a try that Enter admitted.
func (g *SignInGate) Leave(name string, c SignInClient) {
	nameKey, addrKey := c.gateKeys(name)
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, k := range []string{nameKey, addrKey} {
		if k == "" {
			continue
		}
		if g.underWay[k]--; g.underWay[k] <= 0 {
			delete(g.underWay, k)
		}
	}
}
