package inmem

import (
	"fmt"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

func TestMatchPinyin(t *testing.T) {
	sp := NewSpellings()
	for _, tc := range []struct {
		q, name      string
		start        int
		whole, match bool
	}{
		{"shishan", "狮山", 0, true, true},
		{"ss", "狮山", 0, true, true},
		{"shs", "狮山", 0, true, true},
		{"shis", "狮山", 0, true, true},
		{"shisha", "狮山", 0, true, true},
		{"ss", "狮山镇", 0, false, true},
		{"ssz", "狮山镇", 0, true, true},
		{"shishanzhen", "狮山镇", 0, true, true},
		{"shanz", "狮山镇", 1, false, true},
		{"ssc", "狮山村", 0, true, true},
		{"zhongda", "重大隐患", 0, false, true}, // 重 read zhong
		{"chongqing", "重庆", 0, true, true},  // and chong
		{"sz", "狮山", 0, false, false},
		{"shishanx", "狮山", 0, false, false},
		{"hq", "高桥镇", 0, false, false},
		{"gqz", "高桥镇", 0, true, true},
		{"a1", "A1号", 0, false, false}, // not pinyin: see pinyinQuery
	} {
		pq := pinyinQuery(tc.q)
		if pq == "" {
			if tc.match {
				t.Errorf("%q is not taken as pinyin", tc.q)
			}
			continue
		}
		start, whole, ok := matchPinyin(pq, sp.Of(tc.name))
		if ok != tc.match || ok && (start != tc.start || whole != tc.whole) {
			t.Errorf("%q in %s: start %d whole %v match %v, want %d %v %v", tc.q, tc.name, start, whole, ok, tc.start, tc.whole, tc.match)
		}
	}
	for _, q := range []string{"s", "狮s", "shi-shan", ""} {
		if pinyinQuery(q) != "" {
			t.Errorf("pinyinQuery(%q) = %q, want not pinyin", q, pinyinQuery(q))
		}
	}
	if pinyinQuery("Shi Shan") != "shishan" || pinyinQuery("xi'an") != "xian" {
		t.Errorf("spaces, apostrophes and capitals: %q %q", pinyinQuery("Shi Shan"), pinyinQuery("xi'an"))
	}
	// A name is worked out once and kept.
	a, b := sp.Of("狮山"), sp.Of("狮山")
	if &a[0] != &b[0] {
		t.Error("the readings of 狮山 were worked out twice")
	}
}

// BenchmarkMatchPinyin is the cost of matching one name the cache holds.
func BenchmarkMatchPinyin(b *testing.B) {
	sp := NewSpellings()
	sp.Of("狮山镇东岳社区第二居民小组")
	for b.Loop() {
		matchPinyin("ss", sp.Of("狮山镇东岳社区第二居民小组"))
	}
}

// TestSpellNames_skipsALayerLargerThanTheCache: a load spells the names of
// a layer the cache can hold whole (the grids), not those of one larger
// than the cache (a province's cameras), even when that one comes first:
// its names would fill the cache, leaving the grids' unspelled.
func TestSpellNames_skipsALayerLargerThanTheCache(t *testing.T) {
	r := New(onemap.NewCatalog())
	nameAt := func(l string) int {
		for _, layer := range r.layers {
			if layer.ID == l {
				return layer.FieldIndex("name")
			}
		}
		return -1
	}
	recs := func(l string, n int, prefix string) []*onemap.Record {
		at := nameAt(l)
		if at < 0 {
			t.Fatalf("layer %s has no name", l)
		}
		out := make([]*onemap.Record, n)
		values := make([]any, at+1)
		for i := range out {
			values[at] = fmt.Sprint(prefix, "狮山", i)
			rec, err := onemap.NewRecord(int64(i+1), 1, orb.Point{102, 25}, values)
			if err != nil {
				t.Fatal(err)
			}
			out[i] = rec
		}
		return out
	}
	nameOf := func(l string, rec *onemap.Record) string { return rec.Raw(nameAt(l)).Text() }
	cameras, grids := recs(onemap.LayerCameras, maxSpellings+1, "摄像头"), recs(onemap.LayerGrids, 1000, "网格")
	if nameOf(onemap.LayerCameras, cameras[0]) == "" || nameOf(onemap.LayerGrids, grids[0]) == "" {
		t.Fatalf("the records' names are not where the layers read them")
	}
	r.spellNames(onemap.LayerCameras, cameras)
	r.spellNames(onemap.LayerGrids, grids)
	r.spell.mu.RLock()
	defer r.spell.mu.RUnlock()
	missing := 0
	for _, g := range grids {
		if _, ok := r.spell.names[nameOf(onemap.LayerGrids, g)]; !ok {
			missing++
		}
	}
	if missing > 0 || len(r.spell.names) != len(grids) {
		t.Errorf("after a load of %d cameras and %d grids: %d names spelled, %d of the grids' missing; want the grids' %d, none missing",
			len(cameras), len(grids), len(r.spell.names), missing, len(grids))
	}
}
