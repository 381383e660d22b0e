package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// streamBase is the random stream of the base map's rivers and hamlets
// (after the synthesis's own streams, which it leaves as they are).
const streamBase uint64 = 100

// Base is the demo county's base map, to find the way by where the county
// has no map of its own: its settlements with their names, its main roads
// and its rivers. It is synthetic like the rest of the demo: the roads are
// the ones the synthetic cameras stand along (the same seed lays them out),
// the settlements are the seats of the synthetic layout, and the rivers and
// the hamlets' names are made up. Only the county's outline and the names
// of its townships and villages are real.
type Base struct {
	Places []BasePlace
	Roads  []BaseLine
	Rivers []BaseLine
}

// BasePlace is a settlement: the county seat ("city"), a township seat
// ("town"), a village centre ("village") or a hamlet, a group's houses
// ("hamlet").
type BasePlace struct {
	Name  string
	Class string
	Point orb.Point
}

// BaseLine is a road ("primary" from the county seat to a township seat,
// "secondary" from a township seat to a village) or a river ("river" the
// main one, "stream" the others), WGS-84.
type BaseLine struct {
	Name  string
	Class string
	Line  orb.LineString
}

// hamletWords name the synthetic hamlets after their village: 狮山上村,
// 狮山新村, …
var hamletWords = []string{"大村", "小村", "上村", "下村", "新村", "老村", "坝子", "营", "箐", "湾", "冲", "坡头"}

// Base returns the county's synthetic base map. The same dataset always
// gives the same base, and its roads are those along which Synthesize sets
// the cameras.
func (d *Dataset) Base() (*Base, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	s := &synth{d: d, bound: d.Outline.Bound(), area: newArea(d.Outline), words: newWords(), plan: &Plan{}}
	if err := s.layout(); err != nil {
		return nil, err
	}
	s.buildRoads()
	b := &Base{}
	for _, r := range s.roads {
		class := "secondary"
		if r.trunk {
			class = "primary"
		}
		b.Roads = append(b.Roads, BaseLine{Name: r.name, Class: class, Line: r.line})
	}
	rng := d.rng(streamBase)
	b.Places = append(b.Places, BasePlace{Name: shortCounty(d.County.Name) + "县城", Class: "city", Point: d.Seat})
	for _, tw := range s.towns {
		if tw != s.seat {
			b.Places = append(b.Places, BasePlace{Name: tw.t.Name, Class: "town", Point: tw.seat})
		}
		for _, v := range tw.villages {
			stem := villageStem(v.v.ShortName)
			b.Places = append(b.Places, BasePlace{Name: stem, Class: "village", Point: v.centre})
			words := rng.Perm(len(hamletWords))
			for i, g := range v.groups {
				if planar.DistanceSquared(g.centre, v.centre) < 0.004*0.004 {
					continue // the village's own houses
				}
				b.Places = append(b.Places, BasePlace{Name: stem + hamletWords[words[i%len(words)]], Class: "hamlet", Point: g.centre})
			}
		}
	}
	b.Rivers = s.rivers(rng)
	return b, nil
}

// villageStem is a village's name without 村 or 社区: the settlement's.
func villageStem(name string) string {
	for _, suffix := range []string{"社区", "村"} {
		if stem, ok := strings.CutSuffix(name, suffix); ok && stem != "" {
			return stem
		}
	}
	return name
}

// rivers lays a river across the county from west to east, passing south of
// the county seat, and a stream from each township seat that is far from it
// down to it.
func (s *synth) rivers(rng *rand.Rand) []BaseLine {
	b := s.bound
	seat := s.d.Seat
	county := shortCounty(s.d.County.Name)
	west := orb.Point{b.Min.X() - 0.02, seat.Y() + (rng.Float64()-0.5)*0.2*(b.Max.Y()-b.Min.Y())}
	east := orb.Point{b.Max.X() + 0.02, seat.Y() + (rng.Float64()-0.5)*0.2*(b.Max.Y()-b.Min.Y())}
	via := orb.Point{seat.X(), seat.Y() - 0.012}
	main := append(meander(rng, west, via, 0.003), meander(rng, via, east, 0.003)[1:]...)
	out := []BaseLine{{Name: county + "河", Class: "river", Line: main}}
	for _, tw := range s.towns {
		if tw == s.seat {
			continue
		}
		// Down to the nearest bend of the river, if it is far enough to be
		// a stream of its own.
		near, best := main[0], math.Inf(1)
		for _, p := range main {
			if d := planar.DistanceSquared(p, tw.seat); d < best {
				near, best = p, d
			}
		}
		if best < 0.03*0.03 {
			continue
		}
		start := orb.Point{tw.seat.X() + 0.006, tw.seat.Y() + 0.004}
		out = append(out, BaseLine{Name: tw.short + "河", Class: "stream", Line: meander(rng, start, near, 0.002)})
	}
	return out
}

// meander returns a winding line from a to b, a vertex every step degrees
// or so.
func meander(rng *rand.Rand, a, b orb.Point, step float64) orb.LineString {
	dx, dy := b.X()-a.X(), b.Y()-a.Y()
	dist := math.Hypot(dx, dy)
	if dist == 0 {
		return orb.LineString{a, b}
	}
	nx, ny := -dy/dist, dx/dist
	n := max(4, int(dist/step))
	phase, waves := rng.Float64()*2*math.Pi, 2+rng.Float64()*4
	amp := 0.04 * dist
	line := orb.LineString{a}
	wobble := 0.0
	for i := 1; i < n; i++ {
		t := float64(i) / float64(n)
		wobble = 0.8*wobble + rng.NormFloat64()*0.0006
		off := (amp*math.Sin(phase+waves*math.Pi*t) + wobble) * math.Sin(math.Pi*t)
		line = append(line, orb.Point{a.X() + t*dx + off*nx, a.Y() + t*dy + off*ny})
	}
	return append(line, b)
}

// String says what the base holds.
func (b *Base) String() string {
	return fmt.Sprintf("%d places, %d roads, %d rivers", len(b.Places), len(b.Roads), len(b.Rivers))
}
