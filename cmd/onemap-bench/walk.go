package main

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// walk says how a user looks at an area: a screen of Width×Height px on a
// map whose tiles are TileSize px at their own zoom (512 for MapLibre's
// vector sources), panning and zooming between MinZoom and MaxZoom
// (exclusive) and staying over Bound. The map asks for the tiles of
// floor(zoom), as MapLibre does for vector tiles.
type walk struct {
	Bound          orb.Bound
	Width, Height  float64
	TileSize       float64
	MinZoom        float64
	MaxZoom        float64
	ZoomWeight     func(z maptile.Zoom) float64 // relative time spent at a tile zoom
	PanProbability float64                      // of a step being a pan; the rest are zooms
}

// countyWalk is the county benchmark's user: a 1280×800 px screen, map
// zooms 8 to 17 (tiles 8 to 16), most of the time at tile zooms 12 to 15,
// where a township's or a village's grids and points are read.
func countyWalk(b orb.Bound) walk {
	weights := map[maptile.Zoom]float64{8: 2, 9: 3, 10: 5, 11: 8, 12: 16, 13: 20, 14: 20, 15: 16, 16: 10}
	return walk{
		Bound: b, Width: 1280, Height: 800, TileSize: 512, MinZoom: 8, MaxZoom: 17,
		ZoomWeight:     func(z maptile.Zoom) float64 { return weights[z] },
		PanProbability: 0.6,
	}
}

// viewport is what the screen shows: its centre in world coordinates
// (maptile.Fraction at zoom 0: x east and y south, both in [0, 1)) and the
// map's zoom.
type viewport struct {
	centre orb.Point
	zoom   float64
}

// size returns the viewport's width and height in world coordinates.
func (w walk) size(zoom float64) (float64, float64) {
	scale := w.TileSize * math.Exp2(zoom)
	return w.Width / scale, w.Height / scale
}

// worldBound returns Bound in world coordinates (y grows southwards).
func (w walk) worldBound() orb.Bound {
	nw := maptile.Fraction(orb.Point{w.Bound.Min.Lon(), w.Bound.Max.Lat()}, 0)
	se := maptile.Fraction(orb.Point{w.Bound.Max.Lon(), w.Bound.Min.Lat()}, 0)
	return orb.Bound{Min: nw, Max: se}
}

// tiles returns the tiles that the viewport shows and that meet Bound, the
// one under the centre first and then outwards, as a map loads them.
func (w walk) tiles(v viewport) []maptile.Tile {
	z := maptile.Zoom(math.Floor(v.zoom))
	n := math.Exp2(float64(z))
	width, height := w.size(v.zoom)
	area := w.worldBound()
	last := int(n) - 1
	x0, x1 := clampInt(int(math.Floor((v.centre.X()-width/2)*n)), 0, last), clampInt(int(math.Floor((v.centre.X()+width/2)*n)), 0, last)
	y0, y1 := clampInt(int(math.Floor((v.centre.Y()-height/2)*n)), 0, last), clampInt(int(math.Floor((v.centre.Y()+height/2)*n)), 0, last)
	var out []maptile.Tile
	for x := x0; x <= x1; x++ {
		for y := y0; y <= y1; y++ {
			tb := orb.Bound{Min: orb.Point{float64(x) / n, float64(y) / n}, Max: orb.Point{float64(x+1) / n, float64(y+1) / n}}
			if tb.Intersects(area) {
				out = append(out, maptile.New(uint32(x), uint32(y), z))
			}
		}
	}
	dist := func(t maptile.Tile) float64 {
		dx, dy := (float64(t.X)+0.5)/n-v.centre.X(), (float64(t.Y)+0.5)/n-v.centre.Y()
		return dx*dx + dy*dy
	}
	slices.SortFunc(out, func(a, b maptile.Tile) int {
		return cmp.Or(cmp.Compare(dist(a), dist(b)), cmp.Compare(a.X, b.X), cmp.Compare(a.Y, b.Y))
	})
	return out
}

// step moves the viewport once: a pan by a fraction of the screen in any
// direction, or a zoom in or out by half a level to a level and a half about
// a point of the screen (as a scroll wheel or a double click does). Zooms
// are accepted by the Metropolis rule, so that the time spent at each tile
// zoom follows ZoomWeight.
func (w walk) step(rng *rand.Rand, v viewport) viewport {
	width, height := w.size(v.zoom)
	if rng.Float64() < w.PanProbability {
		angle := 2 * math.Pi * rng.Float64()
		d := 0.15 + 0.6*rng.Float64()
		v.centre = orb.Point{v.centre.X() + d*width*math.Cos(angle), v.centre.Y() + d*height*math.Sin(angle)}
		v.centre = w.keepInside(v.centre)
		return v
	}
	dz := 0.5 + rng.Float64()
	if rng.IntN(2) == 0 {
		dz = -dz
	}
	anchor := orb.Point{v.centre.X() + (rng.Float64()-0.5)*width, v.centre.Y() + (rng.Float64()-0.5)*height}
	to := v.zoom + dz
	if to < w.MinZoom || to >= w.MaxZoom {
		return v
	}
	from, target := w.ZoomWeight(maptile.Zoom(v.zoom)), w.ZoomWeight(maptile.Zoom(to))
	if from > 0 && rng.Float64() >= target/from {
		return v
	}
	// The anchor keeps its place on the screen.
	k := math.Exp2(v.zoom - to)
	v.centre = w.keepInside(orb.Point{anchor.X() + (v.centre.X()-anchor.X())*k, anchor.Y() + (v.centre.Y()-anchor.Y())*k})
	v.zoom = to
	return v
}

// keepInside reflects a centre that left Bound back into it.
func (w walk) keepInside(p orb.Point) orb.Point {
	b := w.worldBound()
	return orb.Point{reflect(p.X(), b.Min.X(), b.Max.X()), reflect(p.Y(), b.Min.Y(), b.Max.Y())}
}

func reflect(v, lo, hi float64) float64 {
	for v < lo || v > hi {
		if v < lo {
			v = 2*lo - v
		}
		if v > hi {
			v = 2*hi - v
		}
	}
	return v
}

func clampInt(v, lo, hi int) int { return min(max(v, lo), hi) }

// tileRequests returns the first n tile requests of a user who walks over
// the area, and how many viewports they came from. Each viewport asks for
// the tiles it shows that the one before did not (those are still loaded);
// the count is of viewports that asked for any. The same seed gives the same
// list.
func tileRequests(w walk, seed uint64, n int) ([]maptile.Tile, int) {
	rng := rand.New(rand.NewPCG(seed, 0x6f6e656d6170)) // "onemap"
	b := w.worldBound()
	v := viewport{
		centre: orb.Point{b.Min.X() + rng.Float64()*(b.Max.X()-b.Min.X()), b.Min.Y() + rng.Float64()*(b.Max.Y()-b.Min.Y())},
		zoom:   13.5,
	}
	var (
		out       []maptile.Tile
		prev      = map[maptile.Tile]bool{}
		viewports int
	)
	for len(out) < n {
		shown := w.tiles(v)
		cur := make(map[maptile.Tile]bool, len(shown))
		asked := false
		for _, t := range shown {
			cur[t] = true
			if !prev[t] {
				out, asked = append(out, t), true
			}
		}
		prev = cur
		if asked {
			viewports++
		}
		v = w.step(rng, v)
	}
	return out[:n], viewports
}
