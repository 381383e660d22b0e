package inmem

import (
	"runtime/debug"
	"testing"
)

// TestLessGC: loads raise GOGC while any runs, and the last to end puts
// back what was set before, however they overlap; a higher setting, or
// none (off), is left alone.
func TestLessGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	a := lessGC()
	b := lessGC()
	if got := debug.SetGCPercent(-2); got != loadGCPercent {
		t.Fatalf("GOGC during two loads = %d, want %d", got, loadGCPercent)
	}
	debug.SetGCPercent(loadGCPercent)
	a() // the first ends before the second
	if got := debug.SetGCPercent(-2); got != loadGCPercent {
		t.Fatalf("GOGC while one load still runs = %d, want %d", got, loadGCPercent)
	}
	debug.SetGCPercent(loadGCPercent)
	b()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC after the loads = %d, want 100 again", got)
	}
	for _, before := range []int{-1, 1000} {
		debug.SetGCPercent(before)
		c := lessGC()
		got := debug.SetGCPercent(before)
		c()
		if after := debug.SetGCPercent(100); got != before || after != before {
			t.Errorf("GOGC %d: during a load %d, after %d; want it left alone", before, got, after)
		}
	}
}
