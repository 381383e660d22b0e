package public

import (
	"math"

	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/internal/packed"
	"github.com/paulmach/orb"
)

// nearest walks the R-tree itself, best first, as the nearest search of
// package inmem does (nearestPacked): it queues only nodes and the
// stations their bounds leave in doubt. A leaf's stations of the kinds
// asked for are first pinned between a lower bound (inmem.LowerBound) and
// an upper bound (upperBound); the limit-th least upper bound seen is at
// least the limit-th distance of the answer, so a station or a node whose
// lower bound passes it is dropped before any station is measured, and
// only the stations left in doubt are measured geodesically. Distances
// are compared as the answer keeps them, as float32 (ties by id): a bound
// rules an entry out only when it is greater as a float32 too.
func (s *snapshot) nearest(p orb.Point, kinds uint64, limit int, radius float64) []hitRef {
	if radius <= 0 {
		radius = inmem.Farthest
	}
	out := make([]hitRef, 0, limit)
	t := s.tree
	root := t.Root()
	if root < 0 {
		return out
	}
	// kth is the least known bound of the limit-th distance of the
	// answer, as a float32: no entry whose lower bound exceeds it can be
	// in the answer.
	kth := float32(math.Inf(1))
	lo, hi := t.Bounds()
	lb := inmem.NewLowerBound(p, lo, hi)
	plb := newPointLower(p)
	ub := newUpperBound(p)
	var upperArr [MaxLimit]float64
	uppers := upperArr[:0] // a max-heap of the limit least upper bounds seen
	boxes := t.Boxes()
	qp := t.Queue()
	q := append(*qp, packed.Queued{Entry: int32(root)})
	defer func() {
		*qp = q
		t.Release(qp)
	}()
	out2 := func(d float64) bool { return d > radius || float32(d) > kth }
	for len(q) > 0 {
		top := q[0]
		if out2(top.D) {
			break // nothing left can be in the answer
		}
		q = packed.Pop(q)
		e := int(top.Entry)
		if t.IsItem(e) {
			i := t.Item(e) - 1
			d := inmem.Distance(p, s.stations[i].Point)
			if d > radius {
				continue
			}
			h := hitRef{at: i, dist: float32(d)}
			if len(out) == limit {
				if !s.less(h, out[limit-1]) {
					continue
				}
				out = out[:limit-1]
			}
			// Insert in order.
			j := len(out)
			out = append(out, h)
			for ; j > 0 && s.less(h, out[j-1]); j-- {
				out[j] = out[j-1]
			}
			out[j] = h
			if len(out) == limit && out[limit-1].dist < kth {
				kth = out[limit-1].dist
			}
			continue
		}
		from, to := t.Children(e)
		bs := boxes[4*from : 4*to]
		if !t.IsItem(from) {
			for i := 0; i+3 < len(bs); i += 4 {
				if d := lb.Box([2]float64{bs[i], bs[i+1]}, [2]float64{bs[i+2], bs[i+3]}); !out2(d) {
					q = packed.Push(q, packed.Queued{D: d, Entry: int32(from + i/4)})
				}
			}
			continue
		}
		for i := 0; i+3 < len(bs); i += 4 {
			c := from + i/4
			if kinds != 0 && kinds&(1<<s.stations[t.Item(c)-1].kind) == 0 {
				continue
			}
			x, y := bs[i], bs[i+1]
			d, ok := plb.to(x, y)
			if !ok {
				pt := [2]float64{x, y}
				d = lb.Box(pt, pt)
			}
			if out2(d) {
				continue
			}
			if u := ub.to(x, y); u <= radius && (len(uppers) < limit || u < uppers[0]) {
				uppers = pushUpper(uppers, u, limit)
				if len(uppers) == limit && float32(uppers[0]) < kth {
					kth = float32(uppers[0])
					if out2(d) {
						continue
					}
				}
			}
			q = packed.Push(q, packed.Queued{D: d, Entry: int32(c)})
		}
	}
	return out
}

// less orders hits as answers list them: nearer first, as their distances
// are kept, then by id.
func (s *snapshot) less(a, b hitRef) bool {
	return a.dist < b.dist || a.dist == b.dist && s.stations[a.at].ID < s.stations[b.at].ID
}

// pointLower bounds from below the geodesic distance from p to a point
// within a degree of longitude of it and at most a tenth of a degree
// farther from the equator, as inmem.LowerBound does for such a point (a
// path crosses the latitudes between, at least minLatDegree metres a
// degree, and the longitudes between, at least a degree of longitude's
// metres at a tenth of a degree and a hundredth farther from the equator
// than p), without a call: the other points go to LowerBound.
type pointLower struct {
	p        orb.Point
	absLat   float64
	lonTenth float64 // 0 near a pole: every point goes to LowerBound
}

// Metres a degree of latitude, at least (at the equator), and of
// longitude at the equator, at most: inmem's own figures.
const (
	minLatDegree = 110_500.0
	minLonDegree = 111_300.0
)

func newPointLower(p orb.Point) pointLower {
	abs := math.Abs(p[1])
	if abs+0.11 > 80 {
		return pointLower{p: p, absLat: abs}
	}
	return pointLower{p: p, absLat: abs, lonTenth: minLonDegree * math.Cos((abs+0.11)*math.Pi/180)}
}

// to returns the bound of the distance to x, y and true, or false if the
// point is not one it bounds.
func (b *pointLower) to(x, y float64) (float64, bool) {
	dx := math.Abs(x - b.p[0])
	if dx > 1 || b.lonTenth == 0 || math.Abs(y) > b.absLat+0.1 {
		return 0, false
	}
	ex, ey := dx*b.lonTenth, math.Abs(y-b.p[1])*minLatDegree
	return math.Sqrt(ex*ex + ey*ey), true
}

// The WGS-84 ellipsoid (as package inmem has it).
const (
	wgs84A = 6378137.0
	wgs84F = 1 / 298.257223563
)

// upperBound bounds from above, cheaply, the geodesic distance from a
// point p to points within a degree of it in latitude and in longitude, as
// package inmem's nearest search does: the straight line between the two
// in lon/lat is a path on the ellipsoid, each step of it at most as long
// as its two components at the most metres a degree of latitude and of
// longitude have within a degree of p's latitude; the geodesic, the
// shortest path, is at most √((Δlat·mMax)² + (Δlon·pMax)²), within about a
// percent of it.
type upperBound struct {
	p          orb.Point
	mMax, pMax float64 // metres per degree, at most (0: no bound, near a pole)
}

// newUpperBound returns the bound of distances from p.
func newUpperBound(p orb.Point) upperBound {
	abs := math.Abs(p[1])
	if abs+1.01 >= 89 {
		return upperBound{p: p}
	}
	const rad = math.Pi / 180
	const e2 = wgs84F * (2 - wgs84F)
	sinHi := math.Sin((abs + 1.01) * rad)
	wHi := math.Sqrt(1 - e2*sinHi*sinHi)
	sinLo, cosLo := math.Sincos(math.Max(0, abs-1.01) * rad)
	wLo := math.Sqrt(1 - e2*sinLo*sinLo)
	// A millionth wider for rounding.
	const wider = 1 + 1e-6
	return upperBound{p: p, mMax: wgs84A * (1 - e2) / (wHi * wHi * wHi) * rad * wider,
		pMax: wgs84A * cosLo / wLo * rad * wider}
}

// to returns at least the geodesic distance in metres from p to x, y (as
// inmem.Distance measures it: a millimetre more for its rounding), or +Inf
// for a point more than a degree away in latitude or longitude.
func (u *upperBound) to(x, y float64) float64 {
	dx, dy := x-u.p[0], y-u.p[1]
	if u.mMax == 0 || dx > 1 || dx < -1 || dy > 1 || dy < -1 {
		return math.Inf(1)
	}
	ex, ey := dx*u.pMax, dy*u.mMax
	return math.Sqrt(ex*ex+ey*ey) + 1e-3
}

// pushUpper adds u to the max-heap h of at most k bounds, dropping its
// greatest if it is full (u is then less than that).
func pushUpper(h []float64, u float64, k int) []float64 {
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
