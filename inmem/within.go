package inmem

import (
	"cmp"
	"slices"

	"github.com/onemapgis/onemap"
	kernel "github.com/onemapgis/onemap/internal/planar"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// Intersecting returns the features of the layer that meet the area (a
// Polygon, MultiPolygon or Bound; on the boundary counts as in) and that
// keep accepts, ordered by id: ST_Intersects, in lon/lat as PostGIS's
// geometry type computes it.
func (s *Snapshot) Intersecting(layer string, area orb.Geometry, keep func(*onemap.Record) bool) []*onemap.Record {
	if b, ok := area.(orb.Bound); ok {
		area = b.ToPolygon()
	}
	var mp orb.MultiPolygon
	switch a := area.(type) {
	case orb.Polygon:
		mp = orb.MultiPolygon{a}
	case orb.MultiPolygon:
		mp = a
	default:
		return nil
	}
	var out []*onemap.Record
	s.Search(layer, mp.Bound(), func(r *onemap.Record) bool {
		if keep != nil && !keep(r) {
			return true
		}
		if intersects(r.Geometry, mp) {
			out = append(out, r)
		}
		return true
	})
	slices.SortFunc(out, func(a, b *onemap.Record) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// intersects reports whether g (a point or polygons) meets the polygons mp.
func intersects(g orb.Geometry, mp orb.MultiPolygon) bool {
	switch g := g.(type) {
	case orb.Point:
		return planar.MultiPolygonContains(mp, g)
	case orb.Polygon:
		return polygonsMeet(orb.MultiPolygon{g}, mp)
	case orb.MultiPolygon:
		return polygonsMeet(g, mp)
	}
	return false
}

// polygonsMeet reports whether two sets of polygons share a point: a
// vertex of one lies in the other, or two of their edges cross.
func polygonsMeet(a, b orb.MultiPolygon) bool {
	if !a.Bound().Intersects(b.Bound()) {
		return false
	}
	for _, p := range a {
		if len(p) > 0 && len(p[0]) > 0 && planar.MultiPolygonContains(b, p[0][0]) {
			return true
		}
	}
	for _, p := range b {
		if len(p) > 0 && len(p[0]) > 0 && planar.MultiPolygonContains(a, p[0][0]) {
			return true
		}
	}
	// No polygon's first vertex is in the other set, so if they meet,
	// edges cross.
	bb := b.Bound()
	for _, pa := range a {
		for _, ra := range pa {
			for i := 1; i < len(ra); i++ {
				sa := orb.Bound{Min: ra[i-1], Max: ra[i-1]}.Extend(ra[i])
				if !sa.Intersects(bb) {
					continue
				}
				for _, pb := range b {
					for _, rb := range pb {
						for j := 1; j < len(rb); j++ {
							if kernel.SegmentsMeet(ra[i-1], ra[i], rb[j-1], rb[j]) {
								return true
							}
						}
					}
				}
			}
		}
	}
	return false
}
