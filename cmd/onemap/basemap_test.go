package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"testing"

	"github.com/onemapgis/onemap/demo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// TestDemoBase: the demo county's synthetic base holds, in its vector
// tiles, the roads, rivers and named settlements of the county, flagged
// synthetic: at zoom 15 over 狮山镇 (the county seat) a tile has roads of
// both classes and the names of settlements; over the whole county at zoom
// 9 the river and the township seats.
func TestDemoBase(t *testing.T) {
	d, err := demo.Wuding()
	if err != nil {
		t.Fatal(err)
	}
	b := newDemoBase(d, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if in := b.Info(); !in.Synthetic || !in.Vector() || in.Encoding != "gzip" || !in.Bounds.Contains(d.Seat) {
		t.Fatalf("info = %+v", in)
	}
	layers := func(tl maptile.Tile) map[string]*mvt.Layer {
		t.Helper()
		raw, err := b.Tile(t.Context(), tl)
		if err != nil || raw == nil {
			t.Fatalf("tile %v: %v (%d bytes)", tl, err, len(raw))
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("tile %v is not gzipped: %v", tl, err)
		}
		plain, _ := io.ReadAll(zr)
		ls, err := mvt.Unmarshal(plain)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]*mvt.Layer{}
		for _, l := range ls {
			out[l.Name] = l
		}
		return out
	}
	classes := func(l *mvt.Layer) map[string]int {
		out := map[string]int{}
		if l == nil {
			return out
		}
		for _, f := range l.Features {
			c, _ := f.Properties["class"].(string)
			out[c]++
			if f.Properties["name"] == "" || f.Properties["name"] == nil {
				t.Errorf("%s feature without a name: %v", l.Name, f.Properties)
			}
		}
		return out
	}
	seat := maptile.At(orb.Point(d.Seat), 15)
	near := layers(seat)
	if c := classes(near["transportation"]); c["primary"]+c["secondary"] == 0 {
		t.Errorf("no road at zoom 15 over the county seat: %v", c)
	}
	if c := classes(near["place"]); c["city"]+c["village"]+c["hamlet"] == 0 {
		t.Errorf("no named settlement at zoom 15 over the county seat: %v", c)
	}
	county := layers(maptile.At(orb.Point(d.Seat), 9))
	if c := classes(county["water"]); c["river"] != 1 || c["stream"] == 0 {
		t.Errorf("rivers over the county = %v, want the river and streams", c)
	}
	if c := classes(county["place"]); c["town"] < 5 || c["city"] != 1 {
		t.Errorf("places over the county = %v, want the seat and the township seats", c)
	}
}
