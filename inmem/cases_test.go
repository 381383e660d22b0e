package inmem_test

import (
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// TestReplica_openCases: changes of layer cases keep the open cases by
// id, code and place; a closed one is dropped; a published snapshot never
// changes; the changes are returned as applied (for the events).
func TestReplica_openCases(t *testing.T) {
	r := inmem.New(onemap.NewCatalog())
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	k := onemap.NewCase(onemap.CaseReport{Source: onemap.SourcePublic, Category: "other", Description: "x", Point: orb.Point{102.4, 25.5}},
		7, onemap.LevelVillage, at, onemap.DefaultCaseLimits())
	k.ID, k.TrackingCode = 1, onemap.NewTrackingCode()
	applied := r.Apply([]onemap.Change{{Seq: 1, Layer: onemap.LayerCases, ID: 1, Op: "insert", Case: &k}})
	if len(applied) != 1 {
		t.Fatalf("applied %d changes, want 1", len(applied))
	}
	s1 := r.Snapshot()
	if got, ok := s1.OpenCaseByCode(k.TrackingCode); !ok || got.ID != 1 || s1.OpenCases() != 1 || s1.Seq() != 1 {
		t.Fatalf("open case by code: %v %v", got, ok)
	}
	if hits := s1.CasesWithin(orb.Point{102.4001, 25.5}, 50, nil); len(hits) != 1 || hits[0].Distance < 5 || hits[0].Distance > 15 {
		t.Errorf("cases within 50 m: %+v", hits)
	}
	if hits := s1.CasesWithin(orb.Point{102.41, 25.5}, 50, nil); len(hits) != 0 {
		t.Errorf("a case 1 km away is within 50 m: %+v", hits)
	}
	closed := k
	closed.Status, closed.Version, closed.ClosedAt = onemap.CaseRefused, 2, at
	r.Apply([]onemap.Change{{Seq: 2, Layer: onemap.LayerCases, ID: 1, Op: "update", Case: &closed}})
	s2 := r.Snapshot()
	if _, ok := s2.OpenCase(1); ok || s2.OpenCases() != 0 {
		t.Errorf("a refused case is still held")
	}
	if _, ok := s2.OpenCaseByCode(k.TrackingCode); ok {
		t.Errorf("a refused case is still found by its code")
	}
	if _, ok := s1.OpenCase(1); !ok {
		t.Errorf("the earlier snapshot changed")
	}
	// The cases survive a subset (a viewer's part) whole.
	if sub := r.Subset(s1, func(string, *onemap.Record) bool { return false }); sub.OpenCases() != 1 {
		t.Errorf("subset holds %d open cases, want 1", sub.OpenCases())
	}
}
