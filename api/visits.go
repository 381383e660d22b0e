package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/crs"
	"github.com/paulmach/orb"
)

// visitStore is what the visit handlers ask of the database
// (postgis.Visits), and the clock visits are checked by.
type visitStore interface {
	Now() time.Time
	CreateVisit(ctx context.Context, v onemap.Visit) (*onemap.Visit, error)
	ListVisits(ctx context.Context, f onemap.VisitFilter) ([]*onemap.Visit, error)
}

// addVisitRoutes lists the routes of the grid workers' walks (走访).
func (s *Server) addVisitRoutes(r *gin.Engine) {
	g := r.Group("/api/visits", s.needVisits)
	g.POST("", s.idempotent, s.handleVisitCreate)
	g.GET("", s.handleVisitsList)
}

func (s *Server) needVisits(c *gin.Context) {
	if s.visits == nil {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAVAILABLE, "visits need the database")) // aborts the chain
	}
}

// visitBody is a visit as a phone sends it. The position is
// longitude/latitude in crs (WGS-84 unless it says GCJ-02, BD-09 or
// CGCS2000); without one, the subject's position. At is when the visit was
// made (RFC 3339; default now). ClientKey is the phone's key of the visit
// (default the request's Idempotency-Key).
type visitBody struct {
	At          string       `json:"at"`
	Lon         *float64     `json:"lon"`
	Lat         *float64     `json:"lat"`
	CRS         string       `json:"crs"`
	SubjectKind string       `json:"subject_kind"`
	SubjectID   *json.Number `json:"subject_id"`
	Note        string       `json:"note"`
	ClientKey   string       `json:"client_key"`
}

// visitJSON is a visit as the staff see it. Positions are WGS-84 [lon, lat].
type visitJSON struct {
	ID          int64      `json:"id"`
	GridID      int64      `json:"grid_id"`
	Account     string     `json:"account"`
	At          time.Time  `json:"at"`
	RecordedAt  time.Time  `json:"recorded_at"`
	Position    [2]float64 `json:"position"`
	SubjectKind string     `json:"subject_kind,omitempty"`
	SubjectID   int64      `json:"subject_id,omitempty"`
	Note        string     `json:"note"`
	ClientKey   string     `json:"client_key,omitempty"`
}

func visitOut(v *onemap.Visit) visitJSON {
	return visitJSON{ID: v.ID, GridID: v.GridID, Account: v.Account, At: v.At, RecordedAt: v.RecordedAt,
		Position: [2]float64{v.Point[0], v.Point[1]}, SubjectKind: v.Subject.Kind, SubjectID: v.Subject.ID,
		Note: v.Note, ClientKey: v.ClientKey}
}

// visitRule returns the caller's rule for visits, or the refusal of a role
// that has none (401 for the anonymous, 403 for an account).
func (s *Server) visitRule(c *gin.Context) (onemap.VisitRule, error) {
	caller := callerOf(c)
	rule := s.view(c).VisitRule()
	if rule.See == onemap.CaseScopeNone {
		if caller.Name == "" {
			return rule, onemap.Errorf(onemap.EUNAUTHORIZED, "sign in first")
		}
		return rule, onemap.Errorf(onemap.EFORBIDDEN, "visits are not for the %s role", caller.Role)
	}
	return rule, nil
}

// handleVisitCreate answers POST /api/visits: a grid worker records a
// visit in its grid (201). With an Idempotency-Key (idempotent), a visit
// sent again is recorded once.
func (s *Server) handleVisitCreate(c *gin.Context) {
	rule, err := s.visitRule(c)
	if err == nil && !rule.Record {
		err = onemap.Errorf(onemap.EFORBIDDEN, "the %s role does not record visits", callerOf(c).Role)
	}
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	v, err := s.visit(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	made, err := s.visits.CreateVisit(c.Request.Context(), v)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, visitOut(made))
}

// visit reads a visit's body and checks that its subject and position lie
// in the caller's part of the county.
func (s *Server) visit(c *gin.Context) (onemap.Visit, error) {
	var b visitBody
	if err := decodeJSON(c, &b, jsonBody{Limit: caseBodyLimit, Strict: true,
		Want: `{"at", "lon", "lat", "crs", "subject_kind", "subject_id", "note", "client_key"}`}); err != nil {
		return onemap.Visit{}, err
	}
	v := onemap.Visit{Note: strings.TrimSpace(b.Note), ClientKey: strings.TrimSpace(b.ClientKey), At: s.visits.Now()}
	if key := c.GetHeader(idempotencyHeader); key != "" {
		if v.ClientKey != "" && v.ClientKey != key {
			return v, onemap.FieldErrorf("client_key", onemap.EINVALID, "client_key %.40q differs from the Idempotency-Key %.40q", v.ClientKey, key)
		}
		v.ClientKey = key
	} else if v.ClientKey != "" {
		if err := onemap.CheckIdempotencyKey(v.ClientKey); err != nil {
			return v, onemap.FieldErrorf("client_key", onemap.EINVALID, "client_key: %s", onemap.ErrorMessage(err))
		}
	}
	if b.At != "" {
		t, err := time.Parse(time.RFC3339, b.At)
		if err != nil {
			return v, onemap.FieldErrorf("at", onemap.EINVALID, "at %.40q: want a time (2026-12-01T08:00:00+08:00)", b.At)
		}
		v.At = t
	}
	snap := s.snapshot(c) // the caller's part of the county
	if b.SubjectKind != "" || b.SubjectID != nil {
		layer := onemap.VisitSubjectLayer(b.SubjectKind)
		if layer == "" {
			return v, onemap.FieldErrorf("subject_kind", onemap.EINVALID, "subject_kind %.40q: want household, risk_point or place", b.SubjectKind)
		}
		var id int64
		var err error
		if b.SubjectID == nil {
			err = onemap.FieldErrorf("subject_id", onemap.EINVALID, "a %s visit needs subject_id", b.SubjectKind)
		} else if id, err = b.SubjectID.Int64(); err != nil || id <= 0 {
			err = onemap.FieldErrorf("subject_id", onemap.EINVALID, "subject_id %.40q: want a positive integer", b.SubjectID.String())
		}
		if err != nil {
			return v, err
		}
		r, ok := snap.Get(layer, id)
		if !ok {
			return v, onemap.FieldErrorf("subject_id", onemap.EINVALID, "no %s %d in your part of the county", b.SubjectKind, id)
		}
		v.Subject = onemap.VisitSubject{Kind: b.SubjectKind, ID: id}
		if p, isPoint := r.Geometry.(orb.Point); isPoint && b.Lon == nil && b.Lat == nil {
			v.Point = p
		}
	}
	switch {
	case b.Lon != nil && b.Lat != nil:
		v.Point = orb.Point{*b.Lon, *b.Lat}
		if b.CRS != "" {
			sys, err := crs.Parse(b.CRS)
			if err != nil || !sys.Geographic() {
				return v, onemap.FieldErrorf("crs", onemap.EINVALID, "crs %.40q: want WGS84, GCJ02, BD09 or CGCS2000", b.CRS)
			}
			if v.Point, err = sys.PointToWGS84(v.Point); err != nil {
				return v, onemap.FieldErrorf("lon", onemap.EINVALID, "position: %v", err)
			}
		}
	case b.Lon != nil || b.Lat != nil || v.Subject.Kind == "":
		field := "lon"
		if b.Lon != nil {
			field = "lat"
		}
		return v, onemap.FieldErrorf(field, onemap.EINVALID, "%s: the visit's position (lon and lat) is required without a subject", field)
	}
	if err := onemap.CheckVisit(v, s.visits.Now()); err != nil {
		return v, err
	}
	if caller := callerOf(c); caller.GridID != 0 {
		inPart := false
		for _, g := range snap.Containing(onemap.LayerGrids, v.Point, nil) {
			inPart = inPart || s.gridUnder(g.ID, caller.GridID)
		}
		if !inPart {
			return v, onemap.FieldErrorf("lon", onemap.EINVALID, "the place %.6f,%.6f is outside your grid", v.Point[0], v.Point[1])
		}
	}
	return v, nil
}

// handleVisitsList answers GET /api/visits: the visits of the caller's
// part of the county (a grid worker's and an operator's grid, every visit
// for a commander), newest first, filtered by grid (a grid and the grids
// below it), account, subject_kind and subject_id, from and to (when made,
// RFC 3339 or a date in China time, parsePeriod), before (the last id of the page before) and limit.
// A list naming a household is audited (postgis.Visits.ListVisits).
func (s *Server) handleVisitsList(c *gin.Context) {
	rule, err := s.visitRule(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	q := c.Request.URL.Query()
	if err := checkQuery(q, "grid", "account", "subject_kind", "subject_id", "from", "to", "before", "limit"); err != nil {
		writeError(c, s.log, err)
		return
	}
	f, err := visitFilter(q.Get)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	if rule.See == onemap.CaseScopeGrid {
		f.Scope = callerOf(c).GridID
	}
	list, err := s.visits.ListVisits(c.Request.Context(), f)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	out := make([]visitJSON, 0, len(list))
	for _, v := range list {
		out = append(out, visitOut(v))
	}
	var next *int64
	if n := len(list); n > 0 && n == min(max(f.Limit, 1), onemap.VisitListMax) {
		next = &list[n-1].ID
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"visits": out, "next_before": next})
}

// visitFilter reads a visit list's query parameters.
func visitFilter(get func(string) string) (onemap.VisitFilter, error) {
	f := onemap.VisitFilter{Account: get("account"), Limit: onemap.VisitListDefault}
	ints := []struct {
		name string
		to   *int64
	}{{"grid", &f.Grid}, {"before", &f.Before}, {"subject_id", &f.Subject.ID}}
	for _, p := range ints {
		if v := get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return f, onemap.FieldErrorf(p.name, onemap.EINVALID, "%s %.40q: want a positive integer", p.name, v)
			}
			*p.to = n
		}
	}
	if k := get("subject_kind"); k != "" || f.Subject.ID != 0 {
		if onemap.VisitSubjectLayer(k) == "" || f.Subject.ID == 0 {
			return f, onemap.FieldErrorf("subject_kind", onemap.EINVALID, "subject_kind %.40q and subject_id go together: want household, risk_point or place, and an id", k)
		}
		f.Subject.Kind = k
	}
	if v := get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > onemap.VisitListMax {
			return f, onemap.FieldErrorf("limit", onemap.EINVALID, "limit %.40q: want 1 to %d", v, onemap.VisitListMax)
		}
		f.Limit = n
	}
	var err error
	f.From, f.To, err = parsePeriod(get("from"), get("to")) // period.go
	return f, err
}
