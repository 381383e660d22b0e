package api

import (
	"strconv"
	"sync"
	"testing"
)

// TestLengthValues holds lengthValues to strconv: the value of every length
// (lengths sharing a slot in turn, from many goroutines at once) is the
// length in decimal, full to its capacity; and a length met again costs
// no allocation.
func TestLengthValues(t *testing.T) {
	var l lengthValues
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 3 * lengthSlots {
				n := (i*7 + g*lengthSlots) % (3 * lengthSlots)
				v := l.get(n)
				if len(v) != 1 || cap(v) != 1 || v[0] != strconv.Itoa(n) {
					t.Errorf("get(%d) = %q (cap %d), want [%q] full", n, v, cap(v), strconv.Itoa(n))
					return
				}
			}
		})
	}
	wg.Wait()
	l.get(4676)
	if a := testing.AllocsPerRun(100, func() { l.get(4676) }); a != 0 {
		t.Errorf("get of a length met before: %v allocations, want none", a)
	}
}
