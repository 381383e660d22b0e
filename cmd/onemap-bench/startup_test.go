package main

import (
	"slices"
	"testing"
)

// TestStartupPhases: the server's start-up phase lines are found in its
// text log, each as its message and attributes, and nothing else is.
func TestStartupPhases(t *testing.T) {
	log := `time=2026-12-06T18:00:00Z level=INFO msg="loaded the replica" seq=1 took=2s
time=2026-12-06T18:00:00Z level=INFO msg="replica load: indexed a layer" layer=grids records=10 at=1s index=2ms names=3ms
time=2026-12-06T18:00:00Z level=INFO msg="replica load: phases" read=2s open_cases=5 tallies=1s total=3s
time=2026-12-06T18:00:01Z level=INFO msg=start-up open=1ms prepare=0s replica=3s public_index=0s base_map=1ms handlers=2ms took=3.1s
time=2026-12-06T18:00:01Z level=INFO msg=serving url=http://127.0.0.1:1
`
	got := startupPhases(log)
	want := []string{
		"replica load: indexed a layer    layer=grids records=10 at=1s index=2ms names=3ms",
		"replica load: phases             read=2s open_cases=5 tallies=1s total=3s",
		"start-up                         open=1ms prepare=0s replica=3s public_index=0s base_map=1ms handlers=2ms took=3.1s",
	}
	if !slices.Equal(got, want) {
		t.Errorf("startupPhases = %q, want %q", got, want)
	}
}
