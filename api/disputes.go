package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
)

// disputeStore is what the dispute handlers ask of the database
// (postgis.Disputes).
type disputeStore interface {
	FindDispute(ctx context.Context, caseID int64) (*onemap.Dispute, error)
	PutDispute(ctx context.Context, caseID int64, based int, u onemap.DisputeUpdate) (*onemap.Dispute, error)
	ReadDisputeParties(ctx context.Context, caseID int64, purpose string) ([]onemap.DisputeParty, error)
	DisputeStats(ctx context.Context, f onemap.DisputeFilter) (onemap.DisputeStats, error)
	DisputeKinds(ctx context.Context) ([]onemap.ReferenceEntry, error)
	PeopleCategories(ctx context.Context) ([]onemap.ReferenceEntry, error)
	// The case work's own reference tables (migration 0011), read here
	// beside the disputes'.
	CaseCategoryEntries(ctx context.Context) ([]onemap.ReferenceEntry, error)
	CaseTimeLimits(ctx context.Context) ([]onemap.CaseTimeLimit, error)
}

// addDisputeRoutes lists the dispute routes: a dispute case's mediation
// record, the settlement rates, and the reference tables of disputes.
func (s *Server) addDisputeRoutes(r *gin.Engine) {
	r.GET("/api/cases/:id/dispute", s.needDisputes, s.handleDisputeGet)
	r.PUT("/api/cases/:id/dispute", s.needDisputes, s.handleDisputePut)
	r.GET("/api/disputes/stats", s.needDisputes, s.handleDisputeStats)
	r.GET("/api/reference/dispute-kinds", s.needDisputes, s.handleReference(disputeStore.DisputeKinds))
	r.GET("/api/reference/people-categories", s.needDisputes, s.handleReference(disputeStore.PeopleCategories))
	r.GET("/api/reference/case-categories", s.needDisputes, s.handleReference(disputeStore.CaseCategoryEntries))
	r.GET("/api/reference/case-time-limits", s.needDisputes, s.handleTimeLimits)
}

func (s *Server) needDisputes(c *gin.Context) {
	if s.disputes == nil || s.cases == nil {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAVAILABLE, "disputes need the database")) // aborts the chain
	}
}

// partyWire is a party as the API sends and takes it.
type partyWire struct {
	Name     string `json:"name"`
	Phone    string `json:"phone,omitempty"`
	IDNumber string `json:"id_number,omitempty"`
	Side     string `json:"side"`
	Category string `json:"category,omitempty"`
}

type sessionWire struct {
	Seq       int        `json:"seq"`
	At        *time.Time `json:"at,omitempty"`
	Actor     string     `json:"actor,omitempty"`
	Level     string     `json:"level,omitempty"`
	GridID    int64      `json:"grid_id,omitempty"`
	Mediators []string   `json:"mediators"`
	Note      string     `json:"note,omitempty"`
	Result    string     `json:"result"`
}

// disputeJSON is a mediation record as the staff see it.
type disputeJSON struct {
	CaseID       int64                 `json:"case_id"`
	Kind         string                `json:"kind"`
	Summary      string                `json:"summary"`
	Parties      []partyWire           `json:"parties"`
	PartiesShown bool                  `json:"parties_shown"` // false: names, phones and id numbers are masked
	Mediators    []string              `json:"mediators"`
	Level        string                `json:"level"`
	GridID       int64                 `json:"grid_id"`
	TownshipID   int64                 `json:"township_id,omitempty"`
	Outcome      onemap.DisputeOutcome `json:"outcome"`
	Agreement    string                `json:"agreement"`
	Escalations  int                   `json:"escalations"`
	Version      int                   `json:"version"`
	CreatedAt    time.Time             `json:"created_at"`
	UpdatedAt    time.Time             `json:"updated_at"`
	EndedAt      *time.Time            `json:"ended_at"`
	Synthetic    bool                  `json:"synthetic,omitempty"`
	Sessions     []sessionWire         `json:"sessions"`
	MayEdit      bool                  `json:"may_edit"`
}

// disputeOut is d as the caller sees it: parties masked unless shown.
func disputeOut(d *onemap.Dispute, shown []onemap.DisputeParty, mayEdit bool) disputeJSON {
	out := disputeJSON{CaseID: d.CaseID, Kind: d.Kind, Summary: d.Summary, Parties: []partyWire{}, PartiesShown: shown != nil,
		Mediators: append([]string{}, d.Mediators...), Level: d.Level, GridID: d.GridID, TownshipID: d.TownshipID,
		Outcome: d.Outcome, Agreement: d.Agreement, Escalations: d.Escalations, Version: d.Version, CreatedAt: d.CreatedAt,
		UpdatedAt: d.UpdatedAt, EndedAt: timeOrNil(d.EndedAt), Synthetic: d.Synthetic, Sessions: []sessionWire{}, MayEdit: mayEdit}
	parties := shown
	if parties == nil {
		for _, p := range d.Parties {
			parties = append(parties, p.Masked())
		}
	}
	for _, p := range parties {
		out.Parties = append(out.Parties, partyWire(p))
	}
	for _, m := range d.Sessions {
		at := m.At
		out.Sessions = append(out.Sessions, sessionWire{Seq: m.Seq, At: &at, Actor: m.Actor, Level: m.Level, GridID: m.GridID,
			Mediators: append([]string{}, m.Mediators...), Note: m.Note, Result: m.Result})
	}
	return out
}

// mediates reports whether the caller keeps the mediation record of a
// dispute held by grid held: a role that works cases, at that grid or one
// above it (every grid for a role that sees all).
func (s *Server) mediates(caller onemap.Caller, rule onemap.CaseRule, held int64) bool {
	if !rule.Mediates() {
		return false
	}
	return rule.See == onemap.CaseScopeAll || caller.GridID == 0 || s.gridUnder(held, caller.GridID)
}

// disputeCase returns the dispute case of the route that the caller may
// see, its record (nil: none yet) and whether the caller keeps it.
func (s *Server) disputeCase(c *gin.Context) (*onemap.Case, *onemap.Dispute, bool, error) {
	k, rule, _, err := s.caseParam(c)
	if err != nil {
		return nil, nil, false, err
	}
	if k.Category != onemap.CaseCategoryDispute {
		return nil, nil, false, onemap.Errorf(onemap.ENOTFOUND, "case %d is no dispute (its category is %s)", k.ID, k.Category)
	}
	d, err := s.disputes.FindDispute(c.Request.Context(), k.ID)
	if err != nil && onemap.ErrorCode(err) != onemap.ENOTFOUND {
		return nil, nil, false, err
	}
	held := k.GridID
	if d != nil {
		held = d.GridID
	}
	return k, d, s.mediates(callerOf(c), rule, held), nil
}

// handleDisputeGet answers GET /api/cases/{id}/dispute: the mediation
// record of a dispute case the caller sees (404 while it has none), with
// its parties masked. One who keeps the record reads them with ?purpose=
// (onemap.Purposes), which is audited and counted against the account's
// limit of reads of personal data.
func (s *Server) handleDisputeGet(c *gin.Context) {
	q := c.Request.URL.Query()
	if err := checkQuery(q, "purpose"); err != nil {
		writeError(c, s.log, err)
		return
	}
	k, d, mayEdit, err := s.disputeCase(c)
	if err == nil && d == nil {
		err = onemap.Errorf(onemap.ENOTFOUND, "case %d has no mediation record yet (PUT it with version 0)", k.ID)
	}
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	var shown []onemap.DisputeParty
	if q.Has("purpose") {
		if shown, err = s.readParties(c, k.ID, q.Get("purpose"), mayEdit); err != nil {
			writeError(c, s.log, err)
			return
		}
	}
	c.Header("Cache-Control", "no-store")
	c.Header("ETag", strconv.Quote(strconv.Itoa(d.Version)))
	c.JSON(http.StatusOK, disputeOut(d, shown, mayEdit))
}

// readParties reads a record's parties unmasked for one who keeps it, for
// the purpose given, within the account's limit of reads of personal data.
func (s *Server) readParties(c *gin.Context, caseID int64, purposeText string, mayEdit bool) ([]onemap.DisputeParty, error) {
	purpose, err := onemap.ParsePurpose(purposeText)
	if err != nil {
		return nil, err
	}
	if !mayEdit {
		return nil, onemap.Errorf(onemap.EFORBIDDEN, "the parties of dispute %d are for those who mediate it", caseID)
	}
	if ok, wait := s.personal.allow(personalKey(callerOf(c))); !ok {
		retryAfter(c, wait)
		return nil, onemap.Errorf(onemap.ETOOMANY, "too many reads of personal details: at most %d at once and %d an hour; try again in %s",
			s.personal.cfg.Burst, s.personal.cfg.PerHour, wait.Round(time.Second))
	}
	ps, err := s.disputes.ReadDisputeParties(c.Request.Context(), caseID, string(purpose))
	if err == nil && ps == nil {
		ps = []onemap.DisputeParty{}
	}
	return ps, err
}

// disputeBody is a write of a mediation record: the record's texts as they
// are to stand, and optionally the session held now. Version is the
// record's version the write is based on (0 makes the record), or If-Match.
type disputeBody struct {
	Version   *int        `json:"version"`
	Kind      string      `json:"kind"`
	Summary   string      `json:"summary"`
	Parties   []partyWire `json:"parties"`
	Mediators []string    `json:"mediators"`
	Agreement string      `json:"agreement"`
	Session   *struct {
		Mediators []string `json:"mediators"`
		Note      string   `json:"note"`
		Result    string   `json:"result"`
	} `json:"session"`
}

// disputeVersion is the version a write is based on: the body's or
// If-Match's ("3", W/"3"; "0" for a record not made yet); both, if given,
// must agree.
func disputeVersion(body *int, ifMatch string) (int, error) {
	v := -1
	if m := strings.TrimSpace(ifMatch); m != "" {
		n, err := strconv.Atoi(strings.Trim(strings.TrimPrefix(m, "W/"), `"`))
		if err != nil || n < 0 {
			return 0, onemap.FieldErrorf("version", onemap.EINVALID, "If-Match %.40q: want the record's version as its ETag gave it (\"3\"), or \"0\" to make it", m)
		}
		v = n
	}
	if body != nil {
		if *body < 0 || v >= 0 && v != *body {
			return 0, onemap.FieldErrorf("version", onemap.EINVALID, "version %d: want the record's version, 0 to make it (and the same as If-Match)", *body)
		}
		v = *body
	}
	if v < 0 {
		return 0, onemap.FieldErrorf("version", onemap.EINVALID, "version: the record's version the write is based on is required (0 to make it, or If-Match)")
	}
	return v, nil
}

// handleDisputePut answers PUT /api/cases/{id}/dispute: the record written
// by one who keeps it (200 with the new ETag). A write based on a version
// the record has moved on from is answered 412 with the current record, so
// that of two mediators neither loses a session.
func (s *Server) handleDisputePut(c *gin.Context) {
	rule, err := s.caseRule(c)
	if err == nil && !rule.Mediates() {
		err = onemap.Errorf(onemap.EFORBIDDEN, "the %s role keeps no mediation records", callerOf(c).Role)
	}
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	var b disputeBody
	if err := decodeJSON(c, &b, jsonBody{Limit: caseBodyLimit, Strict: true,
		Want: `{"version", "kind", "summary", "parties", "mediators", "agreement", "session": {"mediators", "note", "result"}}`}); err != nil {
		writeError(c, s.log, err)
		return
	}
	based, err := disputeVersion(b.Version, c.GetHeader("If-Match"))
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	k, _, mayEdit, err := s.disputeCase(c)
	if err == nil && !mayEdit {
		err = onemap.Errorf(onemap.EFORBIDDEN, "the mediation record of case %d is kept by the level that holds it", k.ID)
	}
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	u := onemap.DisputeUpdate{Kind: strings.TrimSpace(b.Kind), Summary: strings.TrimSpace(b.Summary), Mediators: b.Mediators,
		Agreement: strings.TrimSpace(b.Agreement)}
	for _, p := range b.Parties {
		u.Parties = append(u.Parties, onemap.DisputeParty{Name: strings.TrimSpace(p.Name), Phone: strings.TrimSpace(p.Phone),
			IDNumber: strings.TrimSpace(p.IDNumber), Side: p.Side, Category: p.Category})
	}
	if b.Session != nil {
		u.Session = &onemap.MediationSession{Mediators: b.Session.Mediators, Note: b.Session.Note, Result: b.Session.Result}
	}
	d, err := s.disputes.PutDispute(c.Request.Context(), k.ID, based, u)
	if cf := onemap.ConflictOf(err); cf != nil {
		// 412 (writeError): the record moved on since the caller read it;
		// here it is now, its parties masked.
		if cur, ok := cf.Current.(*onemap.Dispute); ok {
			cf.Body = disputeOut(cur, nil, s.mediates(callerOf(c), rule, cur.GridID))
		}
	}
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("ETag", strconv.Quote(strconv.Itoa(d.Version)))
	c.JSON(http.StatusOK, disputeOut(d, nil, s.mediates(callerOf(c), rule, d.GridID)))
}

// disputeCountJSON is a count of disputes and its settlement rate.
type disputeCountJSON struct {
	Total          int     `json:"total"`
	Settled        int     `json:"settled"`
	Referred       int     `json:"referred"`
	Mediating      int     `json:"mediating"`
	SettlementRate float64 `json:"settlement_rate"` // settled / total, 0 for none
}

func countOut(c onemap.DisputeCount) disputeCountJSON {
	return disputeCountJSON{Total: c.Total, Settled: c.Settled, Referred: c.Referred, Mediating: c.Mediating,
		SettlementRate: c.SettlementRate()}
}

type townshipCountJSON struct {
	GridID int64  `json:"grid_id"`
	Name   string `json:"name"`
	disputeCountJSON
}

// handleDisputeStats answers GET /api/disputes/stats?grid=&from=&to=: the
// disputes of the caller's part of the county (and of grid and below it),
// made in [from, to), counted in all, per level that holds them and per
// township, each with its settlement rate.
func (s *Server) handleDisputeStats(c *gin.Context) {
	rule, err := s.caseRule(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	q := c.Request.URL.Query()
	if err := checkQuery(q, "grid", "from", "to"); err != nil {
		writeError(c, s.log, err)
		return
	}
	cf, err := caseFilter(q.Get, time.Time{})
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	f := onemap.DisputeFilter{Grid: cf.Grid, From: cf.From, To: cf.To}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		writeError(c, s.log, onemap.FieldErrorf("to", onemap.EINVALID, "to %s is not after from %s", f.To.Format(time.RFC3339), f.From.Format(time.RFC3339)))
		return
	}
	if rule.See == onemap.CaseScopeGrid {
		f.Scope = callerOf(c).GridID
	}
	st, err := s.disputes.DisputeStats(c.Request.Context(), f)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	levels := gin.H{}
	for _, l := range onemap.CaseLevels() {
		levels[l] = countOut(st.ByLevel[l])
	}
	towns := []townshipCountJSON{}
	for _, t := range st.ByTownship {
		towns = append(towns, townshipCountJSON{GridID: t.GridID, Name: t.Name, disputeCountJSON: countOut(t.Count)})
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"all": countOut(st.All), "by_level": levels, "by_township": towns,
		"from": timeOrNil(f.From), "to": timeOrNil(f.To), "grid": f.Grid})
}

// referenceJSON is a row of a reference table.
type referenceJSON struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Active bool   `json:"active"`
}

// handleReference answers GET /api/reference/{table}: a reference table of
// the case work, for those who see cases.
func (s *Server) handleReference(read func(disputeStore, context.Context) ([]onemap.ReferenceEntry, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, err := s.caseRule(c); err != nil {
			writeError(c, s.log, err)
			return
		}
		if err := checkQuery(c.Request.URL.Query()); err != nil {
			writeError(c, s.log, err)
			return
		}
		rows, err := read(s.disputes, c.Request.Context())
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		out := make([]referenceJSON, len(rows))
		for i, r := range rows {
			out[i] = referenceJSON(r)
		}
		c.JSON(http.StatusOK, gin.H{"entries": out})
	}
}

// timeLimitJSON is a row of the time limits, in seconds.
type timeLimitJSON struct {
	Category      string  `json:"category"`
	Level         string  `json:"level"`
	AcceptWithin  float64 `json:"accept_within_s"`
	RespondWithin float64 `json:"respond_within_s"`
	CloseWithin   float64 `json:"close_within_s"`
}

// handleTimeLimits answers GET /api/reference/case-time-limits: the
// county's time limits per category and level, in seconds, and the
// defaults of a pair without a row.
func (s *Server) handleTimeLimits(c *gin.Context) {
	if _, err := s.caseRule(c); err != nil {
		writeError(c, s.log, err)
		return
	}
	if err := checkQuery(c.Request.URL.Query()); err != nil {
		writeError(c, s.log, err)
		return
	}
	rows, err := s.disputes.CaseTimeLimits(c.Request.Context())
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	out := make([]timeLimitJSON, len(rows))
	for i, r := range rows {
		out[i] = timeLimitJSON{Category: r.Category, Level: r.Level, AcceptWithin: r.Limits.Accept.Seconds(),
			RespondWithin: r.Limits.Response.Seconds(), CloseWithin: r.Limits.Close.Seconds()}
	}
	d := onemap.DefaultCaseLimits()
	c.JSON(http.StatusOK, gin.H{"limits": out, "default": timeLimitJSON{AcceptWithin: d.Accept.Seconds(),
		RespondWithin: d.Response.Seconds(), CloseWithin: d.Close.Seconds()}})
}
