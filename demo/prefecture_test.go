package demo

import (
	"testing"

	"github.com/paulmach/orb/planar"
)

// TestChuxiong: the demo prefecture has its ten counties, Wuding first as
// the Wuding dataset has it, the others valid synthetic datasets under
// their own codes (禄丰 under its 2023 code), each the same on every call.
func TestChuxiong(t *testing.T) {
	p, err := Chuxiong(0.05)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := Wuding()
	if len(p.Counties) != 10 || p.Counties[0].County != w.County || p.Counties[0].Counts != w.Counts {
		t.Fatalf("%d counties, the first %+v", len(p.Counties), p.Counties[0].County)
	}
	seen := map[string]bool{}
	for _, d := range p.Counties {
		if seen[d.County.Code] || d.County.Code == "532331" {
			t.Errorf("county %s twice or under its old code", d.County.Code)
		}
		seen[d.County.Code] = true
		if err := d.Validate(); err != nil {
			t.Error(err)
		}
		if !planar.MultiPolygonContains(d.Outline, d.Seat) {
			t.Errorf("%s: seat outside", d.County.Name)
		}
	}
	if !seen["532302"] {
		t.Error("禄丰市 (532302) missing")
	}
	again, _ := Chuxiong(0.05)
	a, b := p.Counties[3], again.Counties[3]
	if a.Townships[2].Villages[1] != b.Townships[2].Villages[1] || a.Counts != b.Counts || a.Seed != b.Seed {
		t.Error("the synthetic county differs from one call to the next")
	}
	plan, err := a.Synthesize(testKinds)
	if err != nil || len(plan.Grids) == 0 || len(plan.Stations) == 0 {
		t.Fatalf("synthesize %s: %v", a.County.Name, err)
	}
}
