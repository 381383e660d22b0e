package onemap

import "github.com/paulmach/orb"

// Feature is one feature of a layer. Geometry is WGS-84 lon/lat.
type Feature struct {
	ID         int64
	Layer      string
	Version    int
	Geometry   orb.Geometry
	Properties map[string]any
}

// FeatureFilter selects features of one layer.
type FeatureFilter struct {
	Bound   *orb.Bound // features whose bounding boxes meet it
	Levels  []string   // if set, only features whose level is listed
	AfterID int64      // keyset paging: only ids above it
	// Grids, if not nil, keeps only these grids, or the features that lie
	// in them (a viewer's part of the county).
	Grids []int64
	Limit int // at most this many; 0 means no limit
}

// Region is the area a database holds: a county, say.
type Region struct {
	Code  string
	Name  string
	Bound orb.Bound
}
