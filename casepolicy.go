package onemap

// CaseScope is how much of the county's cases a role sees.
type CaseScope int

// Case scopes, from least to most.
const (
	CaseScopeNone CaseScope = iota // no case at all (the public follows its own report by its code only)
	CaseScopeGrid                  // the cases of the account's grid and the grids below it
	CaseScopeAll                   // every case of the county
)

// CaseWork says which of the cases it sees a role may act on.
type CaseWork int

// Case work, from least to most.
const (
	CaseWorkNone     CaseWork = iota // none: read only
	CaseWorkAssigned                 // those assigned to its grid or a grid below (a grid worker's tasks)
	CaseWorkHeld                     // those held by the centre of its grid or a grid below
	CaseWorkAll                      // all it sees
)

// CaseRule is one role's rule for cases.
type CaseRule struct {
	See    CaseScope
	Work   CaseWork
	Acts   []string   // the actions it may take on the cases it works
	Report CaseSource // the source of the cases it enters; "" enters none (the public reports through its own route)
}

// May reports whether the rule lets the role take the action.
func (r CaseRule) May(action string) bool {
	for _, a := range r.Acts {
		if a == action {
			return true
		}
	}
	return false
}

// CaseRule returns the role's rule for cases. A grid worker sees the cases
// of its grid and works (handles, reports back on) those assigned to it
// and the parts of joint handling worked in its grid; an
// operator sees its grid's cases and takes every step of those its grid's
// centres hold; a commander sees and works every case. A viewer reads its
// grid's cases; planners, admins and auditors see none: cases are the
// centres' work, not the grids' or the accounts'. The reporter's phone is
// shown to those who may act on the case (and each such read is audited),
// masked to the others.
func (p *Policy) CaseRule(r Role) CaseRule {
	switch r {
	case RoleGridWorker:
		return CaseRule{See: CaseScopeGrid, Work: CaseWorkAssigned, Acts: []string{ActHandle, ActFeedback, ActPartHandle, ActPartReport}, Report: SourceGridWorker}
	case RoleOperator:
		return CaseRule{See: CaseScopeGrid, Work: CaseWorkHeld, Acts: CaseActions(), Report: SourceOperator}
	case RoleCommander:
		return CaseRule{See: CaseScopeAll, Work: CaseWorkAll, Acts: CaseActions(), Report: SourceOperator}
	case RoleViewer:
		return CaseRule{See: CaseScopeGrid}
	}
	return CaseRule{}
}

// CaseRule returns what the caller may see and do of cases (Policy.CaseRule
// of its role).
// A commander bound to a region sees and works the cases of that region
// only (CaseScopeGrid).
func (v *View) CaseRule() CaseRule {
	rule := v.cases
	rule.See = v.regionSee(rule.See)
	return rule
}

// regionSee cuts a scope to the caller's grid for a caller bound to a
// region (Role.BoundToRegion): what sees every case, visit or assessment
// of the deployment sees its region's.
func (v *View) regionSee(see CaseScope) CaseScope {
	if v.grid != 0 && !v.scoped {
		return min(see, CaseScopeGrid)
	}
	return see
}
