package onemap

import "time"

// AccountSecret is what signing in checks beside the account.
type AccountSecret struct {
	PasswordHash string
}

// SignInThrottle is how the failed sign-ins under one name from one client
// stand.
type SignInThrottle struct {
	Failures     int       // failed sign-ins in a row
	BlockedUntil time.Time // no sign-in is tried before this; zero: none
}

// NewSession is a session to start at a successful sign-in.
type NewSession struct {
	Token string        // the cookie's token; only its SHA-256 is stored
	CSRF  string        // what the session's changing requests echo
	At    time.Time     // when, on the server's clock; zero: the database's
	TTL   time.Duration // how long the session lives
	// Client is the throttling key of the client that signed in: its
	// failed sign-ins under the account's name are cleared.
	Client string
	// Device is the SHA-256 of the browser's known-device cookie, which is
	// remembered for the account (nil: none).
	Device []byte
}

// KnownDeviceTTL is how long a browser that signed in to an account stays
// known to it unseen (NewSession.Device).
const KnownDeviceTTL = 180 * 24 * time.Hour
