package api

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/onemapgis/onemap"
)

// Joint handling (联动) on the wire: the parts a joint step organises, and
// the parts a case shows (onemap's casejoint.go for the rules).

// partBody is a part asked for by a joint step: the department, its task,
// optionally the grid it is worked in and its time limit (RFC 3339).
type partBody struct {
	Department string       `json:"department"`
	Task       string       `json:"task"`
	GridID     *json.Number `json:"grid_id"`
	Due        string       `json:"due"`
}

// partSpecs reads a joint step's parts.
func partSpecs(body []partBody) ([]onemap.CasePartSpec, error) {
	out := make([]onemap.CasePartSpec, 0, len(body))
	for i, b := range body {
		p := onemap.CasePartSpec{Department: strings.TrimSpace(b.Department), Task: strings.TrimSpace(b.Task)}
		field := func(f string) string { return "parts[" + strconv.Itoa(i) + "]." + f }
		if b.GridID != nil {
			n, err := b.GridID.Int64()
			if err != nil || n <= 0 {
				return nil, onemap.FieldErrorf(field("grid_id"), onemap.EINVALID, "part %d: grid_id %.40q: want a positive integer", i+1, b.GridID.String())
			}
			p.GridID = n
		}
		if b.Due != "" {
			t, err := time.Parse(time.RFC3339, b.Due)
			if err != nil {
				return nil, onemap.FieldErrorf(field("due"), onemap.EINVALID, "part %d: due %.40q: want a time (2026-12-05T18:00:00+08:00)", i+1, b.Due)
			}
			p.Due = t.UTC()
		}
		out = append(out, p)
	}
	return out, nil
}

// casePartJSON is a part of a case's joint handling as the staff see it,
// with the steps the caller may take on it now.
type casePartJSON struct {
	Part       int               `json:"part"`
	Seq        int               `json:"seq"` // the step that organised it
	Department string            `json:"department"`
	Task       string            `json:"task"`
	GridID     int64             `json:"grid_id,omitempty"`
	Due        *time.Time        `json:"due"`
	Status     onemap.PartStatus `json:"status"`
	Overdue    bool              `json:"overdue"`
	UpdatedAt  time.Time         `json:"updated_at"`
	ReportedAt *time.Time        `json:"reported_at"`
	Actions    []string          `json:"actions,omitempty"`
}

// partsOut returns k's parts as the caller sees them at now, each with the
// part steps the caller may take (partWork).
func (s *Server) partsOut(caller onemap.Caller, rule onemap.CaseRule, k *onemap.Case, work bool, now time.Time) []casePartJSON {
	if len(k.Parts) == 0 {
		return nil
	}
	out := make([]casePartJSON, 0, len(k.Parts))
	for _, p := range k.Parts {
		j := casePartJSON{Part: p.Part, Seq: p.Seq, Department: p.Department, Task: p.Task, GridID: p.GridID, Due: timeOrNil(p.Due),
			Status: p.Status, Overdue: p.Overdue(now), UpdatedAt: p.UpdatedAt, ReportedAt: timeOrNil(p.ReportedAt)}
		if k.Status == onemap.CaseHandling && p.Status != onemap.PartReported && s.partWork(caller, rule, k, p, work) {
			for _, a := range []string{onemap.ActPartHandle, onemap.ActPartReport} {
				if rule.May(a) {
					j.Actions = append(j.Actions, a)
				}
			}
		}
		out = append(out, j)
	}
	return out
}

// partWork says whether the caller works part p of case k: a role that
// works the cases assigned to its grid (a grid worker) works the parts
// worked in its grid, and only those; the others the parts of the cases
// they work (an operator records a part for its department).
func (s *Server) partWork(caller onemap.Caller, rule onemap.CaseRule, k *onemap.Case, p onemap.CasePart, work bool) bool {
	if rule.Work == onemap.CaseWorkAssigned {
		return p.GridID != 0 && (caller.GridID == 0 || s.gridUnder(p.GridID, caller.GridID))
	}
	return work
}
