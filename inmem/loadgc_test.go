package inmem

import (
	"runtime/debug"
	"testing"

	"github.com/onemapgis/onemap"
)

// TestGCDuringLoads: loads raise GOGC while any runs, and the last to end
// puts back what was set before, however they overlap; a higher setting,
// or none (off), is left alone.
func TestGCDuringLoads(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	const percent = 400
	g := NewGCDuringLoads(percent)
	a := g.begin()
	b := g.begin()
	if got := debug.SetGCPercent(-2); got != percent {
		t.Fatalf("GOGC during two loads = %d, want %d", got, percent)
	}
	debug.SetGCPercent(percent)
	a() // the first ends before the second
	if got := debug.SetGCPercent(-2); got != percent {
		t.Fatalf("GOGC while one load still runs = %d, want %d", got, percent)
	}
	debug.SetGCPercent(percent)
	b()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC after the loads = %d, want 100 again", got)
	}
	for _, before := range []int{-1, 1000} {
		debug.SetGCPercent(before)
		c := g.begin()
		got := debug.SetGCPercent(before)
		c()
		if after := debug.SetGCPercent(100); got != before || after != before {
			t.Errorf("GOGC %d: during a load %d, after %d; want it left alone", before, got, after)
		}
	}
	if NewGCDuringLoads(0) != nil {
		t.Errorf("NewGCDuringLoads(0) is not nil: want GOGC left alone")
	}
}

// TestReplica_loadGCOption: a replica raises GOGC during its loads (the
// parallel and the sequential one) only when its options say so, and puts
// it back after; a replica of the default options leaves it alone.
func TestReplica_loadGCOption(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	cat := onemap.NewCatalog()
	for _, tc := range []struct {
		name string
		o    Options
		want int
	}{
		{"default", Options{}, 100},
		{"LoadGC 400", Options{LoadGC: NewGCDuringLoads(400)}, 400},
		{"LoadGC 0", Options{LoadGC: NewGCDuringLoads(0)}, 100},
	} {
		r := NewWith(cat, tc.o)
		during := func() int {
			p := debug.SetGCPercent(-2)
			debug.SetGCPercent(p)
			return p
		}
		var par, seq int
		if err := r.LoadParallel(func(func(string, []*onemap.Record) error, func(*onemap.Case) error) (int64, error) {
			par = during()
			return 1, nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := r.LoadWithCases(func(func(string, *onemap.Record) error, func(*onemap.Case) error) (int64, error) {
			seq = during()
			return 2, nil
		}); err != nil {
			t.Fatal(err)
		}
		if par != tc.want || seq != tc.want {
			t.Errorf("%s: GOGC during the parallel load %d, the sequential %d; want %d", tc.name, par, seq, tc.want)
		}
		if after := during(); after != 100 {
			t.Errorf("%s: GOGC after the loads %d, want 100 again", tc.name, after)
		}
	}
}

// TestGCDuringLoads_hold: a hold (a server's start-up) keeps GOGC raised
// after a load inside it ends, until it is released; releasing twice, or
// ending a load twice, does not end another's.
func TestGCDuringLoads_hold(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	g := NewGCDuringLoads(400)
	gogc := func() int {
		p := debug.SetGCPercent(-2)
		debug.SetGCPercent(p)
		return p
	}
	release := g.Hold()
	end := g.begin()
	end()
	end() // a second call does nothing
	if got := gogc(); got != 400 {
		t.Fatalf("GOGC after a load within a hold = %d, want 400", got)
	}
	other := g.begin()
	release()
	release()
	if got := gogc(); got != 400 {
		t.Fatalf("GOGC while a load runs after the hold's release = %d, want 400", got)
	}
	other()
	if got := gogc(); got != 100 {
		t.Fatalf("GOGC after the hold and the loads = %d, want 100 again", got)
	}
	var none *GCDuringLoads
	none.Hold()()
	if got := gogc(); got != 100 {
		t.Fatalf("a nil hold changed GOGC to %d", got)
	}
}
