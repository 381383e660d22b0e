package onemap

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// The grid editor's vocabulary: what package postgis reads and writes for
// it and package api serves. Every write is one transaction of the store
// that locks the rows it changes, refuses a write based on another version
// than the stored one, and keeps the grids' rules (no gap, overlap or
// escape from the parent).

// Grid is a grid as the editor reads it: the feature and its area.
type Grid struct {
	*Feature
	AreaM2 float64 // on the WGS-84 spheroid
}

// GridClip says what a written geometry is cut to.
type GridClip struct {
	Parent   bool // cut to the parent
	Siblings bool // cut the siblings out
}

// GridChange is an edit of a grid: the fields to set (a nil value clears
// a field; a field not named keeps its value) and, if not nil, the new
// geometry (a Polygon or MultiPolygon, WGS-84).
type GridChange struct {
	Properties map[string]any
	Geometry   orb.Geometry
	Clip       GridClip
	// Masked names the fields the writer sees masked (Policy.Field's
	// FieldMask). An update keeps the stored value of such a field where
	// the value sent is the Mask of it (a form sent back as it was shown),
	// comparing in its own transaction, so that an edit never overwrites
	// 13812341234 with 138****1234.
	Masked []string
}

// GridProblem is one broken rule: its kind (empty, not_polygon, invalid,
// outside_parent, overlap, child_outside, child_straddles), the grid it
// concerns beside the one written, the area in m², where it is as GeoJSON
// (the offending area, or the point where a boundary breaks) and what it
// means.
type GridProblem struct {
	Kind     string
	With     int64
	AreaM2   float64
	Geometry json.RawMessage
	Message  string
}

// GridProblemsError is the cause of an EINVALID error of a grid write that
// would break the rules.
type GridProblemsError struct {
	Problems []GridProblem
}

// Error implements error.
func (e *GridProblemsError) Error() string {
	var msgs []string
	for _, p := range e.Problems {
		msgs = append(msgs, p.Message)
	}
	return "grid problems: " + strings.Join(msgs, "; ")
}

// GridAudit is the record a grid write appends to the audit trail in its
// own transaction, so that no edit commits without its record and no record
// stays without its edit: the action (AuditGridUpdate, …) and what
// the caller knows of the edit. The write adds the target (grids/{id}, or
// grids for an import) and what only it knows: the new version ("version",
// of a create, an update, a restore), a split's pieces ("pieces"), an
// import's count ("count"). An empty Action appends no record (a command
// line's or a test's write); an edit that changes nothing appends none.
type GridAudit struct {
	Action string
	Detail map[string]any
}

// GridLimits are the limits the database holds every geometry to, for the
// editor to refuse a geometry past them before any work: the region's
// max_vertices (positions of one geometry, as ST_NPoints counts them) and
// envelope (every geometry lies in it), and the extent of the county grids
// (the envelope while there is none).
type GridLimits struct {
	MaxVertices int
	Envelope    orb.Bound
	Extent      orb.Bound
}

// GridCheck is the answer of a dry run: the geometry as it would be saved
// (snapped and clipped), its area and its problems.
type GridCheck struct {
	Geometry orb.Geometry
	AreaM2   float64
	Problems []GridProblem
}

// GridVersion is one version of a grid from its history.
type GridVersion struct {
	Version   int
	Op        string // insert, update or delete
	ChangedAt time.Time
	ChangedBy string
	// Reason is what the editor typed as the reason; "" when nothing.
	Reason string
	// ReasonCode is the kind of edit that wrote the version: one of
	// ReasonCreate … ReasonSeed.
	ReasonCode string
	// RestoredVersion is the version a ReasonRestore brought back.
	RestoredVersion int
	// ImportFile is the name of the file of a ReasonImport.
	ImportFile string
	AreaM2     float64
	Properties map[string]any
	Geometry   orb.Geometry // only from GridVersionAt
}

// The kinds of edit a grid version records (GridVersion.ReasonCode), in
// place of a reason in words: the client says them in its language. A
// version written otherwise (a command line, SQL) has the code of its
// operation: create, update or delete.
const (
	ReasonCreate  = "create"
	ReasonUpdate  = "update"
	ReasonDelete  = "delete"
	ReasonSplit   = "split"
	ReasonMerge   = "merge"
	ReasonRestore = "restore" // GridVersion.RestoredVersion says which
	ReasonImport  = "import"  // GridVersion.ImportFile says from what
	ReasonSeed    = "seed"    // the demo county's seed
)

// GridCoveragePiece is a gap, an overlap or a part outside the parent found by
// a coverage check.
type GridCoveragePiece struct {
	Grids    []int64
	AreaM2   float64
	Geometry json.RawMessage
}

// GridCoverage is how a grid's children cover it.
type GridCoverage struct {
	Parent         int64
	AreaM2         float64
	Children       int
	ChildrenAreaM2 float64
	ToleranceM2    float64
	Gaps           []GridCoveragePiece
	Overlaps       []GridCoveragePiece
	Outside        []GridCoveragePiece
}

// GridPiece names a grid that a split creates; empty fields are filled in
// (the name with a number, the next free code under the parent).
type GridPiece struct {
	Name string
	Code string
}

// GridImport is one grid of an import file: its fields (as Layer.Normalize
// takes them; a missing level is taken from the parent's), its geometry,
// and the code of its parent when the file names the parent by code (a grid
// already stored or one earlier in the file) rather than by parent_id.
type GridImport struct {
	Where      string // "feature 3 (line 40)"
	Feature    int    // the feature's 1-based number in the file; 0: none
	Line       int    // the line the feature starts on; 0: none
	Geometry   orb.Geometry
	Properties map[string]any
	ParentCode string
}
