package onemap

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// Role is what a caller is allowed to be.
type Role string

// Roles.
const (
	RolePublic    Role = "public"    // anonymous
	RoleViewer    Role = "viewer"    // a grid's staff: its own grid and below
	RoleCommander Role = "commander" // emergency command, governance centres
	RolePlanner   Role = "planner"   // edits grids
	RoleAdmin     Role = "admin"     // accounts and configuration, no personal data
	RoleAuditor   Role = "auditor"   // the audit trail only
	// A grid worker (网格员) reports from the field and works the cases
	// assigned to its grid; an operator (综治中心 staff) takes cases in and
	// sees them through for its grid and the grids below (casepolicy.go).
	RoleGridWorker Role = "grid_worker"
	RoleOperator   Role = "operator"
)

// Roles returns every role.
func Roles() []Role {
	return []Role{RolePublic, RoleViewer, RoleCommander, RolePlanner, RoleAdmin, RoleAuditor, RoleGridWorker, RoleOperator}
}

// BoundToGrid reports whether an account of the role is bound to a grid and
// sees that grid and the grids below it.
func (r Role) BoundToGrid() bool {
	return r == RoleViewer || r == RoleGridWorker || r == RoleOperator
}

// BoundToRegion reports whether an account of the role may be bound to a
// region, a grid of the tree (a county, a prefecture): bound, it sees that
// grid and the grids below it, its cases and the features in it, as a role
// bound to a grid does; unbound, the whole deployment. Commanders are; the
// roles bound to a grid need one; planners, admins and auditors work on
// the whole deployment whatever grid their account names.
func (r Role) BoundToRegion() bool { return r == RoleCommander }

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles() {
		if string(r) == s {
			return r, nil
		}
	}
	return "", Errorf(EINVALID, "unknown role %q (want one of public, viewer, commander, planner, admin, auditor, grid_worker, operator)", s)
}

// LayerAccess is what a role may do with a layer as a whole.
type LayerAccess int

// Layer access, from least to most.
const (
	LayerNone   LayerAccess = iota // the layer does not exist for the role
	LayerCounts                    // aggregate counts only, no features
	LayerRead                      // features, with fields as FieldAccess says
	LayerEdit                      // read and write
)

// FieldAccess is what a role sees of one field.
type FieldAccess int

// Field access.
const (
	FieldDeny  FieldAccess = iota // absent
	FieldMask                     // present, masked (张*, 138****1234)
	FieldAllow                    // present as stored
)

// LayerRule is one role's rule for one layer.
type LayerRule struct {
	Access LayerAccess
	// Classes maps a field class to its access; a class not listed is denied.
	Classes map[FieldClass]FieldAccess
	// Levels, if set, keeps only features whose "level" is listed (the
	// public sees township and village grid outlines only).
	Levels []string
	// Images (of the cameras layer) lets the role see what the cameras
	// see: alarms' snapshots and live pictures (View.SeesCameraImages).
	Images bool
}

// Policy is the one access policy: role × layer × field → allow, mask or
// deny. Every output path (tiles, GeoJSON, search, exports, live events,
// TileJSON) asks it, through the View of the caller.
type Policy struct {
	rules map[Role]map[string]LayerRule
	views sync.Map // roleViewKey → *roleView, as resolved (view.go)
}

// DefaultPolicy returns the policy of DESIGN.md's data-class table.
func DefaultPolicy() *Policy {
	all := map[FieldClass]FieldAccess{ClassPublic: FieldAllow, ClassInternal: FieldAllow, ClassPersonal: FieldAllow, ClassSystem: FieldAllow}
	staff := map[FieldClass]FieldAccess{ClassPublic: FieldAllow, ClassInternal: FieldAllow, ClassPersonal: FieldMask, ClassSystem: FieldAllow}
	public := map[FieldClass]FieldAccess{ClassPublic: FieldAllow}
	none := LayerRule{Access: LayerNone}
	counts := LayerRule{Access: LayerCounts}
	// gridStaff is the rule of a grid's staff (viewers, grid workers,
	// operators): every layer but cameras, households' staff fields.
	gridStaff := func() map[string]LayerRule {
		return map[string]LayerRule{
			LayerStations:   {Access: LayerRead, Classes: all},
			LayerGrids:      {Access: LayerRead, Classes: all},
			LayerRiskPoints: {Access: LayerRead, Classes: all},
			LayerHouseholds: {Access: LayerRead, Classes: staff},
			LayerCameras:    none,
			// The emergency picture (hazard.go).
			LayerHazardZones: {Access: LayerRead, Classes: all},
			LayerShelters:    {Access: LayerRead, Classes: all},
		}
	}
	// An operator (综治中心) reads as a grid's staff do, and edits the
	// risk points, the households and the attributes of the cameras of its
	// grid and the grids below it (featureedit); it sees those cameras, but
	// not what they see (no Images: it works their alarms, it is not one
	// of the video platform's viewers).
	operator := gridStaff()
	operator[LayerRiskPoints] = LayerRule{Access: LayerEdit, Classes: all}
	operator[LayerHouseholds] = LayerRule{Access: LayerEdit, Classes: staff}
	operator[LayerCameras] = LayerRule{Access: LayerEdit, Classes: all}
	return &Policy{rules: map[Role]map[string]LayerRule{
		RolePublic: {
			LayerStations:   {Access: LayerRead, Classes: public},
			LayerGrids:      {Access: LayerRead, Classes: public, Levels: []string{"township", "village"}},
			LayerRiskPoints: none, LayerHouseholds: none, LayerCameras: none,
			LayerHazardZones: none, LayerShelters: none,
		},
		RoleViewer: gridStaff(),
		// Commanders edit the points of every layer but the grids
		// (featureedit: risk points, households, camera attributes,
		// stations), the whole county.
		RoleCommander: {
			LayerStations:   {Access: LayerEdit, Classes: all},
			LayerGrids:      {Access: LayerRead, Classes: all},
			LayerRiskPoints: {Access: LayerEdit, Classes: all},
			LayerHouseholds: {Access: LayerEdit, Classes: all},
			LayerCameras:    {Access: LayerEdit, Classes: all, Images: true},
			// The emergency picture (hazard.go).
			LayerHazardZones: {Access: LayerRead, Classes: all},
			LayerShelters:    {Access: LayerRead, Classes: all},
		},
		// Planners edit the grids and the service stations.
		RolePlanner: {
			LayerStations:   {Access: LayerEdit, Classes: all},
			LayerGrids:      {Access: LayerEdit, Classes: all},
			LayerRiskPoints: counts, LayerHouseholds: counts, LayerCameras: none,
			LayerHazardZones: counts, LayerShelters: {Access: LayerRead, Classes: all},
		},
		RoleAdmin: {
			LayerStations:   {Access: LayerRead, Classes: all},
			LayerGrids:      {Access: LayerRead, Classes: staff},
			LayerRiskPoints: none, LayerHouseholds: none, LayerCameras: none,
			LayerHazardZones: none, LayerShelters: {Access: LayerRead, Classes: all},
		},
		RoleAuditor: {},
		// Grid workers and operators read the layers as a grid's staff do;
		// what they do with cases is CaseRule's.
		RoleGridWorker: gridStaff(),
		RoleOperator:   operator,
	}}
}

// Rule returns the role's rule for the layer; unknown roles and layers get
// LayerNone.
func (p *Policy) Rule(r Role, layerID string) LayerRule {
	return p.rules[r][layerID]
}

// CanRead reports whether the role may read the layer's features.
func (p *Policy) CanRead(r Role, layerID string) bool {
	return p.Rule(r, layerID).Access >= LayerRead
}

// Field returns the role's access to one field of a layer.
func (p *Policy) Field(r Role, l *Layer, name string) FieldAccess {
	rule := p.Rule(r, l.ID)
	if rule.Access < LayerRead {
		return FieldDeny
	}
	f, ok := l.Field(name)
	if !ok {
		return FieldDeny
	}
	return rule.Classes[f.Class]
}

// Fields returns the fields of l the role may see, allowed or masked.
func (p *Policy) Fields(r Role, l *Layer) []Field {
	var out []Field
	for _, f := range l.Fields {
		if p.Field(r, l, f.Name) != FieldDeny {
			out = append(out, f)
		}
	}
	return out
}

// Readable returns the layers of c whose features the role may read.
func (p *Policy) Readable(r Role, c *Catalog) []Layer {
	var out []Layer
	for _, l := range c.Layers() {
		if p.CanRead(r, l.ID) {
			out = append(out, l)
		}
	}
	return out
}

// Project returns the properties the role may see: denied fields dropped,
// masked fields masked. Properties that are no field of the layer are
// dropped too, so that nothing unknown leaks.
func (p *Policy) Project(r Role, l *Layer, props map[string]any) map[string]any {
	out := make(map[string]any, len(props))
	for k, v := range props {
		switch p.Field(r, l, k) {
		case FieldAllow:
			out[k] = v
		case FieldMask:
			out[k] = maskValue(v)
		}
	}
	return out
}

// Mask hides most of a personal value: a phone number keeps its first three
// and last four digits (138****1234), a name its first character (张*).
func Mask(s string) string {
	digits := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	n := utf8.RuneCountInString(s)
	if digits >= 7 && digits*2 > n {
		rs := []rune(s)
		return string(rs[:3]) + strings.Repeat("*", n-7) + string(rs[n-4:])
	}
	if n == 0 {
		return ""
	}
	rs := []rune(s)
	if n == 1 {
		return "*"
	}
	return string(rs[:1]) + strings.Repeat("*", n-1)
}
