package inmem

import "testing"

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
