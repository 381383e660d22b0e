package onemap

import "slices"

// View is the access policy as one caller sees it, resolved once where the
// caller becomes known (at the start of a request) and asked by every
// output path after: the layers the caller may read, in the catalogue's
// order; per layer what it may do, which fields it sees and which of those
// masked, and the levels its level filter keeps; whether it sees personal
// details as stored; and its part of the county.
//
// A View is read only and safe for concurrent use. What depends on the
// role alone is resolved once per role and catalogue and shared by every
// caller of the role (Policy.View); what the caller adds is its part of the
// county.
type View struct {
	*roleView
	caller Caller
	grid   int64
}

// roleView is what one role sees of one catalogue.
type roleView struct {
	role     Role
	scoped   bool
	readable []Layer              // layers whose features the role may read, catalogue order
	layers   map[string]layerView // every layer of the catalogue, by ID
	cases    CaseRule             // what the role may see and do of cases
}

// layerView is what one role sees of one layer.
type layerView struct {
	rule   LayerRule
	fields []Field                // seen, allowed or masked, in the layer's order
	access map[string]FieldAccess // of the fields seen; a field not here is denied
}

// View returns the policy as the caller sees the layers of c. The catalogue
// and the policy must not change after the first call: what each role sees
// of them is kept.
func (p *Policy) View(c *Catalog, caller Caller) *View {
	v := &View{roleView: p.roleView(c, caller.Role), caller: caller}
	if v.scoped || caller.Role.BoundToRegion() {
		v.grid = caller.GridID
	}
	return v
}

type roleViewKey struct {
	catalog *Catalog
	role    Role
}

// roleView returns what role sees of c, resolved on first use. Roles the
// policy does not know are resolved each time (they see nothing), so that
// the kept views stay as few as the roles.
func (p *Policy) roleView(c *Catalog, r Role) *roleView {
	k := roleViewKey{c, r}
	if got, ok := p.views.Load(k); ok {
		return got.(*roleView)
	}
	rv := &roleView{role: r, scoped: r.BoundToGrid(), layers: map[string]layerView{}, cases: p.CaseRule(r)}
	for _, l := range c.Layers() {
		lv := layerView{rule: p.Rule(r, l.ID), access: map[string]FieldAccess{}}
		for _, f := range p.Fields(r, &l) {
			lv.fields = append(lv.fields, f)
			lv.access[f.Name] = p.Field(r, &l, f.Name)
		}
		rv.layers[l.ID] = lv
		if lv.rule.Access >= LayerRead {
			rv.readable = append(rv.readable, l)
		}
	}
	if _, known := p.rules[r]; known {
		got, _ := p.views.LoadOrStore(k, rv)
		return got.(*roleView)
	}
	return rv
}

// Caller returns whom the view is for.
func (v *View) Caller() Caller { return v.caller }

// Role returns the caller's role.
func (v *View) Role() Role { return v.role }

// Scoped reports whether the caller's role is one bound to a part of the
// county (a viewer), whether or not it has a grid: such a role reads no
// attributes in the audit trail, and its live events are cut to its part.
//
// A commander bound to a region (a county or prefecture grid, RegionRoles)
// is scoped like a viewer: it sees that region's counties and nothing of
// the others.
func (v *View) Scoped() bool { return v.scoped || v.grid != 0 }

// Grid returns the grid whose part of the county the caller sees: that
// grid, the grids below it, and of the other layers the features that lie
// in those. 0: the whole county (every role but a viewer, and a viewer
// without a grid, the demo's anonymous viewer), or in a deployment of many
// counties the whole deployment; a commander bound to a region sees that
// region (Role.BoundToRegion).
func (v *View) Grid() int64 { return v.grid }

// Readable returns the layers whose features the caller may read, in the
// catalogue's order.
func (v *View) Readable() []Layer { return slices.Clone(v.readable) }

// Rule returns the caller's rule for the layer; a layer the catalogue does
// not have gets LayerNone.
func (v *View) Rule(layerID string) LayerRule { return v.layers[layerID].rule }

// Access returns what the caller may do with the layer as a whole.
func (v *View) Access(layerID string) LayerAccess { return v.layers[layerID].rule.Access }

// CanRead reports whether the caller may read the layer's features.
func (v *View) CanRead(layerID string) bool { return v.Access(layerID) >= LayerRead }

// CanCount reports whether the caller may count the layer's features, or
// more.
func (v *View) CanCount(layerID string) bool { return v.Access(layerID) >= LayerCounts }

// CanEdit reports whether the caller may write the layer's features.
func (v *View) CanEdit(layerID string) bool { return v.Access(layerID) >= LayerEdit }

// Levels returns the levels the caller's level filter keeps of the layer's
// features (the "level" field); nil keeps all.
func (v *View) Levels(layerID string) []string { return v.layers[layerID].rule.Levels }

// Field returns the caller's access to one field of a layer: FieldDeny for
// a layer it may not read and a field the layer does not have.
func (v *View) Field(layerID, name string) FieldAccess { return v.layers[layerID].access[name] }

// Fields returns the fields of the layer the caller sees, allowed or
// masked, in the layer's order.
func (v *View) Fields(layerID string) []Field { return slices.Clone(v.layers[layerID].fields) }

// PersonalDetails reports whether the caller sees personal details as
// stored: the households' personal fields unmasked, and so the details
// behind them.
func (v *View) PersonalDetails() bool {
	lv, ok := v.layers[LayerHouseholds]
	return ok && lv.rule.Access >= LayerRead && lv.rule.Classes[ClassPersonal] == FieldAllow
}

// Project returns the properties of a feature of the layer as the caller
// may see them: denied fields dropped, masked fields masked (Mask; a masked
// value that is no string becomes "***"). Properties that are no field of
// the layer are dropped too, so that nothing unknown leaks.
func (v *View) Project(layerID string, props map[string]any) map[string]any {
	access := v.layers[layerID].access
	out := make(map[string]any, len(props))
	for k, val := range props {
		switch access[k] {
		case FieldAllow:
			out[k] = val
		case FieldMask:
			out[k] = maskValue(val)
		}
	}
	return out
}

// maskValue masks one value: a string by Mask, nil as nil, any other value
// as "***".
func maskValue(val any) any {
	if s, ok := val.(string); ok {
		return Mask(s)
	}
	if val != nil {
		return "***"
	}
	return nil
}
