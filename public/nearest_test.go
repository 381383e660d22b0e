package public

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// nearestByCallbacks is the nearest search as it was, through
// packed.Tree.Nearby's callbacks: the answers nearest must match, and its
// benchmark's baseline. It walks the R-tree best first by a lower bound of the distance
// (boxes and stations alike, cheap to compute), measures each station it
// meets geodesically, and stops once the lower bound passes the limit-th
// distance found: the few stations near the answer are measured exactly,
// the rest never.
func (s *snapshot) nearestByCallbacks(p orb.Point, kinds uint64, limit int, radius float64) []hitRef {
	bound := inmem.Farthest
	if radius > 0 {
		bound = radius
	}
	out := make([]hitRef, 0, limit)
	less := func(a, b hitRef) bool {
		return a.dist < b.dist || a.dist == b.dist && s.stations[a.at].ID < s.stations[b.at].ID
	}
	lo, hi := s.tree.Bounds()
	lb := inmem.NewLowerBound(p, lo, hi)
	s.tree.Nearby(
		func(min, max [2]float64, i int32, item bool) float64 {
			if item && kinds != 0 && kinds&(1<<s.stations[i-1].kind) == 0 {
				return math.Inf(1)
			}
			// An entry that iter would stop at is never queued: its
			// bound passes the radius or the limit-th distance found so
			// far, which only shrinks. So a search queues the entries
			// near its answer, not every one of every node it opens.
			d := lb.Box(min, max)
			if d > bound || len(out) == limit && float32(d) > out[limit-1].dist {
				return math.Inf(1)
			}
			return d
		},
		func(_, _ [2]float64, i int32, lower float64) bool {
			if lower > bound || len(out) == limit && float32(lower) > out[limit-1].dist {
				return false
			}
			d := inmem.Distance(p, s.stations[i-1].Point)
			if d > bound {
				return true
			}
			h := hitRef{at: i - 1, dist: float32(d)}
			if len(out) == limit {
				if !less(h, out[limit-1]) {
					return true
				}
				out = out[:limit-1]
			}
			// Insert in order.
			j := len(out)
			out = append(out, h)
			for ; j > 0 && less(h, out[j-1]); j-- {
				out[j] = out[j-1]
			}
			out[j] = h
			return true
		})
	return out
}

// TestNearest_sameAsCallbacks holds the tree walk to the answers of the
// search through packed.Tree.Nearby's callbacks, and both to every
// station measured and sorted as answers keep their distances (float32,
// ties by id): at random points, limits, kinds and radii, over stations
// spread over a county and over stations stacked on a few points (ties).
func TestNearest_sameAsCallbacks(t *testing.T) {
	rng := rand.New(rand.NewPCG(seed(t), 11))
	for _, stacked := range []bool{false, true} {
		d := randomData(rng, 1500)
		if stacked {
			for i := range d.Stations {
				d.Stations[i].Point = d.Stations[i%40].Point
			}
		}
		s, err := newSnapshot(d)
		if err != nil {
			t.Fatal(err)
		}
		for range 2000 {
			q := Query{Point: orb.Point{101.9 + rng.Float64()*0.8, 25.2 + rng.Float64()*1.1}, Limit: 1 + rng.IntN(MaxLimit)}
			if rng.IntN(2) == 0 {
				q.Kinds = []string{d.Kinds[rng.IntN(3)].Code}
			}
			if rng.IntN(3) == 0 {
				q.Radius = 500 + rng.Float64()*20000
			}
			p, k, err := s.resolve(q)
			if err != nil {
				t.Fatal(err)
			}
			got := s.nearest(p, k.kinds, int(k.limit), float64(k.radius))
			old := s.nearestByCallbacks(p, k.kinds, int(k.limit), float64(k.radius))
			var want []hitRef
			for i, st := range s.stations {
				if k.kinds != 0 && k.kinds&(1<<st.kind) == 0 {
					continue
				}
				dist := inmem.Distance(p, st.Point)
				if k.radius > 0 && dist > float64(k.radius) {
					continue
				}
				want = append(want, hitRef{at: int32(i), dist: float32(dist)})
			}
			slices.SortFunc(want, func(a, b hitRef) int {
				return cmp.Or(cmp.Compare(a.dist, b.dist), cmp.Compare(s.stations[a.at].ID, s.stations[b.at].ID))
			})
			want = want[:min(len(want), q.Limit)]
			if !slices.Equal(got, want) {
				t.Fatalf("stacked %v, nearest(%v, %+v) = %v, want %v", stacked, p, k, got, want)
			}
			if !slices.Equal(old, want) {
				t.Fatalf("stacked %v, nearestByCallbacks(%v, %+v) = %v, want %v", stacked, p, k, old, want)
			}
		}
	}
}

// BenchmarkNearest measures the tree walk (new) against the search
// through Nearby's callbacks (old), in turns, at the same random points,
// k = 10 of 900 stations over a county: the CPU per search of each, from
// getrusage, and their ratio.
func BenchmarkNearest(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	s, err := newSnapshot(randomData(rng, 900))
	if err != nil {
		b.Fatal(err)
	}
	var cpu [2]time.Duration
	n := 0
	for b.Loop() {
		p := orb.Point{102 + rng.Float64()*0.6, 25.3 + rng.Float64()*0.9}
		for turn := range 2 {
			c0 := processCPU()
			for j := range 64 {
				pj := orb.Point{p[0] + float64(j)*1e-4, p[1]}
				if turn == 0 {
					s.nearest(pj, 0, 10, 0)
				} else {
					s.nearestByCallbacks(pj, 0, 10, 0)
				}
			}
			cpu[turn] += processCPU() - c0
		}
		n += 64
	}
	b.ReportMetric(float64(cpu[0])/float64(n), "new-cpu-ns/search")
	b.ReportMetric(float64(cpu[1])/float64(n), "old-cpu-ns/search")
	b.ReportMetric(float64(cpu[0])/float64(cpu[1]), "new/old")
}

// BenchmarkNearestAlone runs the tree walk (new) or the search through
// Nearby's callbacks (old) alone, at the same points as each other, for a
// count of instructions (cachegrind) of each.
func BenchmarkNearestAlone(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	s, err := newSnapshot(randomData(rng, 900))
	if err != nil {
		b.Fatal(err)
	}
	for _, old := range []bool{false, true} {
		name := "new"
		if old {
			name = "old"
		}
		b.Run(name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(3, 4))
			for b.Loop() {
				p := orb.Point{102 + r.Float64()*0.6, 25.3 + r.Float64()*0.9}
				if old {
					s.nearestByCallbacks(p, 0, 10, 0)
				} else {
					s.nearest(p, 0, 10, 0)
				}
			}
		})
	}
}
