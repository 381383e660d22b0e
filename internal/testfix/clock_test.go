package testfix

import (
	"sync"
	"testing"
	"time"
)

// TestClock: the clock stands where it was set until Add moves it, and
// concurrent readers and movers see a time it really stood at.
func TestClock(t *testing.T) {
	at := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	c := NewClock(at)
	if got := c.Now(); !got.Equal(at) {
		t.Fatalf("Now %v, want %v", got, at)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				c.Add(time.Second)
				if d := c.Now().Sub(at); d < time.Second || d > 400*time.Second || d%time.Second != 0 {
					t.Errorf("Now is %v past the start", d)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := c.Now(); !got.Equal(at.Add(400 * time.Second)) {
		t.Errorf("after 400 moves of a second: %v", got)
	}
}
