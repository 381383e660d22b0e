package api_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
)

type groupedSearchJSON struct {
	Results []struct {
		Layer  string `json:"layer"`
		ID     int64  `json:"id"`
		Name   string `json:"name"`
		Level  string `json:"level"`
		Group  string `json:"group"`
		Parent string `json:"parent"`
		Pinyin bool   `json:"pinyin"`
	} `json:"results"`
	Groups []struct {
		Group string `json:"group"`
		Layer string `json:"layer"`
		Level string `json:"level"`
		Total int    `json:"total"`
		Shown int    `json:"shown"`
	} `json:"groups"`
}

// TestSearchPinyinGrouped: pinyin and its initials find Chinese names; the
// results come grouped by layer and grid level, each with the place above
// it, the village groups capped; what a role may not read names no place.
func TestSearchPinyinGrouped(t *testing.T) {
	srv := newServer(t, onemap.RoleCommander)
	search := func(srvURL, q string, limit int) groupedSearchJSON {
		t.Helper()
		resp, body := get(t, srvURL+"/api/search?q="+url.QueryEscape(q)+"&limit="+itoa(int64(limit)))
		if resp.StatusCode != 200 {
			t.Fatalf("search %q: %d %s", q, resp.StatusCode, body)
		}
		return decode[groupedSearchJSON](t, body)
	}
	// Whole syllables, initials and a syllable being typed all find the
	// township first, its villages next with the township named.
	for _, q := range []string{"shishan", "ss", "ShiShan", "shi shan", "shisha", "狮山"} {
		r := search(srv.URL, q, 20)
		if len(r.Results) == 0 || r.Results[0].Name != "狮山镇" || r.Results[0].Group != "grids.township" {
			t.Fatalf("%s: first %+v", q, r.Results)
		}
		if q != "狮山" && !r.Results[0].Pinyin {
			t.Errorf("%s: 狮山镇 not marked as found by pinyin", q)
		}
		if r.Results[0].Parent == "" {
			t.Errorf("%s: the township has no parent place: %+v", q, r.Results[0])
		}
	}
	r := search(srv.URL, "shishanzhen", 20)
	if len(r.Results) == 0 || r.Results[0].Name != "狮山镇" {
		t.Errorf("shishanzhen: %+v", r.Results)
	}
	// 狮山 in villages: each names its township.
	r = search(srv.URL, "ss", 50)
	villages := 0
	for _, x := range r.Results {
		if x.Group == "grids.village" && strings.Contains(x.Name, "狮山") {
			villages++
			if x.Parent == "" {
				t.Errorf("village %s has no parent place", x.Name)
			}
		}
	}
	// Groups: listed in one block each, in the order of their first
	// result; the counts add up; shown never above total; a group of
	// village groups (村民小组) lists at most 5.
	seen := map[string]bool{}
	last := ""
	i := 0
	for _, g := range r.Groups {
		if seen[g.Group] {
			t.Errorf("group %s twice", g.Group)
		}
		seen[g.Group] = true
		if g.Shown > g.Total || g.Shown == 0 {
			t.Errorf("group %+v", g)
		}
		if g.Level == "group" && g.Shown > 5 {
			t.Errorf("village groups: %d listed, want at most 5", g.Shown)
		}
		for k := 0; k < g.Shown; k++ {
			if r.Results[i].Group != g.Group {
				t.Fatalf("result %d is of %s, want %s", i, r.Results[i].Group, g.Group)
			}
			i++
		}
		last = g.Group
	}
	if i != len(r.Results) || last == "" {
		t.Errorf("groups list %d results, %d given", i, len(r.Results))
	}
	// 第一村民小组 is in many villages: capped, with the total told, each
	// named by its village.
	r = search(srv.URL, "第一", 100)
	for _, g := range r.Groups {
		if g.Level == "group" {
			if g.Total <= 5 || g.Shown != 5 {
				t.Errorf("第一 groups: %+v, want more than 5 found and 5 listed", g)
			}
		}
	}
	for _, x := range r.Results {
		if x.Level == "group" && x.Parent == "" {
			t.Errorf("group %s %d has no village", x.Name, x.ID)
		}
	}
	// A limit below the number of groups lists the best of each first.
	r = search(srv.URL, "ss", 3)
	if len(r.Results) != 3 || len(r.Groups) < 2 {
		t.Errorf("limit 3: %d results in %d groups", len(r.Results), len(r.Groups))
	}
	// Not pinyin: one letter, letters with a Chinese character.
	for _, q := range []string{"s", "s狮"} {
		for _, x := range search(srv.URL, q, 20).Results {
			if x.Pinyin {
				t.Errorf("%q found %s by pinyin", q, x.Name)
			}
		}
	}
	// The public reads no risk point or camera by pinyin either.
	pub := newServer(t, onemap.RolePublic)
	for _, x := range search(pub.URL, "ss", 100).Results {
		if x.Layer != "stations" && x.Layer != "grids" {
			t.Errorf("public pinyin search finds %s %d", x.Layer, x.ID)
		}
	}
}
