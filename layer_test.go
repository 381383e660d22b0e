package onemap

import (
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func TestCatalog_clusterFields(t *testing.T) {
	for _, l := range NewCatalog().Layers() {
		if l.ClusterBelow == 0 && l.ClusterFields != nil {
			t.Errorf("layer %s: ClusterFields %v but no ClusterBelow", l.ID, l.ClusterFields)
		}
		for _, name := range l.ClusterFields {
			if l.FieldIndex(name) < 0 {
				t.Errorf("layer %s: cluster field %q is not one of its fields", l.ID, name)
			}
		}
	}
}

func TestNormalize_fieldChecks(t *testing.T) {
	cat := NewCatalog()
	grids, _ := cat.Layer(LayerGrids)
	stations, _ := cat.Layer(LayerStations)
	square := orb.Polygon{{{102, 25}, {102.01, 25}, {102.01, 25.01}, {102, 25.01}, {102, 25}}}
	grid := func(extra map[string]any) map[string]any {
		p := map[string]any{"level": "group", "code": "532329101001001", "name": "第一居民小组"}
		for k, v := range extra {
			p[k] = v
		}
		return p
	}
	for _, phone := range []string{"0878-8711111", "13812341234", "+86 138 1234 5678", "(0878)8711111", "110",
		"0878-8711111转8001", "0878-8711111 转 8001", "0878-8711111分机8001", "0878-8711111 ext. 8001",
		"0878-8711111，13812341234", "12345 / 0878-8711111", "０８７８－８７１１１１１", "＋86 138 1234 5678", ""} {
		if _, _, err := grids.Normalize(square, grid(map[string]any{"worker_phone": phone})); err != nil {
			t.Errorf("worker_phone %q refused: %v", phone, err)
		}
	}
	// Full-width digits are stored as ASCII.
	if _, p, err := grids.Normalize(square, grid(map[string]any{"worker_phone": "０８７８－８７１１１１１"})); err != nil || p["worker_phone"] != "0878-8711111" {
		t.Errorf("full-width phone stored as %q (%v)", p["worker_phone"], err)
	}
	for _, junk := range []string{"abc", "1", "0", "1-------", "1()()", "13812341234 or so", "110, x"} {
		if _, _, err := grids.Normalize(square, grid(map[string]any{"worker_phone": junk})); ErrorField(err) != "worker_phone" {
			t.Errorf("worker_phone %q: %v, want refused", junk, err)
		}
	}
	for _, tc := range []struct {
		layer *Layer
		props map[string]any
		field string
	}{
		{&grids, grid(map[string]any{"worker_phone": "abc"}), "worker_phone"},
		{&grids, grid(map[string]any{"name": strings.Repeat("网", 101)}), "name"},
		{&grids, grid(map[string]any{"name": "  "}), "name"},
		{&grids, grid(map[string]any{"name": "\u200b\ufeff "}), "name"},
		{&grids, grid(map[string]any{"population": -5.0}), "population"},
		{&grids, grid(map[string]any{"households": 1.5}), "households"},
		{&grids, grid(map[string]any{"bogus": 1.0}), "bogus"},
		{&stations, map[string]any{"kind": "clinic", "level": "village", "name": "卫生室", "phone": "打电话"}, "phone"},
		{&stations, map[string]any{"kind": "clinic", "level": "village"}, "name"},
		{&stations, map[string]any{"kind": "clinic", "level": "village", "name": "卫生室", "address": strings.Repeat("路", MaxStringLen+1)}, "address"},
	} {
		g := orb.Geometry(square)
		if tc.layer.ID == LayerStations {
			g = orb.Point{102, 25}
		}
		_, _, err := tc.layer.Normalize(g, tc.props)
		if tc.field == "" {
			if err != nil {
				t.Errorf("%v refused: %v", tc.props, err)
			}
			continue
		}
		if ErrorCode(err) != EINVALID || ErrorField(err) != tc.field {
			t.Errorf("%s %v: error %v (field %q), want invalid naming %s", tc.layer.ID, tc.props, err, ErrorField(err), tc.field)
		}
	}
}
