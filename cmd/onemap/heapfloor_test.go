package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

// TestHeapFloor: a floor of 64 MiB puts the collector's goal at least
// 2 × 64 MiB (GOGC 100); without it, or once released, the goal falls back
// to the few MiB this test's heap holds.
func TestHeapFloor(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	goal := func() uint64 {
		runtime.GC()
		s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	if g := goal(); g >= 64<<20 {
		t.Fatalf("the goal is already %d MiB without a floor", g>>20)
	}
	floor := newHeapFloor(64)
	if g := goal(); g < 128<<20 {
		t.Errorf("with a 64 MiB floor the goal is %d MiB, want at least 128", g>>20)
	}
	floor.release()
	if g := goal(); g >= 64<<20 {
		t.Errorf("after release the goal is still %d MiB", g>>20)
	}
	if newHeapFloor(0).block != nil {
		t.Errorf("a floor of 0 MiB holds a block")
	}
}
