package postgis

import "time"

// storeClock is the clock a store times its writes by: the injected now
// (time.Now when none is given), in UTC and truncated to the microseconds
// PostgreSQL keeps, so that a time written and read back compares equal.
// The case, visit, dispute and live stores embed it.
type storeClock struct {
	now func() time.Time
}

// newStoreClock returns the clock of now (nil: time.Now).
func newStoreClock(now func() time.Time) storeClock {
	if now == nil {
		now = time.Now
	}
	return storeClock{now: now}
}

// Now returns the store's time, truncated to the microseconds PostgreSQL
// keeps.
func (c storeClock) Now() time.Time { return c.now().UTC().Truncate(time.Microsecond) }
