package public

import (
	"cmp"
	"encoding/json"
	"math"
	"slices"
	"strconv"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// Shelter is a shelter or evacuation site (安置点) as the public sees it.
type Shelter = onemap.PublicShelter

// shelter is a Shelter as the index keeps it, with its JSON object but its
// closing brace.
type shelter struct {
	Shelter
	json []byte
}

// newShelters returns the shelters by id, each with its JSON.
func newShelters(list []Shelter) []shelter {
	out := make([]shelter, len(list))
	for i, sh := range list {
		b, _ := json.Marshal(struct {
			ID         int64   `json:"id"`
			Kind       string  `json:"kind"`
			KindName   string  `json:"kind_name"`
			KindNameEN string  `json:"kind_name_en"`
			Name       string  `json:"name"`
			Capacity   int64   `json:"capacity"`
			Address    string  `json:"address"`
			Synthetic  bool    `json:"synthetic"`
			Lon        float64 `json:"lon"`
			Lat        float64 `json:"lat"`
		}{sh.ID, sh.Kind, sh.KindName, sh.KindNameEN, sh.Name, sh.Capacity, sh.Address, sh.Synthetic,
			round6(sh.Point[0]), round6(sh.Point[1])})
		out[i] = shelter{Shelter: sh, json: b[:len(b)-1]}
	}
	slices.SortFunc(out, func(a, b shelter) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// ShelterHit is a shelter found near a point.
type ShelterHit struct {
	Shelter  Shelter
	Distance float64 // metres, geodesic, from the rounded point
}

// nearestShelters returns the positions of the shelters within radius
// metres of p (0: any distance), nearest first (ties by id), at most limit,
// and their distances. A county has a few hundred shelters at most: each
// is measured.
func (s *snapshot) nearestShelters(p orb.Point, limit int, radius float64) ([]int, []float64) {
	type hit struct {
		at   int
		dist float64
	}
	hits := make([]hit, 0, len(s.shelters))
	for i := range s.shelters {
		d := inmem.Distance(p, s.shelters[i].Point)
		if radius > 0 && d > radius {
			continue
		}
		hits = append(hits, hit{i, d})
	}
	slices.SortFunc(hits, func(a, b hit) int {
		return cmp.Or(cmp.Compare(a.dist, b.dist), cmp.Compare(s.shelters[a.at].ID, s.shelters[b.at].ID))
	})
	hits = hits[:min(len(hits), limit)]
	at, dist := make([]int, len(hits)), make([]float64, len(hits))
	for i, h := range hits {
		at[i], dist[i] = h.at, h.dist
	}
	return at, dist
}

// NearestShelters returns the shelters nearest the query's point rounded to
// Precision (the query's kinds are not theirs: it must have none), nearest
// first, and the rounded point.
func (ix *Index) NearestShelters(q Query) (orb.Point, []ShelterHit, error) {
	s, err := ix.snapshot()
	if err != nil {
		return orb.Point{}, nil, err
	}
	q.Kinds = nil
	p, _, err := s.resolve(q)
	if err != nil {
		return p, nil, err
	}
	at, dist := s.nearestShelters(p, q.Limit, q.Radius)
	out := make([]ShelterHit, len(at))
	for i := range at {
		out[i] = ShelterHit{Shelter: s.shelters[at[i]].Shelter, Distance: dist[i]}
	}
	return p, out, nil
}

// AppendSheltersJSON appends to dst the shelters nearest q's point as JSON:
// {"point": [lon, lat], "count": n, "shelters": [{"id", "kind",
// "kind_name", "kind_name_en", "name", "capacity", "address", "synthetic",
// "lon", "lat", "distance_m"}]}, the point being the rounded one the
// distances are measured from. q's kinds are ignored (they are the
// stations').
func (ix *Index) AppendSheltersJSON(dst []byte, q Query) ([]byte, error) {
	s, err := ix.snapshot()
	if err != nil {
		return dst, err
	}
	q.Kinds = nil
	p, _, err := s.resolve(q)
	if err != nil {
		return dst, err
	}
	at, dist := s.nearestShelters(p, q.Limit, q.Radius)
	dst = append(dst, `{"point":[`...)
	dst = strconv.AppendFloat(dst, p[0], 'f', -1, 64)
	dst = append(dst, ',')
	dst = strconv.AppendFloat(dst, p[1], 'f', -1, 64)
	dst = append(dst, `],"count":`...)
	dst = strconv.AppendInt(dst, int64(len(at)), 10)
	dst = append(dst, `,"shelters":[`...)
	for i, a := range at {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, s.shelters[a].json...)
		dst = append(dst, `,"distance_m":`...)
		dst = strconv.AppendInt(dst, int64(math.Round(dist[i])), 10)
		dst = append(dst, '}')
	}
	dst = append(dst, "]}"...)
	return dst, nil
}
