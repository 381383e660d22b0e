package api

import (
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// TestOpenCasesSeen holds the count of open cases /api/layers gives a
// caller to the walk over every open case with the caller's predicate: a
// caller who sees every case (the whole county's scope, or a part's scope
// without a part) counts them all without the walk; one kept to a part
// counts those its predicate keeps; one who sees none, none.
func TestOpenCasesSeen(t *testing.T) {
	r := inmem.New(onemap.NewCatalog())
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var changes []onemap.Change
	for i := int64(1); i <= 7; i++ {
		k := onemap.NewCase(onemap.CaseReport{Source: onemap.SourcePublic, Category: "other", Description: "x",
			Point: orb.Point{102.4 + float64(i)/1000, 25.5}}, 7, onemap.LevelVillage, at, onemap.DefaultCaseLimits())
		k.ID, k.TrackingCode, k.GridID = i, onemap.NewTrackingCode(), 100+i%3
		if i == 5 {
			k.Status = onemap.CaseRefused // not open: not held, not counted
		}
		changes = append(changes, onemap.Change{Seq: i, Layer: onemap.LayerCases, ID: i, Op: "insert", Case: &k})
	}
	r.Apply(changes)
	snap := r.Snapshot()
	walked := func(keep func(*onemap.Case) bool) int {
		n := 0
		snap.AscendCases(func(k *onemap.Case) bool {
			if keep(k) {
				n++
			}
			return true
		})
		return n
	}
	all := func(*onemap.Case) bool { return true }
	inGrid := func(k *onemap.Case) bool { return k.GridID == 101 }
	sees := func(caller onemap.Caller, rule onemap.CaseRule) func(*onemap.Case) bool {
		switch {
		case rule.See == onemap.CaseScopeNone:
			return func(*onemap.Case) bool { return false }
		case rule.See == onemap.CaseScopeAll || caller.GridID == 0:
			return all
		}
		return inGrid
	}
	for _, c := range []struct {
		caller onemap.Caller
		rule   onemap.CaseRule
		want   int
	}{
		{onemap.Caller{}, onemap.CaseRule{See: onemap.CaseScopeAll}, walked(all)},
		{onemap.Caller{GridID: 9}, onemap.CaseRule{See: onemap.CaseScopeAll}, walked(all)},
		{onemap.Caller{}, onemap.CaseRule{See: onemap.CaseScopeGrid}, walked(all)},
		{onemap.Caller{GridID: 9}, onemap.CaseRule{See: onemap.CaseScopeGrid}, walked(inGrid)},
		{onemap.Caller{GridID: 9}, onemap.CaseRule{See: onemap.CaseScopeNone}, 0},
	} {
		if got := openCasesSeen(snap, c.caller, c.rule, sees); got != c.want {
			t.Errorf("%+v %+v: %d open cases seen, want %d", c.caller, c.rule, got, c.want)
		}
	}
	if walked(all) != 6 || walked(inGrid) != 3 {
		t.Errorf("the test's cases: %d open, %d in grid 101; want 6 and 3", walked(all), walked(inGrid))
	}
}
