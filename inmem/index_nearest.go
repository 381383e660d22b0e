package inmem

import (
	"math"
	"slices"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/packed"
	"github.com/paulmach/orb"
)

// UpperBound bounds from above, cheaply, the geodesic distance from a
// point p to points within a degree of it in latitude and in longitude:
// the straight line between the two in lon/lat is a path on the ellipsoid,
// and each step of it is at most as long as its two components at the
// most metres a degree of latitude (along a meridian, the most at the
// latitude farthest from the equator) and of longitude (along a parallel,
// the most at the latitude nearest the equator) have within a degree of
// p's latitude; so the geodesic, the shortest path, is at most
// √((Δlat·mMax)² + (Δlon·pMax)²). Within a degree, that is within about a
// percent of the geodesic (less at a county's latitudes), against the few
// tenths of a percent of LowerBound: the two pin a point's distance
// between them, so the nearest search measures exactly only the few whose
// bounds leave them in doubt.
type UpperBound struct {
	p          orb.Point
	mMax, pMax float64 // metres per degree, at most (0: no bound, near a pole)
}

// NewUpperBound returns the bound of distances from p.
func NewUpperBound(p orb.Point) UpperBound {
	abs := math.Abs(p[1])
	if abs+1.01 >= 89 {
		return UpperBound{p: p}
	}
	const rad = math.Pi / 180
	const e2 = wgs84F * (2 - wgs84F)
	sinHi := math.Sin((abs + 1.01) * rad)
	wHi := math.Sqrt(1 - e2*sinHi*sinHi)
	sinLo, cosLo := math.Sincos(math.Max(0, abs-1.01) * rad)
	wLo := math.Sqrt(1 - e2*sinLo*sinLo)
	// A millionth wider for rounding.
	const wider = 1 + 1e-6
	return UpperBound{p: p, mMax: wgs84A * (1 - e2) / (wHi * wHi * wHi) * rad * wider,
		pMax: wgs84A * cosLo / wLo * rad * wider}
}

// To returns at least the geodesic distance in metres from p to the point
// x, y (as Distance measures it: a millimetre more for its rounding), or
// +Inf for a point more than a degree away in latitude or longitude.
func (u *UpperBound) To(x, y float64) float64 {
	dx, dy := x-u.p[0], y-u.p[1]
	if u.mMax == 0 || dx > 1 || dx < -1 || dy > 1 || dy < -1 {
		return math.Inf(1)
	}
	ex, ey := dx*u.pMax, dy*u.mMax
	return math.Sqrt(ex*ex+ey*ey) + 1e-3
}

// Point is Box of the point x, y: of a point within a degree of longitude
// and a tenth of a degree of latitude farther from the equator than p
// (every point a county's search reaches), worked out here without a
// call or a branch.
func (b *LowerBound) Point(x, y float64) float64 {
	dx := math.Abs(x - b.p[0])
	if dx > 1 || b.polar || math.Abs(y) > b.absLat+0.1 {
		return b.box(x, y, x, y)
	}
	ex, ey := dx*b.lonTenth, math.Abs(y-b.p[1])*minLatDegree
	return math.Sqrt(ex*ex + ey*ey)
}

// WalkNearest walks the packed tree t best first by lb, the lower bound
// of distances from p, for the k entries nearest p within radius metres
// that keep accepts, handing take each entry to measure in order of its
// lower bound until no entry left can be in the answer: keep says
// whether the leaf entry c, the point x, y, may be in the answer (of a
// kind or a filter asked for); take measures an item entry keep accepted
// exactly and adds it to the answer if it belongs there, and, once the
// answer holds k, returns the k-th distance of it (as the answer keeps
// distances) and true. It queues only
// nodes and the points their bounds leave in doubt: a leaf's points are
// first pinned between their lower bound and UpperBound, and the k-th
// least upper bound seen is at least the k-th distance of the answer, so
// a point or a node whose lower bound passes it is dropped before any
// point is measured. With asFloat32 the answer keeps its distances as
// float32 (ties by id): a bound then rules an entry out only when it is
// greater as a float32 too.
func WalkNearest[T comparable](t *packed.Tree[T], p orb.Point, lb *LowerBound, k int, radius float64, asFloat32 bool,
	keep func(c int, x, y float64) bool, take func(e int) (kth float64, full bool)) {
	root := t.Root()
	if root < 0 || k <= 0 {
		return
	}
	ub := NewUpperBound(p)
	// uppers is a max-heap of the k least upper bounds seen, of points keep
	// accepts.
	var upperArr [64]float64
	uppers := upperArr[:0]
	if k > len(upperArr) {
		uppers = make([]float64, 0, k)
	}
	// cut is the least known bound of the k-th distance of the answer,
	// or radius: no entry whose lower bound exceeds it can be in the
	// answer. When the answer keeps float32 distances, it is the greatest
	// distance that is not greater than that bound as a float32
	// (float32Cut), so that one comparison says both.
	cut := radius
	boxes := t.Boxes()
	qp := t.Queue() // a province's search queues a few hundred nodes
	q := append(*qp, packed.Queued{Entry: int32(root)})
	defer func() {
		*qp = q
		t.Release(qp)
	}()
	for len(q) > 0 {
		if q[0].D > cut {
			break // nothing left can be in the answer
		}
		e := int(q[0].Entry)
		q = packed.Pop(q)
		if t.IsItem(e) {
			if kth, full := take(e); full {
				if asFloat32 {
					kth = float32Cut(kth)
				}
				cut = min(cut, kth)
			}
			continue
		}
		from, to := t.Children(e)
		bs := boxes[4*from : 4*to]
		if !t.IsItem(from) {
			for i := 0; i+3 < len(bs); i += 4 {
				if d := lb.box(bs[i], bs[i+1], bs[i+2], bs[i+3]); d <= cut {
					q = packed.Push(q, packed.Queued{D: d, Entry: int32(from + i/4)})
				}
			}
			continue
		}
		for i := 0; i+3 < len(bs); i += 4 {
			x, y := bs[i], bs[i+1]
			if x != bs[i+2] || y != bs[i+3] {
				continue // not a point (nor ever in a point layer)
			}
			d := lb.Point(x, y)
			if d > cut {
				continue
			}
			c := from + i/4
			if !keep(c, x, y) {
				continue
			}
			if u := ub.To(x, y); u <= radius && (len(uppers) < k || u < uppers[0]) {
				uppers = PushUpper(uppers, u, k)
				if len(uppers) == k {
					u := uppers[0]
					if asFloat32 {
						u = float32Cut(u)
					}
					cut = min(cut, u)
					if d > cut {
						continue
					}
				}
			}
			q = packed.Push(q, packed.Queued{D: d, Entry: int32(c)})
		}
	}
}

// float32Cut returns the greatest float64 d whose float32 is at most
// float32(b) (+Inf for +Inf): d > float32Cut(b) just when float32(d) >
// float32(b), for b ≥ 0 short of float32's greatest.
func float32Cut(b float64) float64 {
	b32 := float32(b)
	if math.IsInf(float64(b32), 1) {
		return math.Inf(1)
	}
	// Halfway to the next float32 rounds to the even one of the two.
	m := (float64(b32) + float64(math.Nextafter32(b32, float32(math.Inf(1))))) / 2
	if math.Float32bits(b32)&1 == 0 {
		return m
	}
	return math.Nextafter(m, math.Inf(-1))
}

// nearestPacked adds to hits (nearest first, by ByDistance, at most k)
// the k point records of the packed tree nearest to p within limit
// metres that keep accepts, as Nearby's answer, by WalkNearest. Only what
// keep or the answer needs of a record is read.
func nearestPacked(t *packed.Tree[*onemap.Record], p orb.Point, k int, limit float64, keep func(*onemap.Record) bool,
	lb *LowerBound, from *geodesicFrom, hits []Hit) []Hit {
	boxes := t.Boxes()
	WalkNearest(t, p, lb, k, limit, false, func(c int, _, _ float64) bool {
		r := t.Item(c)
		return r != nil && (keep == nil || keep(r))
	}, func(e int) (float64, bool) {
		d := from.to(orb.Point{boxes[4*e], boxes[4*e+1]})
		if d > limit {
			return 0, false
		}
		h := Hit{Record: t.Item(e), Distance: d}
		if len(hits) == k {
			if ByDistance(h, hits[k-1]) >= 0 {
				return hits[k-1].Distance, true
			}
			hits = hits[:k-1]
		}
		i, _ := slices.BinarySearchFunc(hits, h, ByDistance)
		hits = slices.Insert(hits, i, h)
		if len(hits) == k {
			return hits[k-1].Distance, true
		}
		return 0, false
	})
	return hits
}

// PushUpper adds u to the max-heap h of at most k bounds, dropping its
// greatest if it is full (u is then less than that).
func PushUpper(h []float64, u float64, k int) []float64 {
	if len(h) < k {
		h = append(h, u)
		i := len(h) - 1
		for i > 0 {
			p := (i - 1) / 2
			if h[p] >= u {
				break
			}
			h[i] = h[p]
			i = p
		}
		h[i] = u
		return h
	}
	i, n := 0, len(h)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && h[c+1] > h[c] {
			c++
		}
		if u >= h[c] {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = u
	return h
}
