package api

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// Open cases on the map (issue 16): the replica holds the open cases
// (inmem, fed by the change feed), which the tiles of /tiles/cases, the
// live events, /api/around and /api/search read without the database; the
// closed history is the database's (the tracking-code search falls back to
// it, the statistics and the CSV export read it).

// caseSees returns whether the caller sees a case: every case for a role
// that sees all (and the demo's anonymous viewer, bound to no grid), the
// cases whose place, holder or assigned grid lies in the caller's part of
// the county for a role bound to a grid (as caseAccess decides for one
// case), none for a role without cases.
func (s *Server) caseSees(caller onemap.Caller, rule onemap.CaseRule) func(*onemap.Case) bool {
	switch {
	case rule.See == onemap.CaseScopeNone:
		return func(*onemap.Case) bool { return false }
	case caseSeesAll(caller, rule):
		return func(*onemap.Case) bool { return true }
	}
	part := s.snapshotOf(caller.GridID) // the grids of the caller's part, kept per snapshot
	in := func(id int64) bool {
		if id == 0 {
			return false
		}
		_, ok := part.Get(onemap.LayerGrids, id)
		return ok
	}
	return func(k *onemap.Case) bool { return in(k.GridID) || in(k.HolderGridID) || in(k.AssignedGridID) }
}

// caseSeesAll reports whether a caller who may see cases under rule sees
// every open case: every case, or no part to keep to.
func caseSeesAll(caller onemap.Caller, rule onemap.CaseRule) bool {
	return rule.See == onemap.CaseScopeAll || caller.GridID == 0
}

// caseSource is the open cases a caller sees as records of
// onemap.CaseMapLayer, flagged at one moment: what the tile encoder reads.
type caseSource struct {
	snap *inmem.Snapshot
	keep func(*onemap.Case) bool
	now  time.Time
}

// Search implements tiles.Source.
func (src caseSource) Search(layer string, b orb.Bound, fn func(*onemap.Record) bool) {
	if layer != onemap.LayerCases {
		return
	}
	src.snap.SearchCases(b, func(k *onemap.Case) bool {
		if !src.keep(k) {
			return true
		}
		r, err := onemap.CaseRecord(k, src.now)
		if err != nil {
			return true // never: a case's values fit a record
		}
		return fn(r)
	})
}

// handleCaseTile answers /tiles/cases/{z}/{x}/{y}.mvt: the open cases the
// caller sees, as the vector-tile layer "cases" (onemap.CaseMapLayer:
// status, category, level, tracking code, overdue, due soon, escalated,
// grid), clustered below zoom 14 like the other point layers. The public
// gets 401, a role without cases 403. The tiles are cut from the replica
// on every request and never cached: their overdue and due-soon flags are
// the moment's (the case clock's), and a case's step shows as soon as the
// replica has it.
func (s *Server) handleCaseTile(c *gin.Context, t maptile.Tile) {
	rule, err := s.caseRule(c)
	if err == nil && s.cases == nil {
		err = onemap.Errorf(onemap.EUNAVAILABLE, "cases need the database")
	}
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	src := caseSource{snap: s.replica.Snapshot(), keep: s.caseSees(callerOf(c), rule), now: s.cases.Now()}
	mvt, err := tiles.Encode(src, t, []onemap.TileLayer{onemap.CaseTileLayer()})
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	if len(mvt) == 0 {
		c.Status(http.StatusNoContent)
		return
	}
	c.Data(http.StatusOK, mvtType, mvt)
}

// caseBrief is an open case as the map's lists, events and answers show
// it: no description, no reporter, no phone.
type caseBrief struct {
	ID             int64             `json:"id"`
	TrackingCode   string            `json:"tracking_code"`
	Source         onemap.CaseSource `json:"source"`
	Category       string            `json:"category"`
	Status         onemap.CaseStatus `json:"status"`
	Open           bool              `json:"open"`
	Level          string            `json:"level"`
	GridID         int64             `json:"grid_id"`
	HolderGridID   int64             `json:"holder_grid_id"`
	AssignedGridID int64             `json:"assigned_grid_id,omitempty"`
	Overdue        bool              `json:"overdue"`
	DueSoon        bool              `json:"due_soon"`
	Escalations    int               `json:"escalations"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
	Position       [2]float64        `json:"position"`
	Distance       *float64          `json:"distance_m,omitempty"`
}

func briefOf(k *onemap.Case, now time.Time) caseBrief {
	return caseBrief{ID: k.ID, TrackingCode: onemap.FormatTrackingCode(k.TrackingCode), Source: k.Source, Category: k.Category,
		Status: k.Status, Open: k.Status.Open(), Level: k.Level, GridID: k.GridID, HolderGridID: k.HolderGridID,
		AssignedGridID: k.AssignedGridID, Overdue: k.Overdue(now), DueSoon: k.DueSoon(now), Escalations: k.Escalations,
		CreatedAt: k.CreatedAt, UpdatedAt: k.UpdatedAt, Position: [2]float64{k.Point[0], k.Point[1]}}
}

// caseProps are a case's properties in a live event.
func caseProps(b caseBrief, version int) map[string]any {
	return map[string]any{"tracking_code": b.TrackingCode, "source": b.Source, "category": b.Category, "status": b.Status,
		"open": b.Open, "level": b.Level, "grid_id": b.GridID, "holder_grid_id": b.HolderGridID,
		"assigned_grid_id": b.AssignedGridID, "overdue": b.Overdue, "due_soon": b.DueSoon, "escalations": b.Escalations,
		"created_at": b.CreatedAt, "updated_at": b.UpdatedAt, "version": version}
}

// caseEvent returns the live event of a change of a case for the view, or
// false when the caller does not see the case (a role without cases, a
// case outside its part of the county). A closed or refused case's event
// says "open": false: the map drops it.
func (s *Server) caseEvent(v *onemap.View, ch onemap.Change) (changeEventJSON, bool) {
	k := ch.Case
	if k == nil || s.cases == nil || !s.caseSees(v.Caller(), v.CaseRule())(k) {
		return changeEventJSON{}, false
	}
	b := briefOf(k, s.cases.Now())
	e := changeEventJSON{Seq: ch.Seq, Layer: onemap.LayerCases, ID: k.ID, Op: ch.Op, Version: k.Version,
		Properties: caseProps(b, k.Version)}
	if ch.NewBound != nil {
		e.Bbox = bboxJSON(ch.NewBound)
	}
	return e, true
}

// searchCase finds the case a tracking code names (typed with or without
// its dashes, any case), if the caller may see it: the open ones in the
// replica, the others in the database. Text that is no tracking code, or
// a code of a case the caller does not see, finds nothing.
func (s *Server) searchCase(c *gin.Context, text string) []searchResultJSON {
	code, err := onemap.ParseTrackingCode(text)
	rule := s.view(c).CaseRule()
	if err != nil || rule.See == onemap.CaseScopeNone || s.cases == nil {
		return nil
	}
	k, ok := s.replica.Snapshot().OpenCaseByCode(code)
	if !ok {
		if k, err = s.cases.FindCaseByTracking(c.Request.Context(), code); err != nil {
			return nil // not found (or the database is away): no result
		}
	}
	if !s.caseSees(callerOf(c), rule)(k) {
		return nil
	}
	return []searchResultJSON{{Layer: onemap.LayerCases, ID: k.ID, Name: k.Category, Code: onemap.FormatTrackingCode(k.TrackingCode),
		Kind: string(k.Status), Level: k.Level, Field: "tracking_code", Center: k.Point,
		BBox: [4]float64{k.Point[0], k.Point[1], k.Point[0], k.Point[1]}}}
}

// Limits of a CSV export of cases.
const (
	caseExportDefault = 5000
	caseExportMax     = 20000
)

// handleCasesExport answers GET /api/cases/export: the cases of the list
// (GET /api/cases, the same filters; limit up to 20,000, 5,000 by
// default) as CSV, newest first, for a spreadsheet. The reporter's phone
// is masked for every caller (reading one is a per-case, audited step of
// its handler: GET /api/cases/{id}?purpose=); the export itself enters the
// audit trail (case.export) with its query and row count.
func (s *Server) handleCasesExport(c *gin.Context) {
	rule, err := s.caseRule(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	q := c.Request.URL.Query()
	if err := checkQuery(q, "status", "category", "level", "grid", "overdue", "from", "to", "limit"); err != nil {
		writeError(c, s.log, err)
		return
	}
	now := s.cases.Now()
	limit, err := parseInt("limit", q.Get("limit"), caseExportDefault, 1, caseExportMax)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	q.Del("limit")
	f, err := caseFilter(q.Get, now)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	caller := callerOf(c)
	if rule.See == onemap.CaseScopeGrid {
		f.Scope = caller.GridID
	}
	var list []*onemap.Case
	for want := int(limit); len(list) < want; {
		f.Limit = min(want-len(list), onemap.CaseListMax)
		page, err := s.cases.ListCases(c.Request.Context(), f)
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		list = append(list, page...)
		if len(page) < f.Limit {
			break
		}
		f.Before = page[len(page)-1].ID
	}
	s.auditLog(c.Request.Context(), onemap.AuditCaseExport, "cases", map[string]any{"rows": len(list), "query": c.Request.URL.RawQuery})
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="onemap-cases.csv"`)
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	_, _ = c.Writer.WriteString("\ufeff") // Excel reads UTF-8 Chinese with a BOM
	w := csv.NewWriter(c.Writer)
	_ = w.Write([]string{"id", "tracking_code", "source", "category", "status", "level", "grid_id", "holder_grid_id",
		"assigned_grid_id", "assignee", "department", "reported_at", "next_due", "overdue", "accepted_at", "closed_at",
		"escalations", "lon", "lat", "reporter_phone", "description"})
	at := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	id := func(n int64) string {
		if n == 0 {
			return ""
		}
		return strconv.FormatInt(n, 10)
	}
	for _, k := range list {
		_ = w.Write([]string{strconv.FormatInt(k.ID, 10), onemap.FormatTrackingCode(k.TrackingCode), string(k.Source),
			csvSafe(k.Category), string(k.Status), k.Level, id(k.GridID), id(k.HolderGridID), id(k.AssignedGridID),
			csvSafe(k.Assignee), csvSafe(k.Department), at(k.CreatedAt), at(k.NextDue()), strconv.FormatBool(k.Overdue(now)),
			at(k.AcceptedAt), at(k.ClosedAt), strconv.Itoa(k.Escalations),
			strconv.FormatFloat(k.Point[0], 'f', 6, 64), strconv.FormatFloat(k.Point[1], 'f', 6, 64),
			onemap.Mask(k.ReporterPhone), csvSafe(k.Description)})
	}
	w.Flush()
}
