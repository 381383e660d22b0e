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

// nearestPacked adds to hits (nearest first, by ByDistance, at most k)
// the k point records of the packed tree nearest to p within limit
// metres that keep accepts, as Nearby's answer. It walks the nodes best
// first by LowerBound, as packed.Tree.Nearby does, but it queues only
// nodes: a leaf's points are taken when the leaf is reached, each first
// pinned between its lower bound and UpperBound. The kth least upper bound
// seen is at least the kth nearest distance of the answer, so a point or a
// node whose lower bound exceeds it is passed over before any point is
// measured; of a leaf's points, only those whose lower bound the others
// leave in doubt are measured exactly, once the whole leaf has been
// bounded. Only what keep or the answer needs of a record is read.
func nearestPacked(t *packed.Tree[*onemap.Record], p orb.Point, k int, limit float64, keep func(*onemap.Record) bool,
	lb *LowerBound, from *geodesicFrom, hits []Hit) []Hit {
	root := t.Root()
	if root < 0 {
		return hits
	}
	ub := NewUpperBound(p)
	// uppers is a max-heap of the k least upper bounds seen, of points
	// keep accepts.
	var upperArr [16]float64
	uppers := upperArr[:0]
	if k > len(upperArr) {
		uppers = make([]float64, 0, k)
	}
	bound := limit // no point beyond it can be in the answer
	boxes := t.Boxes()
	qp := t.Queue() // a province's search queues a few hundred nodes
	q := append(*qp, packed.Queued{Entry: int32(root)})
	defer func() {
		*qp = q
		t.Release(qp)
	}()
	for len(q) > 0 {
		top := q[0]
		if top.D > bound {
			break // nothing left can be in the answer
		}
		q = packed.Pop(q)
		e := int(top.Entry)
		if t.IsItem(e) {
			d := from.to(orb.Point{boxes[4*e], boxes[4*e+1]})
			if d > limit {
				continue
			}
			h := Hit{Record: t.Item(e), Distance: d}
			if len(hits) == k {
				if ByDistance(h, hits[k-1]) >= 0 {
					continue
				}
				hits = hits[:k-1]
			}
			i, _ := slices.BinarySearchFunc(hits, h, ByDistance)
			hits = slices.Insert(hits, i, h)
			if len(hits) == k && hits[k-1].Distance < bound {
				bound = hits[k-1].Distance
			}
			continue
		}
		from0, to := t.Children(e)
		bs := boxes[4*from0 : 4*to]
		if !t.IsItem(from0) {
			for i := 0; i+3 < len(bs); i += 4 {
				if d := lb.box(bs[i], bs[i+1], bs[i+2], bs[i+3]); d <= bound {
					q = packed.Push(q, packed.Queued{D: d, Entry: int32(from0 + i/4)})
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
			if d > bound {
				continue
			}
			c := from0 + i/4
			r := t.Item(c)
			if r == nil || keep != nil && !keep(r) {
				continue
			}
			if u := ub.To(x, y); len(uppers) < k || u < uppers[0] {
				uppers = PushUpper(uppers, u, k)
				if len(uppers) == k && uppers[0] < bound {
					bound = uppers[0]
					if d > bound {
						continue
					}
				}
			}
			q = packed.Push(q, packed.Queued{D: d, Entry: int32(c)})
		}
	}
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
