package api_test

import (
	"sync"
	"time"
)

// fakeClock is a clock that moves only when a test tells it to
// (SessionConfig.Now and the like).
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newTestClock returns a fakeClock at the real time, so that what the
// database times itself agrees with it.
func newTestClock() *fakeClock { return &fakeClock{now: time.Now()} }
