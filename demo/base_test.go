package demo_test

import (
	"reflect"
	"testing"

	"github.com/onemapgis/onemap/demo"
)

// TestDataset_Base: the synthetic base is the same every time, has a named
// place for the seat, every township seat and village, roads from the seat
// to every other township, and lies in the county's bounds.
func TestDataset_Base(t *testing.T) {
	d, err := demo.Wuding()
	if err != nil {
		t.Fatal(err)
	}
	a, err := d.Base()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := d.Base()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two bases of one dataset differ")
	}
	classes := map[string]int{}
	names := map[string]bool{}
	bound := d.Outline.Bound().Pad(0.05)
	for _, p := range a.Places {
		classes[p.Class]++
		if p.Name == "" || !bound.Contains(p.Point) {
			t.Errorf("place %+v: no name, or outside the county", p)
		}
		names[p.Name] = true
	}
	if classes["city"] != 1 || classes["town"] != len(d.Townships)-1 || classes["village"] != d.Villages() || classes["hamlet"] == 0 {
		t.Errorf("places by class = %v, want 1 city, %d towns, %d villages and hamlets", classes, len(d.Townships)-1, d.Villages())
	}
	if !names["狮山镇"] && !names["武定县城"] {
		t.Errorf("no place for the county seat: %v", classes)
	}
	primary := 0
	for _, r := range a.Roads {
		if r.Class == "primary" {
			primary++
		}
		if len(r.Line) < 2 || r.Name == "" {
			t.Errorf("road %q has %d points", r.Name, len(r.Line))
		}
	}
	if primary != len(d.Townships)-1 {
		t.Errorf("%d primary roads, want one to each of the %d other township seats", primary, len(d.Townships)-1)
	}
	if len(a.Rivers) < 2 || a.Rivers[0].Class != "river" {
		t.Errorf("rivers = %d, the first %q", len(a.Rivers), a.Rivers[0].Class)
	}
}
