package api

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/crs"
	"github.com/onemapgis/onemap/ratelimit"
	"github.com/paulmach/orb"
)

// caseStore is what the case handlers ask of the database (postgis.Cases),
// and the clock the case work is timed by.
type caseStore interface {
	casePhotoStore // casephotos.go
	Now() time.Time
	CreateCase(ctx context.Context, r onemap.CaseReport) (*onemap.Case, error)
	ActOnCase(ctx context.Context, id int64, based int, a onemap.CaseAction) (*onemap.Case, *onemap.CaseStep, error)
	FindCase(ctx context.Context, id int64) (*onemap.Case, error)
	FindCaseByTracking(ctx context.Context, code string) (*onemap.Case, error)
	ReadCasePhone(ctx context.Context, id int64, purpose string) (string, error)
	ListCases(ctx context.Context, f onemap.CaseFilter) ([]*onemap.Case, error)
	CaseTimeline(ctx context.Context, id int64) ([]onemap.CaseStep, error)
	// CaseStats counts the cases of a grid's children (casestats.go).
	CaseStats(ctx context.Context, grid int64, from, to time.Time) (*onemap.CaseStats, error)
}

// Limits of the case routes.
const (
	caseBodyLimit = 16 << 10 // a report or a step, without photos
	// A client may file reportBurst public reports at once and one more
	// every reportEvery after: a villager reports a few things, a script
	// many.
	reportBurst = 5
	reportEvery = 10 * time.Minute
)

// addCaseRoutes lists the case routes: the public's report and its
// follow-up by tracking code (with the public API's per-client limit, and a
// tighter one for filing), and the staff's.
func (s *Server) addCaseRoutes(r *gin.Engine) {
	lookups := ratelimit.New(s.cfg.PublicRatePerSecond, s.cfg.PublicBurst, publicMaxClients)
	filed := ratelimit.New(1/reportEvery.Seconds(), reportBurst, publicMaxClients)
	p := r.Group("/api/public/reports", s.needCases, s.publicLimit(lookups))
	p.POST("", s.reportLimit(filed), s.handlePublicReport)
	p.GET("/:code", s.handlePublicReportGet)
	r.GET("/api/public/categories", s.needCases, s.publicLimit(lookups), s.handlePublicCategories)
	g := r.Group("/api/cases", s.needCases)
	g.POST("", s.idempotent, s.handleCaseCreate)
	g.GET("", s.handleCasesList)
	g.GET("/export", s.handleCasesExport) // casemap.go
	g.GET("/stats", s.handleCaseStats)    // casestats.go
	g.GET("/:id", s.handleCaseGet)
	g.POST("/:id/actions", s.idempotent, s.handleCaseAction)
	g.GET("/:id/photos/:sha256", s.handleCasePhoto)
}

// reportLimit refuses a client that files reports faster than l allows
// with 429 and Retry-After (the client as withClient found it).
func (s *Server) reportLimit(l *ratelimit.Limiter) gin.HandlerFunc {
	return func(c *gin.Context) {
		if addr := clientAddr(c); addr.IsValid() {
			if allowed, wait := l.Allow(addr); !allowed {
				retryAfter(c, wait)
				writeError(c, s.log, onemap.Errorf(onemap.ETOOMANY,
					"too many reports from %s: at most %d at once and one every %v after; try again in %v",
					addr, reportBurst, reportEvery, wait.Round(time.Second)))
				return
			}
		}
		c.Next()
	}
}

func (s *Server) needCases(c *gin.Context) {
	if s.cases == nil {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAVAILABLE, "cases need the database")) // aborts the chain
	}
}

// reportBody is a report as the public and the staff send it. The position
// is longitude/latitude in crs: WGS-84 unless it says GCJ-02 (a phone's
// position from WeChat or AMap), BD-09 or CGCS2000.
type reportBody struct {
	Category    string   `json:"category"`
	Description string   `json:"description"`
	Lon         *float64 `json:"lon"`
	Lat         *float64 `json:"lat"`
	CRS         string   `json:"crs"`
	Phone       string   `json:"phone"`
}

// report reads a report (multipart: the report part and its photos,
// casephotos.go) into what the store takes, and checks it.
func (s *Server) report(c *gin.Context, source onemap.CaseSource) (onemap.CaseReport, error) {
	photos, err := stepPhotos(c)
	if err != nil {
		return onemap.CaseReport{}, err
	}
	var b reportBody
	if err := decodeJSON(c, &b, jsonBody{Limit: caseBodyLimit, Strict: true, Want: `{"category", "description", "lon", "lat", "crs", "phone"}`}); err != nil {
		return onemap.CaseReport{}, err
	}
	if b.Lon == nil {
		return onemap.CaseReport{}, onemap.FieldErrorf("lon", onemap.EINVALID, "lon: the place's longitude is required")
	}
	if b.Lat == nil {
		return onemap.CaseReport{}, onemap.FieldErrorf("lat", onemap.EINVALID, "lat: the place's latitude is required")
	}
	p := orb.Point{*b.Lon, *b.Lat}
	if b.CRS != "" {
		sys, err := crs.Parse(b.CRS)
		if err != nil || !sys.Geographic() {
			return onemap.CaseReport{}, onemap.FieldErrorf("crs", onemap.EINVALID, "crs %.40q: want WGS84, GCJ02, BD09 or CGCS2000", b.CRS)
		}
		if p, err = sys.PointToWGS84(p); err != nil {
			return onemap.CaseReport{}, onemap.FieldErrorf("lon", onemap.EINVALID, "position: %v", err)
		}
	}
	r := onemap.CaseReport{Source: source, Category: strings.TrimSpace(b.Category), Description: strings.TrimSpace(b.Description),
		Point: p, ReporterPhone: strings.TrimSpace(b.Phone), Photos: photos}
	return r, onemap.CheckCaseReport(r)
}

// handlePublicReport answers POST /api/public/reports: anyone files a
// report and gets its tracking code (201), and nothing else of it.
func (s *Server) handlePublicReport(c *gin.Context) {
	r, err := s.report(c, onemap.SourcePublic)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	k, err := s.cases.CreateCase(c.Request.Context(), r)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, gin.H{"tracking_code": onemap.FormatTrackingCode(k.TrackingCode), "status": k.Status,
		"reported_at": k.CreatedAt})
}

// publicReply is a reply the reporter sees.
type publicReply struct {
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

// handlePublicReportGet answers GET /api/public/reports/{code}: a report's
// category, status and the replies marked public, for whoever holds its
// code. It names no one (no staff, no reporter), no place and no other
// report.
func (s *Server) handlePublicReportGet(c *gin.Context) {
	code, err := onemap.ParseTrackingCode(c.Param("code"))
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	k, err := s.cases.FindCaseByTracking(c.Request.Context(), code)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	steps, err := s.cases.CaseTimeline(c.Request.Context(), k.ID)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	photos, err := s.reportPhotoCount(c.Request.Context(), k)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	replies := []publicReply{}
	for _, st := range steps {
		if st.Public && st.Note != "" {
			replies = append(replies, publicReply{At: st.At, Text: st.Note})
		}
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"tracking_code": onemap.FormatTrackingCode(k.TrackingCode), "category": k.Category,
		"status": k.Status, "reported_at": k.CreatedAt, "closed_at": timeOrNil(k.ClosedAt), "replies": replies, "photos": photos})
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// caseJSON is a case as the staff see it. Positions are WGS-84 [lon, lat].
type caseJSON struct {
	ID             int64             `json:"id"`
	TrackingCode   string            `json:"tracking_code"`
	Source         onemap.CaseSource `json:"source"`
	Category       string            `json:"category"`
	Description    string            `json:"description"`
	Position       [2]float64        `json:"position"`
	GridID         int64             `json:"grid_id"`
	HolderGridID   int64             `json:"holder_grid_id"`
	Level          string            `json:"level"`
	Status         onemap.CaseStatus `json:"status"`
	Version        int               `json:"version"`
	AssignedGridID int64             `json:"assigned_grid_id,omitempty"`
	Assignee       string            `json:"assignee,omitempty"`
	Department     string            `json:"department,omitempty"`
	// ReporterPhone is masked (139****5678) unless the caller handles the
	// case and asked for it with a purpose; PhoneShown says which.
	ReporterPhone string         `json:"reporter_phone,omitempty"`
	PhoneShown    bool           `json:"reporter_phone_shown,omitempty"`
	ReportedBy    string         `json:"reported_by"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
	Due           caseDueJSON    `json:"due"`
	AcceptedAt    *time.Time     `json:"accepted_at"`
	RespondedAt   *time.Time     `json:"responded_at"`
	ClosedAt      *time.Time     `json:"closed_at"`
	Overdue       bool           `json:"overdue"`
	DueSoon       bool           `json:"due_soon"`
	DuplicateOf   int64          `json:"duplicate_of,omitempty"`
	Escalations   int            `json:"escalations"`
	Actions       []string       `json:"actions,omitempty"` // the steps the caller may take now
	Timeline      []caseStepJSON `json:"timeline,omitempty"`
	Parts         []casePartJSON `json:"parts,omitempty"` // joint handling's parts (casejoint.go)
	OpenParts     int            `json:"open_parts,omitempty"`
}

type caseDueJSON struct {
	From     time.Time  `json:"from"`
	Accept   time.Time  `json:"accept"`
	Response time.Time  `json:"response"`
	Close    time.Time  `json:"close"`
	Next     *time.Time `json:"next"` // the deadline the case must meet next; null once closed
}

type caseStepJSON struct {
	Seq        int               `json:"seq"`
	At         time.Time         `json:"at"`
	Actor      string            `json:"actor"`
	Role       onemap.Role       `json:"role"`
	Action     string            `json:"action"`
	From       onemap.CaseStatus `json:"from,omitempty"`
	To         onemap.CaseStatus `json:"to"`
	Level      string            `json:"level"`
	GridID     int64             `json:"grid_id,omitempty"`
	Assignee   string            `json:"assignee,omitempty"`
	Department string            `json:"department,omitempty"`
	Note       string            `json:"note,omitempty"`
	Public     bool              `json:"public,omitempty"`
	Due        *time.Time        `json:"due"`
	Photos     []casePhotoJSON   `json:"photos,omitempty"` // casephotos.go
	Part       int               `json:"part,omitempty"`   // the part of joint handling a part step is about
}

// caseOut is k as the caller sees it at now: the phone masked.
func (s *Server) caseOut(k *onemap.Case, now time.Time) caseJSON {
	return caseJSON{ID: k.ID, TrackingCode: onemap.FormatTrackingCode(k.TrackingCode), Source: k.Source, Category: k.Category,
		Description: k.Description, Position: [2]float64{k.Point[0], k.Point[1]}, GridID: k.GridID, HolderGridID: k.HolderGridID,
		Level: k.Level, Status: k.Status, Version: k.Version, AssignedGridID: k.AssignedGridID, Assignee: k.Assignee,
		Department: k.Department, ReporterPhone: onemap.Mask(k.ReporterPhone), ReportedBy: k.ReportedBy,
		CreatedAt: k.CreatedAt, UpdatedAt: k.UpdatedAt,
		Due: caseDueJSON{From: k.Deadlines.From, Accept: k.Deadlines.Accept, Response: k.Deadlines.Response,
			Close: k.Deadlines.Close, Next: timeOrNil(k.NextDue())},
		AcceptedAt: timeOrNil(k.AcceptedAt), RespondedAt: timeOrNil(k.RespondedAt), ClosedAt: timeOrNil(k.ClosedAt),
		Overdue: k.Overdue(now), DueSoon: k.DueSoon(now), DuplicateOf: k.DuplicateOf, Escalations: k.Escalations,
		OpenParts: k.OpenParts()}
}

func stepOut(st onemap.CaseStep) caseStepJSON {
	return caseStepJSON{Seq: st.Seq, At: st.At, Actor: st.Actor, Role: st.Role, Action: st.Action, From: st.From, To: st.To,
		Level: st.Level, GridID: st.GridID, Assignee: st.Assignee, Department: st.Department, Note: st.Note,
		Public: st.Public, Due: timeOrNil(st.Due), Part: st.Part}
}

// caseRule returns the caller's rule for cases, or the refusal of a role
// that has none (401 for the anonymous, 403 for an account).
func (s *Server) caseRule(c *gin.Context) (onemap.CaseRule, error) {
	caller := callerOf(c)
	rule := s.view(c).CaseRule()
	if rule.See == onemap.CaseScopeNone {
		if caller.Name == "" {
			return rule, onemap.Errorf(onemap.EUNAUTHORIZED, "sign in first")
		}
		return rule, onemap.Errorf(onemap.EFORBIDDEN, "cases are not for the %s role", caller.Role)
	}
	return rule, nil
}

// gridUnder reports whether grid id is grid top or one below it, as the
// replica knows the grids.
func (s *Server) gridUnder(id, top int64) bool {
	if id == 0 {
		return false
	}
	l, err := s.catalog.Layer(onemap.LayerGrids)
	if err != nil {
		return false
	}
	parent := l.FieldIndex("parent_id")
	snap := s.replica.Snapshot()
	for range 8 { // county, township, village, group: a few steps at most
		if id == top {
			return true
		}
		r, ok := snap.Get(onemap.LayerGrids, id)
		if !ok || r.Raw(parent).Kind() != onemap.KindInt {
			return false
		}
		id = r.Raw(parent).Int()
	}
	return false
}

// caseAccess says what the caller may do with case k: see it, and work it
// (take the steps its rule allows, and read the reporter's phone).
func (s *Server) caseAccess(caller onemap.Caller, rule onemap.CaseRule, k *onemap.Case) (see, work bool) {
	// A role bound to a grid without one is the demo's anonymous viewer:
	// the whole county.
	whole := rule.See == onemap.CaseScopeAll || caller.GridID == 0
	in := func(id int64) bool { return whole || s.gridUnder(id, caller.GridID) }
	see = whole || in(k.GridID) || in(k.HolderGridID) || in(k.AssignedGridID)
	for _, p := range k.Parts { // a part of joint handling worked in the grid
		see = see || p.Status != onemap.PartReported && in(p.GridID)
	}
	switch rule.Work {
	case onemap.CaseWorkAll:
		work = see
	case onemap.CaseWorkHeld:
		work = in(k.HolderGridID)
	case onemap.CaseWorkAssigned:
		work = k.AssignedGridID != 0 && in(k.AssignedGridID)
	}
	return see, work
}

// mayTake returns the actions of the rule that k's status allows now.
func mayTake(rule onemap.CaseRule, k *onemap.Case) []string {
	var out []string
	for _, a := range rule.Acts {
		probe := onemap.CaseAction{Action: a, Note: "-", GridID: math.MaxInt64, Pass: true}
		switch a {
		case onemap.ActEscalate:
			if r := onemap.LevelRank(k.Level); r >= 0 && r+1 < len(onemap.CaseLevels()) {
				probe.GridLevel = onemap.CaseLevels()[r+1]
			}
		case onemap.ActHandDown:
			if r := onemap.LevelRank(k.Level); r > 0 {
				probe.GridLevel = onemap.CaseLevels()[r-1]
			}
		case onemap.ActAssign:
			probe.GridLevel = k.Level
		case onemap.ActJoint:
			probe.Parts = []onemap.CasePartSpec{{Department: "-", Task: "-"}, {Department: "--", Task: "-"}}
		case onemap.ActPartHandle, onemap.ActPartReport:
			continue // taken on a part: each part lists its own (casejoint.go)
		}
		if _, _, err := onemap.Transition(*k, probe, k.UpdatedAt, onemap.DefaultCaseLimits()); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// handleCaseCreate answers POST /api/cases: a grid worker's report from the
// field, or a call or walk-in an operator enters, at a place in the
// caller's part of the county.
func (s *Server) handleCaseCreate(c *gin.Context) {
	rule, err := s.caseRule(c)
	if err == nil && rule.Report == "" {
		err = onemap.Errorf(onemap.EFORBIDDEN, "the %s role does not enter cases", callerOf(c).Role)
	}
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	r, err := s.report(c, rule.Report)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	caller := callerOf(c)
	if rule.See != onemap.CaseScopeAll && caller.GridID != 0 {
		inPart := false
		for _, g := range s.snapshot(c).Containing(onemap.LayerGrids, r.Point, nil) {
			inPart = inPart || s.gridUnder(g.ID, caller.GridID)
		}
		if !inPart {
			writeError(c, s.log, onemap.FieldErrorf("lon", onemap.EINVALID, "the place %.6f,%.6f is outside your grid", r.Point[0], r.Point[1]))
			return
		}
	}
	k, err := s.cases.CreateCase(c.Request.Context(), r)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	out := s.caseOut(k, s.cases.Now())
	_, work := s.caseAccess(caller, rule, k)
	if work {
		out.Actions = mayTake(rule, k)
	}
	c.Header("Cache-Control", "no-store")
	c.Header("ETag", strconv.Quote(strconv.Itoa(k.Version)))
	c.JSON(http.StatusCreated, out)
}

// handleCasesList answers GET /api/cases: the cases of the caller's part of
// the county, newest first, filtered by status (a comma-separated list),
// category, level (the holder's), grid (a grid and the grids below it),
// overdue (true: overdue now), from and to (the report's time, RFC 3339 or
// a date in China time, parsePeriod), before (the last id of the page
// before) and limit. Each case carries the parts of its joint handling,
// each with the part steps the caller may take on it (a grid worker's
// parts are among its tasks).
func (s *Server) handleCasesList(c *gin.Context) {
	rule, err := s.caseRule(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	q := c.Request.URL.Query()
	if err := checkQuery(q, "status", "category", "level", "grid", "overdue", "from", "to", "before", "limit"); err != nil {
		writeError(c, s.log, err)
		return
	}
	now := s.cases.Now()
	f, err := caseFilter(q.Get, now)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	caller := callerOf(c)
	if rule.See == onemap.CaseScopeGrid {
		f.Scope = caller.GridID
	}
	list, err := s.cases.ListCases(c.Request.Context(), f)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	out := make([]caseJSON, 0, len(list))
	for _, k := range list {
		j := s.caseOut(k, now)
		_, work := s.caseAccess(caller, rule, k)
		j.Parts = s.partsOut(caller, rule, k, work, now) // casejoint.go: a grid worker's parts among its tasks
		out = append(out, j)
	}
	var next *int64
	if n := len(list); n > 0 && n == min(max(f.Limit, 1), onemap.CaseListMax) {
		next = &list[n-1].ID
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"cases": out, "next_before": next, "now": now})
}

// caseFilter reads a list's query parameters.
func caseFilter(get func(string) string, now time.Time) (onemap.CaseFilter, error) {
	f := onemap.CaseFilter{Category: get("category"), Limit: onemap.CaseListDefault}
	if v := get("status"); v != "" {
		for _, p := range strings.Split(v, ",") {
			st, err := onemap.ParseCaseStatus(strings.TrimSpace(p))
			if err != nil {
				return f, err
			}
			f.Statuses = append(f.Statuses, st)
		}
	}
	if v := get("level"); v != "" {
		if onemap.LevelRank(v) < 0 {
			return f, onemap.FieldErrorf("level", onemap.EINVALID, "level %.40q: want group, village, township or county", v)
		}
		f.Level = v
	}
	ints := []struct {
		name string
		to   *int64
	}{{"grid", &f.Grid}, {"before", &f.Before}}
	for _, p := range ints {
		if v := get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return f, onemap.FieldErrorf(p.name, onemap.EINVALID, "%s %.40q: want a positive integer", p.name, v)
			}
			*p.to = n
		}
	}
	if v := get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > onemap.CaseListMax {
			return f, onemap.FieldErrorf("limit", onemap.EINVALID, "limit %.40q: want 1 to %d", v, onemap.CaseListMax)
		}
		f.Limit = n
	}
	switch v := get("overdue"); v {
	case "", "false":
	case "true":
		f.OverdueAt = now
	default:
		return f, onemap.FieldErrorf("overdue", onemap.EINVALID, "overdue %.40q: want true or false", v)
	}
	var err error
	f.From, f.To, err = parsePeriod(get("from"), get("to")) // period.go
	return f, err
}

// caseParam returns the case named by the route's :id that the caller may
// see, with the caller's rule and whether it works the case. A case the
// caller may not see is not found, as if it did not exist.
func (s *Server) caseParam(c *gin.Context) (*onemap.Case, onemap.CaseRule, bool, error) {
	rule, err := s.caseRule(c)
	if err != nil {
		return nil, rule, false, err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, rule, false, onemap.FieldErrorf("id", onemap.EINVALID, "case id %.40q: want a positive integer", c.Param("id"))
	}
	k, err := s.cases.FindCase(c.Request.Context(), id)
	if err != nil {
		return nil, rule, false, err
	}
	see, work := s.caseAccess(callerOf(c), rule, k)
	if !see {
		return nil, rule, false, onemap.Errorf(onemap.ENOTFOUND, "no case %d", id)
	}
	return k, rule, work, nil
}

// handleCaseGet answers GET /api/cases/{id}: a case with its timeline and
// the steps the caller may take now. The reporter's phone is masked; one
// who works the case reads it with ?purpose= (onemap.Purposes), which is
// audited and counted against the account's limit of reads of personal
// data.
func (s *Server) handleCaseGet(c *gin.Context) {
	k, rule, work, err := s.caseParam(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	caller := callerOf(c)
	q := c.Request.URL.Query()
	if err := checkQuery(q, "purpose"); err != nil {
		writeError(c, s.log, err)
		return
	}
	out := s.caseOut(k, s.cases.Now())
	if q.Has("purpose") {
		purpose, err := onemap.ParsePurpose(q.Get("purpose"))
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		if !work {
			writeError(c, s.log, onemap.Errorf(onemap.EFORBIDDEN, "the reporter's phone is for those who handle case %d", k.ID))
			return
		}
		key := personalKey(caller)
		if ok, wait := s.personal.allow(key); !ok {
			retryAfter(c, wait)
			writeError(c, s.log, onemap.Errorf(onemap.ETOOMANY, "too many reads of personal details: at most %d at once and %d an hour; try again in %s",
				s.personal.cfg.Burst, s.personal.cfg.PerHour, wait.Round(time.Second)))
			return
		}
		phone, err := s.cases.ReadCasePhone(c.Request.Context(), k.ID, string(purpose))
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		// Counted against the account's limit above; not (yet) in its
		// burst flags, whose record lists households.
		out.ReporterPhone, out.PhoneShown = phone, phone != ""
	}
	steps, err := s.cases.CaseTimeline(c.Request.Context(), k.ID)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	out.Timeline = make([]caseStepJSON, 0, len(steps))
	for _, st := range steps {
		out.Timeline = append(out.Timeline, stepOut(st))
	}
	if err := s.withPhotos(c.Request.Context(), k.ID, out.Timeline); err != nil {
		writeError(c, s.log, err)
		return
	}
	if work {
		out.Actions = mayTake(rule, k)
	}
	out.Parts = s.partsOut(caller, rule, k, work, s.cases.Now()) // casejoint.go
	c.Header("Cache-Control", "no-store")
	c.Header("ETag", strconv.Quote(strconv.Itoa(k.Version)))
	c.JSON(http.StatusOK, out)
}

// actionBody is a step asked of a case. Version is the case's version the
// step is based on (or the request's If-Match: "3").
type actionBody struct {
	Action     string       `json:"action"`
	Part       *int         `json:"part"`  // part_handle, part_report: the part
	Parts      []partBody   `json:"parts"` // joint: the parts (casejoint.go)
	Version    *int         `json:"version"`
	Note       string       `json:"note"`
	Public     bool         `json:"public"`
	GridID     *json.Number `json:"grid_id"`
	Assignee   string       `json:"assignee"`
	Department string       `json:"department"`
	Pass       *bool        `json:"pass"`
}

// handleCaseAction answers POST /api/cases/{id}/actions: one step of the
// lifecycle, based on the version the caller saw (409 if the case has
// moved on since: reload and decide again). 400 with field "action" for a
// step the case's status does not allow, 403 for one the caller's role or
// part of the county does not.
func (s *Server) handleCaseAction(c *gin.Context) {
	rule, err := s.caseRule(c)
	if err == nil && len(rule.Acts) == 0 {
		err = onemap.Errorf(onemap.EFORBIDDEN, "the %s role takes no steps on cases", callerOf(c).Role)
	}
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	photos, err := stepPhotos(c) // multipart: the step's part and its photos (casephotos.go)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	var b actionBody
	if err := decodeJSON(c, &b, jsonBody{Limit: caseBodyLimit, Strict: true,
		Want: `{"action", "version", "note", "public", "grid_id", "assignee", "department", "pass", "part", "parts"}`}); err != nil {
		writeError(c, s.log, err)
		return
	}
	version, err := stepVersion(b.Version, c.GetHeader("If-Match"))
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	if !rule.May(b.Action) {
		if !slices.Contains(onemap.CaseActions(), b.Action) {
			writeError(c, s.log, onemap.FieldErrorf("action", onemap.EINVALID, "unknown action %.40q (want one of %s)", b.Action, strings.Join(onemap.CaseActions(), ", ")))
		} else {
			writeError(c, s.log, onemap.Errorf(onemap.EFORBIDDEN, "the %s role may not %s a case", callerOf(c).Role, b.Action))
		}
		return
	}
	k, _, work, err := s.caseParam(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	var part onemap.CasePart
	if onemap.IsPartAction(b.Action) {
		if b.Part == nil {
			writeError(c, s.log, onemap.FieldErrorf("part", onemap.EINVALID, "%s needs the part (part: its number)", b.Action))
			return
		}
		p, ok := k.FindPart(*b.Part)
		if !ok {
			writeError(c, s.log, onemap.FieldErrorf("part", onemap.EINVALID, "case %d has no part %d", k.ID, *b.Part))
			return
		}
		part, work = p, s.partWork(callerOf(c), rule, k, p, work) // casejoint.go
	}
	if !work {
		if part.Part != 0 {
			writeError(c, s.log, onemap.Errorf(onemap.EFORBIDDEN, "part %d of case %d (%s) is not yours to %s", part.Part, k.ID, part.Department, b.Action))
			return
		}
		writeError(c, s.log, onemap.Errorf(onemap.EFORBIDDEN, "case %d is not yours to %s: it is held by grid %d", k.ID, b.Action, k.HolderGridID))
		return
	}
	if version != k.Version {
		writeError(c, s.log, onemap.FieldErrorf("version", onemap.ECONFLICT, "case %d has changed: it is at version %d, not %d; reload it and try again", k.ID, k.Version, version))
		return
	}
	a := onemap.CaseAction{Action: b.Action, Note: strings.TrimSpace(b.Note), Public: b.Public, Assignee: strings.TrimSpace(b.Assignee),
		Department: strings.TrimSpace(b.Department), Photos: photos, Part: part.Part}
	if b.Action == onemap.ActJoint {
		if a.Parts, err = partSpecs(b.Parts); err != nil { // casejoint.go
			writeError(c, s.log, err)
			return
		}
	}
	if b.GridID != nil {
		if a.GridID, err = b.GridID.Int64(); err != nil || a.GridID <= 0 {
			writeError(c, s.log, onemap.FieldErrorf("grid_id", onemap.EINVALID, "grid_id %.40q: want a positive integer", b.GridID.String()))
			return
		}
	}
	if b.Action == onemap.ActCheck {
		if b.Pass == nil {
			writeError(c, s.log, onemap.FieldErrorf("pass", onemap.EINVALID, "check needs pass: true to close the case, false to send it back"))
			return
		}
		a.Pass = *b.Pass
	}
	next, step, err := s.cases.ActOnCase(c.Request.Context(), k.ID, version, a)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	out := s.caseOut(next, s.cases.Now())
	_, work = s.caseAccess(callerOf(c), rule, next)
	if work {
		out.Actions = mayTake(rule, next)
	}
	out.Parts = s.partsOut(callerOf(c), rule, next, work, s.cases.Now()) // casejoint.go
	c.Header("Cache-Control", "no-store")
	c.Header("ETag", strconv.Quote(strconv.Itoa(next.Version)))
	c.JSON(http.StatusOK, gin.H{"case": out, "step": stepOut(*step)})
}

// stepVersion is the version a step is based on: the body's, or If-Match's
// ("3", W/"3"); both, if given, must agree.
func stepVersion(body *int, ifMatch string) (int, error) {
	v := -1
	if m := strings.TrimSpace(ifMatch); m != "" {
		n, err := strconv.Atoi(strings.Trim(strings.TrimPrefix(m, "W/"), `"`))
		if err != nil || n < 1 {
			return 0, onemap.FieldErrorf("version", onemap.EINVALID, "If-Match %.40q: want the case's version as its ETag gave it (\"3\")", m)
		}
		v = n
	}
	if body != nil {
		if *body < 1 || v >= 0 && v != *body {
			return 0, onemap.FieldErrorf("version", onemap.EINVALID, "version %d: want the case's version (and the same as If-Match)", *body)
		}
		v = *body
	}
	if v < 0 {
		return 0, onemap.FieldErrorf("version", onemap.EINVALID, "version: the case's version the step is based on is required (or If-Match)")
	}
	return v, nil
}
