package onemap

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Joint handling (联动): the centre that holds a case organises its
// handling across several departments, each with its own part: the
// department, its task, optionally the grid it works in and a time limit.
// Each part is handled and reported back on its own — by an operator
// recording it for the department, or by a grid worker of the part's grid —
// and the case goes on to feedback (and the holder's check) when the last
// part is reported back:
//
//	from                         step (what it needs)              to
//	accepted, assigned, handling joint (2–10 parts; no open part)  handling
//	handling                     part_handle (part, note)          handling
//	handling                     part_report (part, note)          handling; feedback once every part is reported back
//
// While a part is open the case is not reported back as a whole
// (feedback), escalated nor handed down. A check that fails sends the case
// back to handling, where the holder may organise another round of parts.
// Part steps are steps of the case: each takes the case's version one on,
// so two people reporting two parts at once never lose one.

// Joint handling's actions.
const (
	ActJoint      = "joint"       // 联动: the holder organises parts for several departments
	ActPartHandle = "part_handle" // a part's handling note (处置), for its department
	ActPartReport = "part_report" // a part reported back (反馈); the last one moves the case to feedback
)

// PartStatus is where a part of joint handling stands.
type PartStatus string

// Part statuses.
const (
	PartOpen     PartStatus = "open"     // organised, not yet worked
	PartHandling PartStatus = "handling" // worked, not yet reported back
	PartReported PartStatus = "reported" // reported back
)

// Limits of joint handling.
const (
	CaseMinParts = 2  // joint handling is across several departments
	CaseMaxParts = 10 // a round's parts at most
)

// CasePart is one department's part of a case's joint handling.
type CasePart struct {
	Part       int // 1, 2, … in the order organised (over every round)
	Seq        int // the step (the case's version) that organised it
	Department string
	Task       string
	GridID     int64     // the grid it is worked in (0: none named)
	Due        time.Time // its time limit (zero: none; the case's own apply)
	Status     PartStatus
	UpdatedAt  time.Time
	ReportedAt time.Time // zero until reported back
}

// Overdue reports whether a part not yet reported back is past its limit.
func (p CasePart) Overdue(now time.Time) bool {
	return p.Status != PartReported && !p.Due.IsZero() && now.After(p.Due)
}

// CasePartSpec is a part asked for by a joint step. The store fills
// GridLevel and checks that the grid lies at or below the holder's.
type CasePartSpec struct {
	Department string
	Task       string
	GridID     int64 // 0: none
	GridLevel  string
	Due        time.Time // zero: none
}

// OpenParts returns how many of the case's parts are not yet reported
// back.
func (c Case) OpenParts() int {
	n := 0
	for _, p := range c.Parts {
		if p.Status != PartReported {
			n++
		}
	}
	return n
}

// FindPart returns part n of the case.
func (c Case) FindPart(n int) (CasePart, bool) {
	for _, p := range c.Parts {
		if p.Part == n {
			return p, true
		}
	}
	return CasePart{}, false
}

// IsPartAction reports whether an action is taken on one part of a case.
func IsPartAction(action string) bool { return action == ActPartHandle || action == ActPartReport }

// jointTo checks a joint or part step against c and returns the status it
// leads to.
func jointTo(c Case, a CaseAction, at time.Time) (CaseStatus, error) {
	refused := func() error {
		return FieldErrorf("action", EINVALID, "a case that is %s cannot be given %q", c.Status, a.Action)
	}
	switch a.Action {
	case ActJoint:
		if c.Status != CaseAccepted && c.Status != CaseAssigned && c.Status != CaseHandling {
			return "", refused()
		}
		if n := c.OpenParts(); n > 0 {
			return "", FieldErrorf("action", EINVALID, "case %d has %d parts of joint handling still open: they are reported back before another round", c.ID, n)
		}
		if n := len(a.Parts); n < CaseMinParts || n > CaseMaxParts {
			return "", FieldErrorf("parts", EINVALID, "joint handling needs %d to %d parts, one per department (got %d)", CaseMinParts, CaseMaxParts, n)
		}
		if len(c.Parts)+len(a.Parts) > 100 {
			return "", FieldErrorf("parts", EINVALID, "case %d has had %d parts already: at most 100 in all", c.ID, len(c.Parts))
		}
		seen := map[string]bool{}
		for i, p := range a.Parts {
			field := func(f string) string { return "parts[" + strconv.Itoa(i) + "]." + f }
			dep := strings.TrimSpace(p.Department)
			if dep == "" || len([]rune(dep)) > CaseMaxName {
				return "", FieldErrorf(field("department"), EINVALID, "part %d: a department of 1 to %d characters is required", i+1, CaseMaxName)
			}
			if seen[dep] {
				return "", FieldErrorf(field("department"), EINVALID, "part %d: %s has a part already; give each department one part", i+1, dep)
			}
			seen[dep] = true
			if task := strings.TrimSpace(p.Task); task == "" || len([]rune(task)) > CaseMaxNote {
				return "", FieldErrorf(field("task"), EINVALID, "part %d: a task of 1 to %d characters is required", i+1, CaseMaxNote)
			}
			if p.GridLevel != "" && LevelRank(p.GridLevel) > LevelRank(c.Level) {
				return "", FieldErrorf(field("grid_id"), EINVALID, "part %d: a case held at the %s level has its parts worked at or below it, not in a %s", i+1, c.Level, p.GridLevel)
			}
			if !p.Due.IsZero() && !p.Due.After(at) {
				return "", FieldErrorf(field("due"), EINVALID, "part %d: its time limit %s has passed already", i+1, p.Due.Format(time.RFC3339))
			}
		}
		return CaseHandling, nil
	case ActPartHandle, ActPartReport:
		if c.Status != CaseHandling {
			return "", refused()
		}
		p, ok := c.FindPart(a.Part)
		if !ok {
			return "", FieldErrorf("part", EINVALID, "case %d has no part %d", c.ID, a.Part)
		}
		if p.Status == PartReported {
			return "", FieldErrorf("part", EINVALID, "part %d (%s) of case %d is reported back already", p.Part, p.Department, c.ID)
		}
		if strings.TrimSpace(a.Note) == "" {
			return "", FieldErrorf("note", EINVALID, "%s needs a note of what the department did", a.Action)
		}
		if a.Action == ActPartReport && c.OpenParts() == 1 {
			return CaseFeedback, nil // the last part: the case is reported back
		}
		return CaseHandling, nil
	}
	return "", FieldErrorf("action", EINVALID, "unknown action %q", a.Action)
}

// applyJoint records a joint or part step on next (a copy of the case) and
// its step.
func applyJoint(next *Case, step *CaseStep, a CaseAction, at time.Time) {
	next.Parts = slices.Clone(next.Parts)
	if next.RespondedAt.IsZero() {
		next.RespondedAt = at
	}
	switch a.Action {
	case ActJoint:
		n := len(next.Parts)
		for i, p := range a.Parts {
			next.Parts = append(next.Parts, CasePart{Part: n + i + 1, Seq: next.Version + 1, Department: strings.TrimSpace(p.Department),
				Task: strings.TrimSpace(p.Task), GridID: p.GridID, Due: p.Due, Status: PartOpen, UpdatedAt: at})
		}
	case ActPartHandle, ActPartReport:
		for i := range next.Parts {
			p := &next.Parts[i]
			if p.Part != a.Part {
				continue
			}
			p.Status, p.UpdatedAt = PartHandling, at
			if a.Action == ActPartReport {
				p.Status, p.ReportedAt = PartReported, at
			}
			step.Part, step.Department, step.GridID = p.Part, p.Department, p.GridID
		}
	}
}
