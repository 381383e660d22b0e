package api

import (
	"slices"
	"strings"
	"testing"
)

// TestSplitList holds splitList to the plain split, trim and drop of
// empty items it replaced.
func TestSplitList(t *testing.T) {
	want := func(s string) []string {
		var out []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	for _, s := range []string{"", ",", " , ,", "a", "a,b", " a , b ,", ",,a,,b,,", "name,status,name", "中文, 字段 ", "a\t,\nb"} {
		got := splitList(s)
		if !slices.Equal(got, want(s)) || (got == nil) != (want(s) == nil) {
			t.Errorf("splitList(%q) = %q, want %q", s, got, want(s))
		}
	}
	if n := testing.AllocsPerRun(100, func() { splitList("name, status,kind") }); n > 1 {
		t.Errorf("splitList: %v allocations, want 1", n)
	}
}
