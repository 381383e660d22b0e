package api

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"

	"github.com/onemapgis/onemap"
)

// The audit trail holds what was done, by whom, to what; some records also
// hold the values of the features they changed. Every answer that returns
// records (the JSON list, the CSV export) passes each through viewAudit for
// the reader's role, so that the trail shows a reader no value the access
// policy keeps from that role elsewhere. Field by field:
//
//   - seq, at, actor, role, client, action, target: as written. They say who
//     did what to which record (target names a layer and a feature id, an
//     account, a path), never a person's data.
//   - edit (written by the database's trigger for every edited feature): op,
//     version, reason and the geometry digests (before_geom_md5,
//     after_geom_md5) as written; "changed" lists the names of the fields
//     the edit set or changed; the attributes before and after are kept
//     only for a role that may read the layer, and then as the policy
//     projects them for that role (a denied field dropped, a masked field
//     masked, a column that is no field of the layer dropped). A role that
//     may not read the layer (the auditor reads none) sees the changed
//     fields' names only. The values themselves stay in feature_history.
//   - household.read: the purpose code only (the details read are not in
//     the record). personal.burst: counts, times and household ids.
//   - grid.*: versions, ids, counts, file names and the planner's reason;
//     no attribute values.
//   - login, login.failed, logout, logout.all, denied, export, account: the
//     account's name, a reason, a path, a query, a role: no personal data.
//
// The record's hash covers what was written, not what a reader is shown:
// GET /api/audit/verify checks the stored records.

// auditFieldsChanged is the key under which a viewed edit record lists the
// names of the fields its edit changed.
const auditFieldsChanged = "changed"

// viewAudit returns the records as role may read them (see above); recs is
// not changed.
func (s *Server) viewAudit(role onemap.Role, recs []onemap.AuditRecord) []onemap.AuditRecord {
	out := make([]onemap.AuditRecord, len(recs))
	for i, r := range recs {
		if r.Action == onemap.AuditEdit {
			r.Detail = s.viewEdit(role, r.Target, r.Detail)
		}
		out[i] = r
	}
	return out
}

// viewEdit returns the detail of an edit record of target ("layer/id") as
// role may read it.
func (s *Server) viewEdit(role onemap.Role, target string, detail json.RawMessage) json.RawMessage {
	var d map[string]any
	if err := json.Unmarshal(detail, &d); err != nil || d == nil {
		// Not an object: nothing of a feature's attributes to show.
		return json.RawMessage(`{}`)
	}
	before, _ := d["before"].(map[string]any)
	after, _ := d["after"].(map[string]any)
	delete(d, "before")
	delete(d, "after")
	d[auditFieldsChanged] = changedFields(before, after)
	layerID, _, _ := strings.Cut(target, "/")
	l, err := s.catalog.Layer(layerID)
	if err == nil && s.mayReadEdited(role, &l, before, after) {
		if before != nil {
			d["before"] = s.policy.Project(role, &l, before)
		}
		if after != nil {
			d["after"] = s.policy.Project(role, &l, after)
		}
	}
	b, err := json.Marshal(d)
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return b
}

// mayReadEdited reports whether role may read the edited feature, before
// and after the edit, as the policy's layer rule says: the layer readable,
// and the feature's level one the rule keeps, if it keeps some. A role
// bound to a part of the county (a viewer) reads no attributes in the
// trail, since a feature's part may have changed since.
func (s *Server) mayReadEdited(role onemap.Role, l *onemap.Layer, before, after map[string]any) bool {
	rule := s.policy.Rule(role, l.ID)
	if rule.Access < onemap.LayerRead || role.BoundToGrid() {
		return false
	}
	if rule.Levels == nil {
		return true
	}
	for _, attrs := range []map[string]any{before, after} {
		if attrs == nil {
			continue
		}
		if lv, _ := attrs["level"].(string); !slices.Contains(rule.Levels, lv) {
			return false
		}
	}
	return true
}

// changedFields returns the names of the fields an edit set (an insert: the
// fields given a value), cleared (a delete: the fields that had one) or
// changed (an update), sorted.
func changedFields(before, after map[string]any) []string {
	names := []string{}
	seen := map[string]bool{}
	for _, m := range []map[string]any{before, after} {
		for k := range m {
			if seen[k] {
				continue
			}
			seen[k] = true
			b, a := before[k], after[k]
			if b == nil && a == nil {
				continue
			}
			if before != nil && after != nil && jsonEqual(b, a) {
				continue
			}
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}

// jsonEqual reports whether two decoded JSON values are the same.
func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
