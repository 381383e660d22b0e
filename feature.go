package onemap

import (
	"strings"
	"time"

	"github.com/paulmach/orb"
)

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
	// Values keeps, per field (one of the layer's enumerated fields), only
	// the features whose value is listed.
	Values map[string][]string
	// DueBefore, if not zero, keeps only the features whose next assessment
	// is due before this day (next_assessment_due).
	DueBefore time.Time
	// DueFrom, if not zero, keeps only the features whose next assessment
	// is due on this day or later (not overdue as of it).
	DueFrom time.Time
}

// Region is the area a database holds: a county, say.
type Region struct {
	Code  string
	Name  string
	Bound orb.Bound
}

// GridCode returns the code of the region's own grid: the region's code as
// a 12-digit statistical division code (GB/T 2260's six digits, 532329,
// followed by zeros: 532329000000), which is what grids and sources are
// coded by. A code that is not six digits is returned as it is.
func (r Region) GridCode() string {
	if len(r.Code) == 6 && strings.Trim(r.Code, "0123456789") == "" {
		return r.Code + "000000"
	}
	return r.Code
}
