package api

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// TestCountBy holds countBy to counting in a map, for a few values and for
// more than its short list holds, nil values among them, its counts sorted
// by value (as encoding/json writes a map's keys).
func TestCountBy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, distinct := range []int{0, 1, 3, 16, 17, 40} {
		var hits []inmem.Hit
		want := map[string]int{}
		for i := range 500 * min(distinct, 1) {
			var v any
			if n := rng.IntN(distinct + 1); n < distinct {
				v = fmt.Sprint("v", n)
			}
			r, err := onemap.NewRecord(int64(i+1), 1, orb.Point{102, 25}, []any{v})
			if err != nil {
				t.Fatal(err)
			}
			hits = append(hits, inmem.Hit{Record: r})
			want[r.Raw(0).Text()]++
		}
		got := countBy(hits, 0)
		if !maps.Equal(got.asMap(), want) || len(got) != len(want) {
			t.Errorf("%d values: %v, want %v", distinct, got, want)
		}
		if !slices.IsSortedFunc(got, func(a, b keyCount) int { return strings.Compare(a.key, b.key) }) {
			t.Errorf("%d values: %v, not sorted by value", distinct, got)
		}
	}
}
