package packed

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

type item struct {
	id       int
	min, max [2]float64
}

func boxOf(it *item) (min, max [2]float64) { return it.min, it.max }

// randomItems returns n items, points and small boxes, some on top of
// each other.
func randomItems(rng *rand.Rand, n int) []*item {
	out := make([]*item, n)
	for i := range out {
		x, y := rng.Float64()*100, rng.Float64()*100
		if i > 0 && rng.IntN(20) == 0 {
			x, y = out[i-1].min[0], out[i-1].min[1] // the same place as another
		}
		it := &item{id: i + 1, min: [2]float64{x, y}, max: [2]float64{x, y}}
		if rng.IntN(3) == 0 {
			it.max = [2]float64{x + rng.Float64()*5, y + rng.Float64()*5}
		}
		out[i] = it
	}
	return out
}

func meets(it *item, min, max [2]float64) bool {
	return !(it.min[0] > max[0] || it.min[1] > max[1] || it.max[0] < min[0] || it.max[1] < min[1])
}

func ids(list []*item) []int {
	out := make([]int, len(list))
	for i, it := range list {
		out[i] = it.id
	}
	slices.Sort(out)
	return out
}

func search(t *Tree[*item], min, max [2]float64) []*item {
	var out []*item
	t.Search(min, max, func(mn, mx [2]float64, it *item) bool {
		if mn != it.min || mx != it.max {
			panic("a box other than the item's")
		}
		out = append(out, it)
		return true
	})
	return out
}

func brute(live map[*item]bool, min, max [2]float64) []*item {
	var out []*item
	for it, ok := range live {
		if ok && meets(it, min, max) {
			out = append(out, it)
		}
	}
	return out
}

// TestTree_searchAgainstBruteForce holds Search to testing every item,
// for sizes about the node and page sizes, while items are removed and
// swapped, and checks a copy taken before sees none of it.
func TestTree_searchAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 15, 16, 17, 255, 256, 257, 1500, 5000} {
		items := randomItems(rng, n)
		tr := Build(items, boxOf)
		live := map[*item]bool{}
		for _, it := range items {
			live[it] = true
		}
		if tr.Len() != n {
			t.Fatalf("n=%d: Len %d", n, tr.Len())
		}
		before := tr.Copy()
		beforeLive := map[*item]bool{}
		for it := range live {
			beforeLive[it] = true
		}
		for round := range 3 {
			for q := range 50 {
				x, y := rng.Float64()*110-5, rng.Float64()*110-5
				min, max := [2]float64{x, y}, [2]float64{x + rng.Float64()*30, y + rng.Float64()*30}
				if q%5 == 0 {
					max = min // a point
				}
				if got, want := ids(search(tr, min, max)), ids(brute(live, min, max)); !slices.Equal(got, want) {
					t.Fatalf("n=%d round %d: search %v %v: got %v, want %v", n, round, min, max, got, want)
				}
				if got, want := ids(search(before, min, max)), ids(brute(beforeLive, min, max)); !slices.Equal(got, want) {
					t.Fatalf("n=%d round %d: the copy: search %v %v: got %v, want %v", n, round, min, max, got, want)
				}
			}
			// Remove some, swap some for new items of the same box.
			for _, it := range items {
				switch rng.IntN(10) {
				case 0:
					if got := tr.Remove(it.min, it.max, it); got != live[it] {
						t.Fatalf("Remove %d: %v, held %v", it.id, got, live[it])
					}
					delete(live, it)
				case 1:
					by := &item{id: it.id + 100000, min: it.min, max: it.max}
					if got := tr.Replace(it.min, it.max, it, by); got != live[it] {
						t.Fatalf("Replace %d: %v, held %v", it.id, got, live[it])
					}
					if live[it] {
						delete(live, it)
						live[by] = true
					}
				}
			}
			items = items[:0]
			for it := range live {
				items = append(items, it)
			}
			slices.SortFunc(items, func(a, b *item) int { return a.id - b.id })
			if tr.Len() != len(live) {
				t.Fatalf("n=%d: Len %d, want %d", n, tr.Len(), len(live))
			}
			if round == 1 {
				before, beforeLive = tr.Copy(), map[*item]bool{}
				for it := range live {
					beforeLive[it] = true
				}
			}
		}
		var scanned []*item
		tr.Scan(func(_, _ [2]float64, it *item) bool { scanned = append(scanned, it); return true })
		if got, want := ids(scanned), ids(brute(live, [2]float64{-1e9, -1e9}, [2]float64{1e9, 1e9})); !slices.Equal(got, want) {
			t.Fatalf("n=%d: Scan %v, want %v", n, got, want)
		}
	}
}

// boxDistance is the plane distance from p to a box.
func boxDistance(p, min, max [2]float64) float64 {
	dx := math.Max(0, math.Max(min[0]-p[0], p[0]-max[0]))
	dy := math.Max(0, math.Max(min[1]-p[1], p[1]-max[1]))
	return math.Hypot(dx, dy)
}

// TestTree_nearbyAgainstBruteForce holds Nearby to ordering every live
// item by distance: all of them, in order, and none pruned unless the
// bound says so.
func TestTree_nearbyAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 17, 300, 4000} {
		items := randomItems(rng, n)
		tr := Build(items, boxOf)
		live := map[*item]bool{}
		for _, it := range items {
			if rng.IntN(7) == 0 {
				tr.Remove(it.min, it.max, it)
				continue
			}
			live[it] = true
		}
		for range 30 {
			p := [2]float64{rng.Float64()*120 - 10, rng.Float64()*120 - 10}
			cut := rng.Float64() * 40 // ruled out beyond
			var got []float64
			var gotItems []*item
			tr.Nearby(func(min, max [2]float64, it *item, isItem bool) float64 {
				if isItem && it == nil {
					t.Fatal("a removed item")
				}
				if d := boxDistance(p, min, max); d <= cut {
					return d
				}
				return math.Inf(1)
			}, func(min, max [2]float64, it *item, d float64) bool {
				got = append(got, d)
				gotItems = append(gotItems, it)
				return true
			})
			var want []float64
			var wantItems []*item
			for it := range live {
				if d := boxDistance(p, it.min, it.max); d <= cut {
					want = append(want, d)
					wantItems = append(wantItems, it)
				}
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d at %v: distances %v, want %v", n, p, got, want)
			}
			if !slices.Equal(ids(gotItems), ids(wantItems)) {
				t.Fatalf("n=%d at %v: items differ", n, p)
			}
			// Stopping early stops.
			calls := 0
			tr.Nearby(func(min, max [2]float64, _ *item, _ bool) float64 { return boxDistance(p, min, max) },
				func(_, _ [2]float64, _ *item, _ float64) bool { calls++; return calls < 3 })
			if want := min(3, len(live)); calls != want {
				t.Fatalf("n=%d: iter called %d times after asking to stop at 3", n, calls)
			}
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	items := make([]*item, 2_000_000)
	for i := range items {
		x, y := rng.Float64()*8, rng.Float64()*8
		items[i] = &item{id: i, min: [2]float64{x, y}, max: [2]float64{x, y}}
	}
	b.ResetTimer()
	for range b.N {
		Build(items, boxOf)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(items)), "ns/item")
}

// TestSortHigh holds sortHigh to a stable sort by the high 32 bits.
func TestSortHigh(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	keys := make([]uint64, 5000)
	for i := range keys {
		keys[i] = uint64(rng.Uint32()%300)<<40 | uint64(rng.Uint32()%7)<<32 | uint64(i)
	}
	want := slices.Clone(keys)
	slices.SortStableFunc(want, func(a, b uint64) int { return int(a>>32) - int(b>>32) })
	if got := sortHigh(keys); !slices.Equal(got, want) {
		t.Fatal("sortHigh differs from a stable sort by the high bits")
	}
}
