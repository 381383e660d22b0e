package demo

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/onemapgis/onemap"
	kernel "github.com/onemapgis/onemap/internal/planar"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// Random streams: each part of the synthesis draws from its own, so that a
// change to one part leaves the others as they were.
const (
	streamLayout uint64 = iota + 1
	streamPeople
	streamCameras
	streamRiskPoints
	streamHouseholds
	streamStations
	streamRoads
	streamAssessments
)

// Sample sizes of the layout. The samples stand for where people live: a
// uniform share over the county and a share gathered around each township
// seat, so that villages and groups come out smaller near the seats.
const (
	uniformSamples   = 40000
	clusteredSamples = 24000
	kmeansRounds     = 30
)

// synth holds the state of one synthesis.
type synth struct {
	d     *Dataset
	kinds onemap.SeedKinds
	bound orb.Bound
	area  area
	towns []*town
	seat  *town // the township that holds the county seat
	roads []*road
	// roadWeights are the roads' lengths, trunk roads doubled.
	roadWeights []float64
	people      *rand.Rand
	words       words
	plan        *Plan
}

type town struct {
	no       int // 1-based number in the dataset, used in device codes
	t        *Township
	short    string // name without 镇/乡: 狮山
	site     orb.Point
	seat     orb.Point
	villages []*village  // in dataset order
	sites    []orb.Point // of the villages, in the same order
	pts      []orb.Point // the samples inside
}

type village struct {
	v      *Village
	town   *town
	site   orb.Point
	centre orb.Point
	groups []*group    // in number order
	sites  []orb.Point // of the groups, in the same order
	pts    []orb.Point // the samples inside
}

type group struct {
	village *village
	code    string
	name    string
	site    orb.Point
	centre  orb.Point
	samples int // how many samples lie inside
	pop, hh int // population and households
}

// Synthesize makes the plan of the demo county: every grid with its site,
// worker, households and population, and the risk points, risk households,
// cameras and stations. The same dataset and kinds always give the same plan.
//
// The kinds are the database's reference data, not the dataset's: the rows
// are spread over the kinds given, weighting the ones Synthesize knows. With
// the county's rule table (k.Rules) every household's last assessment ticks
// situations and categories of k that give it its level, and every risk
// point's level agrees with its grade; without it the levels are drawn and
// nothing is ticked.
func (d *Dataset) Synthesize(k onemap.SeedKinds) (*Plan, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	s := &synth{
		d:      d,
		kinds:  k,
		bound:  d.Outline.Bound(),
		area:   newArea(d.Outline),
		people: d.rng(streamPeople),
		words:  newWords(),
		plan:   &Plan{},
	}
	if err := s.layout(); err != nil {
		return nil, err
	}
	s.grids()
	s.buildRoads()
	steps := []func() error{s.cameras, s.riskPoints, s.households, s.stations}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return s.plan, nil
}

func (d *Dataset) rng(stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(d.Seed, stream))
}

// inside says whether p lies inside the county.
func (s *synth) inside(p orb.Point) bool {
	return s.bound.Contains(p) && s.area.contains(p)
}

// area answers point-in-polygon queries on a multipolygon, the ring
// bounds computed once.
type area struct {
	polys [][]ring // per polygon: exterior ring, then holes
}

type ring struct {
	pts   orb.Ring
	bound orb.Bound
}

func newArea(mp orb.MultiPolygon) area {
	var a area
	for _, poly := range mp {
		var rs []ring
		for _, r := range poly {
			rs = append(rs, ring{pts: r, bound: r.Bound()})
		}
		a.polys = append(a.polys, rs)
	}
	return a
}

func (a area) contains(p orb.Point) bool {
	for _, poly := range a.polys {
		if len(poly) == 0 || !poly[0].contains(p) {
			continue
		}
		inHole := false
		for _, h := range poly[1:] {
			if h.contains(p) {
				inHole = true
				break
			}
		}
		if !inHole {
			return true
		}
	}
	return false
}

// contains says whether p lies inside the ring (by its winding number).
func (r ring) contains(p orb.Point) bool {
	return r.bound.Contains(p) && kernel.WindingNumber(r.pts, p) != 0
}

// uniform returns a point drawn uniformly from the county.
func (s *synth) uniform(rng *rand.Rand) orb.Point {
	for {
		p := orb.Point{
			s.bound.Min.X() + rng.Float64()*(s.bound.Max.X()-s.bound.Min.X()),
			s.bound.Min.Y() + rng.Float64()*(s.bound.Max.Y()-s.bound.Min.Y()),
		}
		if s.inside(p) {
			return p
		}
	}
}

// near returns a point drawn from a normal distribution around c with
// standard deviation sigma (degrees) that lies inside the county and
// satisfies ok (nil: any); after many misses it returns c.
func (s *synth) near(rng *rand.Rand, c orb.Point, sigma float64, ok func(orb.Point) bool) orb.Point {
	for range 200 {
		p := orb.Point{c.X() + rng.NormFloat64()*sigma, c.Y() + rng.NormFloat64()*sigma}
		if s.inside(p) && (ok == nil || ok(p)) {
			return p
		}
	}
	return c
}

// layout places the sites of every township, village and group, and the
// seats and centres, from samples of the county.
func (s *synth) layout() error {
	d := s.d
	rng := d.rng(streamLayout)

	// Townships: hand-placed sites where the dataset has them (the seat
	// township's is the county seat), k-means for the others.
	uniform := make([]orb.Point, uniformSamples)
	for i := range uniform {
		uniform[i] = s.uniform(rng)
	}
	fixed := make([]*orb.Point, len(d.Townships))
	for i := range d.Townships {
		t := &d.Townships[i]
		switch {
		case t.Code == d.SeatTownship:
			fixed[i] = &d.Seat
		case t.Site != nil:
			fixed[i] = t.Site
		}
	}
	sites, member, err := kmeans(rng, uniform, len(d.Townships), fixed)
	if err != nil {
		return fmt.Errorf("demo: townships: %w", err)
	}
	for i := range d.Townships {
		t := &d.Townships[i]
		tw := &town{no: i + 1, t: t, short: shortTownship(t.Name), site: sites[i], seat: sites[i]}
		if fixed[i] == nil {
			tw.seat = nearestMember(uniform, member, i, sites[i])
		}
		if t.Code == d.SeatTownship {
			s.seat = tw
		}
		s.towns = append(s.towns, tw)
	}

	// Samples: the uniform ones and a share around the seats, the county
	// seat's larger and wider.
	pts := uniform
	weights := make([]float64, len(s.towns))
	for i, tw := range s.towns {
		weights[i] = 1
		if tw == s.seat {
			weights[i] = 3
		}
	}
	for range clusteredSamples {
		tw := s.towns[pick(rng, weights)]
		sigma := 0.015
		if tw == s.seat {
			sigma = 0.025
		}
		pts = append(pts, s.near(rng, tw.seat, sigma, nil))
	}
	for _, p := range pts {
		tw := s.towns[nearest(sites, p)]
		tw.pts = append(tw.pts, p)
	}

	// Villages: k-means over each township's samples. Communities take the
	// cells nearest the seat, villages the others going round the seat
	// clockwise from north, each in the order of its code.
	for _, tw := range s.towns {
		if err := s.layoutVillages(rng, tw); err != nil {
			return err
		}
	}

	// Groups: the county's figure spread over the villages, at least two
	// each, then k-means over each village's samples, numbered clockwise
	// from north around the village centre.
	var all []*village
	for _, tw := range s.towns {
		all = append(all, tw.villages...)
	}
	w := make([]float64, len(all))
	for i := range w {
		w[i] = 0.6 + 0.8*rng.Float64()
	}
	counts := apportion(d.Counts.Groups-2*len(all), w)
	for i, v := range all {
		if err := s.layoutGroups(rng, v, 2+counts[i]); err != nil {
			return err
		}
	}

	// Population: the county's figure spread over the groups by their
	// samples (denser near the seats), at least 10 people each; households
	// of 2.6 to 3.6 people.
	var groups []*group
	for _, v := range all {
		groups = append(groups, v.groups...)
	}
	w = make([]float64, len(groups))
	for i, g := range groups {
		w[i] = float64(g.samples) * (0.7 + 0.6*rng.Float64())
	}
	pop := apportion(d.Counts.Population-10*len(groups), w)
	for i, g := range groups {
		g.pop = 10 + pop[i]
		g.hh = max(1, int(math.Round(float64(g.pop)/(2.6+rng.Float64()))))
	}
	return nil
}

func (s *synth) layoutVillages(rng *rand.Rand, tw *town) error {
	vs := tw.t.Villages
	if len(tw.pts) < 20*len(vs) {
		return fmt.Errorf("demo: township %s is too small for %d villages", tw.t.Name, len(vs))
	}
	sites, member, err := kmeans(rng, tw.pts, len(vs), nil)
	if err != nil {
		return fmt.Errorf("demo: villages of %s: %w", tw.t.Name, err)
	}
	centres := make([]orb.Point, len(sites))
	for c := range sites {
		centres[c] = nearestMember(tw.pts, member, c, sites[c])
	}
	// Order the cells: by distance from the seat for the communities, then
	// by bearing for the villages.
	cells := make([]int, len(sites))
	for i := range cells {
		cells[i] = i
	}
	byDistance := func(a, b int) int {
		return cmp.Compare(planar.DistanceSquared(centres[a], tw.seat), planar.DistanceSquared(centres[b], tw.seat))
	}
	slices.SortStableFunc(cells, byDistance)
	communities := 0
	for _, v := range vs {
		if v.Kind == "community" {
			communities++
		}
	}
	rest := cells[communities:]
	slices.SortStableFunc(rest, func(a, b int) int {
		return cmp.Compare(bearing(tw.seat, centres[a]), bearing(tw.seat, centres[b]))
	})
	nextCommunity, nextVillage := 0, communities
	for i := range vs {
		var c int
		if vs[i].Kind == "community" {
			c = cells[nextCommunity]
			nextCommunity++
		} else {
			c = cells[nextVillage]
			nextVillage++
		}
		v := &village{v: &vs[i], town: tw, site: sites[c], centre: centres[c]}
		tw.villages = append(tw.villages, v)
		tw.sites = append(tw.sites, v.site)
	}
	for _, p := range tw.pts {
		v := tw.villages[nearest(tw.sites, p)]
		v.pts = append(v.pts, p)
	}
	return nil
}

func (s *synth) layoutGroups(rng *rand.Rand, v *village, n int) error {
	if len(v.pts) < 4*n {
		return fmt.Errorf("demo: village %s %s is too small for %d groups", v.v.Code, v.v.ShortName, n)
	}
	sites, member, err := kmeans(rng, v.pts, n, nil)
	if err != nil {
		return fmt.Errorf("demo: groups of %s: %w", v.v.ShortName, err)
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(bearing(v.centre, sites[a]), bearing(v.centre, sites[b]))
	})
	kind := "村民小组"
	if v.v.Kind == "community" {
		kind = "居民小组"
	}
	for i, c := range order {
		g := &group{
			village: v,
			code:    fmt.Sprintf("%s%03d", v.v.Code, i+1),
			name:    fmt.Sprintf("%s第%s%s", v.v.ShortName, chineseNumber(i+1), kind),
			site:    sites[c],
			centre:  nearestMember(v.pts, member, c, sites[c]),
		}
		v.groups = append(v.groups, g)
		v.sites = append(v.sites, g.site)
	}
	for _, p := range v.pts {
		v.groups[nearest(v.sites, p)].samples++
	}
	return nil
}

// locate returns the township, village and group that hold p (which must
// lie inside the county): the nearest site at each level, the rule by which
// the boundaries are cut.
func (s *synth) locate(p orb.Point) (*town, *village, *group) {
	tw := s.towns[0]
	best := math.Inf(1)
	for _, t := range s.towns {
		if d := planar.DistanceSquared(t.site, p); d < best {
			tw, best = t, d
		}
	}
	v := tw.villages[nearest(tw.sites, p)]
	return tw, v, v.groups[nearest(v.sites, p)]
}

// Locator returns a function that finds the codes of the township, village
// and group grids that hold a point, by the plan's sites (the rule by which
// the boundaries are cut), or ok=false if the point lies outside the county.
func (p *Plan) Locator(d *Dataset) func(orb.Point) (township, village, group string, ok bool) {
	outline := newArea(d.Outline)
	children := map[string][]Grid{}
	for _, g := range p.Grids {
		if g.Level != LevelCounty {
			children[g.ParentCode] = append(children[g.ParentCode], g)
		}
	}
	county := GridCode(d.County.Code)
	nearestChild := func(parent string, pt orb.Point) string {
		code, best := "", math.Inf(1)
		for _, g := range children[parent] {
			if dist := planar.DistanceSquared(g.Site, pt); dist < best {
				code, best = g.Code, dist
			}
		}
		return code
	}
	return func(pt orb.Point) (township, village, group string, ok bool) {
		if !outline.contains(pt) {
			return "", "", "", false
		}
		township = nearestChild(county, pt)
		village = nearestChild(township, pt)
		group = nearestChild(village, pt)
		return township, village, group, true
	}
}

// grids writes the grid rows of the layout into the plan, with their
// workers and the roll-ups of households and population.
func (s *synth) grids() {
	d := s.d
	county := Grid{onemap.SeedGrid{Level: LevelCounty, Code: GridCode(d.County.Code), Name: d.County.Name}, d.Seat}
	var towns, villages, groups []Grid
	for _, tw := range s.towns {
		tg := Grid{onemap.SeedGrid{Level: LevelTownship, Code: GridCode(tw.t.Code), ParentCode: county.Code, Name: tw.t.Name,
			Site: tw.site}, tw.seat}
		for _, v := range tw.villages {
			vg := Grid{onemap.SeedGrid{Level: LevelVillage, Code: v.v.Code, ParentCode: tg.Code, Name: v.v.ShortName,
				Site: v.site}, v.centre}
			for _, g := range v.groups {
				groups = append(groups, Grid{onemap.SeedGrid{Level: LevelGroup, Code: g.code, ParentCode: vg.Code, Name: g.name,
					Site: g.site, Households: g.hh, Population: g.pop}, g.centre})
				vg.Households += g.hh
				vg.Population += g.pop
			}
			villages = append(villages, vg)
			tg.Households += vg.Households
			tg.Population += vg.Population
		}
		towns = append(towns, tg)
		county.Households += tg.Households
		county.Population += tg.Population
	}
	all := append(append(append([]Grid{county}, towns...), villages...), groups...)
	for i := range all {
		all[i].WorkerName = s.person(s.people)
		all[i].WorkerPhone = s.mobile(s.people)
	}
	s.plan.Grids = all
}

// kmeans partitions pts into k clusters with Lloyd's algorithm from a
// k-means++ start. Centres with a fixed position stay where they are. It
// returns the centres and the cluster of each point, every point in the
// cluster of its nearest centre and no cluster empty.
func kmeans(rng *rand.Rand, pts []orb.Point, k int, fixed []*orb.Point) ([]orb.Point, []int, error) {
	if len(pts) < k {
		return nil, nil, fmt.Errorf("%d points cannot make %d clusters", len(pts), k)
	}
	centres := make([]orb.Point, k)
	isFixed := make([]bool, k)
	var chosen []orb.Point
	for i := range k {
		if i < len(fixed) && fixed[i] != nil {
			centres[i], isFixed[i] = *fixed[i], true
			chosen = append(chosen, centres[i])
		}
	}
	// k-means++: each free centre is a point drawn with probability
	// proportional to its squared distance from the nearest chosen centre.
	d2 := make([]float64, len(pts))
	for i := range k {
		if isFixed[i] {
			continue
		}
		if len(chosen) == 0 {
			centres[i] = pts[rng.IntN(len(pts))]
		} else {
			for j, p := range pts {
				d2[j] = planar.DistanceSquared(p, chosen[nearest(chosen, p)])
			}
			centres[i] = pts[pick(rng, d2)]
		}
		chosen = append(chosen, centres[i])
	}
	member := make([]int, len(pts))
	assign := func() {
		for j, p := range pts {
			member[j] = nearest(centres, p)
		}
	}
	sum := make([]orb.Point, k)
	n := make([]int, k)
	for range kmeansRounds {
		assign()
		clear(sum)
		clear(n)
		for j, p := range pts {
			c := member[j]
			sum[c][0] += p[0]
			sum[c][1] += p[1]
			n[c]++
		}
		for c := range k {
			if !isFixed[c] && n[c] > 0 {
				centres[c] = orb.Point{sum[c][0] / float64(n[c]), sum[c][1] / float64(n[c])}
			}
		}
	}
	// No empty cluster: move an empty free centre onto the point farthest
	// from its own centre, and assign again.
	for range k + 1 {
		assign()
		clear(n)
		for _, c := range member {
			n[c]++
		}
		empty := slices.Index(n, 0)
		if empty < 0 {
			return centres, member, nil
		}
		if isFixed[empty] {
			return nil, nil, fmt.Errorf("the fixed centre %v holds no point", centres[empty])
		}
		far, farD := -1, -1.0
		for j, p := range pts {
			if c := member[j]; n[c] > 1 {
				if d := planar.DistanceSquared(p, centres[c]); d > farD {
					far, farD = j, d
				}
			}
		}
		centres[empty] = pts[far]
	}
	return nil, nil, fmt.Errorf("could not fill %d clusters", k)
}

// nearest returns the index of the site nearest p; of equals the first.
func nearest(sites []orb.Point, p orb.Point) int {
	best, bestD := 0, math.Inf(1)
	for i, s := range sites {
		if d := planar.DistanceSquared(s, p); d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

// nearestMember returns the point of cluster c nearest to q.
func nearestMember(pts []orb.Point, member []int, c int, q orb.Point) orb.Point {
	best, bestD := q, math.Inf(1)
	for j, p := range pts {
		if member[j] == c {
			if d := planar.DistanceSquared(p, q); d < bestD {
				best, bestD = p, d
			}
		}
	}
	return best
}

// bearing returns the direction from a to b in radians clockwise from
// north, in [0, 2π).
func bearing(a, b orb.Point) float64 {
	r := math.Atan2(b.X()-a.X(), b.Y()-a.Y())
	if r < 0 {
		r += 2 * math.Pi
	}
	return r
}

// pick returns an index drawn with probability proportional to its weight.
func pick(rng *rand.Rand, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := rng.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	for i := len(weights) - 1; i >= 0; i-- {
		if weights[i] > 0 {
			return i
		}
	}
	return 0
}

// apportion splits total into whole shares proportional to the weights by
// the largest-remainder method; the shares add up to total exactly.
func apportion(total int, weights []float64) []int {
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	shares := make([]int, len(weights))
	if total <= 0 || sum <= 0 {
		return shares
	}
	rem := make([]float64, len(weights))
	given := 0
	for i, w := range weights {
		q := float64(total) * w / sum
		shares[i] = int(q)
		rem[i] = q - float64(shares[i])
		given += shares[i]
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rem[b], rem[a]) })
	for i := 0; given < total; i++ {
		shares[order[i%len(order)]]++
		given++
	}
	return shares
}
