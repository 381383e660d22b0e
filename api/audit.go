package api

import (
	"context"
	"encoding/csv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
)

// actorOf names the caller for the history of features and the audit trail:
// the account's name, or "anonymous".
func actorOf(c *gin.Context) string {
	return callerOf(c).Actor()
}

// audit records one event of the audit trail for the caller: action is what
// happened ("export", "household.read", "login.failed"), target what it
// happened to ("grids", "households/42"), detail anything else worth
// keeping (a purpose, a count, a reason).
func (s *Server) audit(c *gin.Context, action, target string, detail map[string]any) {
	// The request's own deadline may have passed by the time a refusal is
	// recorded; the record is written regardless.
	s.auditLog(context.WithoutCancel(c.Request.Context()), action, target, detail)
}

// parseAuditFilter reads the audit trail's query parameters.
func parseAuditFilter(c *gin.Context) (onemap.AuditFilter, error) {
	var f onemap.AuditFilter
	q := c.Request.URL.Query()
	for k := range q {
		switch k {
		case "order", "after", "before", "actor", "action", "from", "to", "limit", "system":
		default:
			return f, onemap.Errorf(onemap.EINVALID, "unknown query parameter %q (want order, after, before, actor, action, from, to, limit, system)", k)
		}
	}
	switch v := q.Get("order"); v {
	case "", "asc":
	case "desc":
		f.Newest = true
	default:
		return f, onemap.Errorf(onemap.EINVALID, "order=%q: want asc (the order written) or desc (newest first)", v)
	}
	var err error
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"after", &f.After}, {"before", &f.Before}} {
		if v := q.Get(p.name); v != "" {
			if *p.dst, err = strconv.ParseInt(v, 10, 64); err != nil || *p.dst < 0 {
				return f, onemap.Errorf(onemap.EINVALID, "%s=%q: want a record number", p.name, v)
			}
		}
	}
	// system=hide leaves out the system's own records (the seed's edits).
	switch v := q.Get("system"); v {
	case "", "show":
	case "hide":
		f.HideSystem = true
	default:
		return f, onemap.Errorf(onemap.EINVALID, "system=%q: want hide (leave out the system's own records) or show", v)
	}
	f.Actor, f.Action = q.Get("actor"), q.Get("action")
	if f.Action != "" && !slices.Contains(onemap.AuditActions(), f.Action) {
		return f, onemap.Errorf(onemap.EINVALID, "action=%q: want one of %s", f.Action, strings.Join(onemap.AuditActions(), ", "))
	}
	// from and to are instants (RFC 3339), from inclusive and to exclusive,
	// or dates in China time, both inclusive: from=2026-11-26&to=2026-11-26
	// is that whole day.
	for _, p := range []struct {
		name string
		dst  *time.Time
		days int // added to a date
	}{{"from", &f.From, 0}, {"to", &f.To, 1}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		if *p.dst, err = time.Parse(time.RFC3339, v); err == nil {
			continue
		}
		day, err := time.ParseInLocation(time.DateOnly, v, onemap.ChinaTime())
		if err != nil {
			return f, onemap.Errorf(onemap.EINVALID, "%s=%q: want a date (2026-11-26) or an RFC 3339 time", p.name, v)
		}
		*p.dst = day.AddDate(0, 0, p.days)
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, onemap.Errorf(onemap.EINVALID, "from=%q is not before to=%q", q.Get("from"), q.Get("to"))
	}
	f.Limit = 100
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > 10000 {
			return f, onemap.Errorf(onemap.EINVALID, "limit=%q: want 1 to 10000", v)
		}
	}
	return f, nil
}

// handleAuditList answers GET /api/audit for auditors: records in the order
// written (or newest first with order=desc), as JSON with the cursor of the
// next page (next_after, or next_before newest first), or as CSV with
// format=csv or Accept: text/csv: an export, of every record the filter
// selects unless a limit is given, which is itself recorded. Either way each
// record is shown as the reader's role may see it (viewAudit).
func (s *Server) handleAuditList(c *gin.Context) {
	if err := require(c, onemap.RoleAuditor); err != nil {
		writeError(c, s.log, err)
		return
	}
	asCSV := auditCSV(c)
	q := c.Request.URL.Query()
	if q.Has("format") {
		if v := q.Get("format"); v != "csv" {
			writeError(c, s.log, onemap.Errorf(onemap.EINVALID, "format=%q: want csv (or none, for JSON)", v))
			return
		}
		q.Del("format")
		c.Request.URL.RawQuery = q.Encode()
	}
	f, err := parseAuditFilter(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	if asCSV {
		s.exportAudit(c, f, q.Get("limit") == "")
		return
	}
	recs, err := s.accounts.ListAudit(c.Request.Context(), f)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	// The cursor is the last record read, whatever the reader is shown of it.
	next := int64(0)
	if len(recs) == f.Limit {
		next = recs[len(recs)-1].Seq
	}
	recs = s.viewAudit(roleOf(c), recs)
	if f.Newest {
		c.JSON(http.StatusOK, gin.H{"records": recs, "next_before": next})
		return
	}
	c.JSON(http.StatusOK, gin.H{"records": recs, "next_after": next})
}

// auditPath is the route of the audit trail.
const auditPath = "/api/audit"

// auditCSV reports whether a request of the audit trail asks for CSV (an
// export): format=csv or Accept: text/csv.
func auditCSV(c *gin.Context) bool {
	return c.Query("format") == "csv" || strings.Contains(c.GetHeader("Accept"), "text/csv")
}

// auditExportPage is how many records an export reads at a time.
const auditExportPage = 5000

// exportAudit writes the records f selects as CSV: f.Limit of them, or with
// all every one, read a page at a time so that a year's trail is never
// held in memory. The request has no overall deadline (withTimeout): each
// page is bounded by --request-timeout, to read and to write. An export
// that breaks off after its first line aborts the connection, so that the
// download fails instead of ending short as if complete. The export is
// recorded with the rows it wrote and whether it was complete.
func (s *Server) exportAudit(c *gin.Context, f onemap.AuditFilter, all bool) {
	want := f.Limit
	if all {
		f.Limit = auditExportPage
	}
	rc := http.NewResponseController(c.Writer)
	page := func() ([]onemap.AuditRecord, error) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.RequestTimeout)
		defer cancel()
		_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.RequestTimeout))
		return s.accounts.ListAudit(ctx, f)
	}
	recs, err := page()
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="onemap-audit.csv"`)
	c.Status(http.StatusOK)
	_, _ = c.Writer.WriteString("\ufeff") // Excel reads UTF-8 Chinese with a BOM
	w := csv.NewWriter(c.Writer)
	_ = w.Write([]string{"seq", "at", "actor", "role", "client", "action", "target", "detail"})
	rows := 0
	for {
		for _, r := range s.viewAudit(roleOf(c), recs) {
			_ = w.Write([]string{strconv.FormatInt(r.Seq, 10), r.At.UTC().Format(time.RFC3339Nano), csvSafe(r.Actor), r.Role, r.Client,
				r.Action, csvSafe(r.Target), csvSafe(string(r.Detail))})
		}
		rows += len(recs)
		if !all || len(recs) < f.Limit {
			break
		}
		w.Flush()
		if f.Newest {
			f.Before = recs[len(recs)-1].Seq
		} else {
			f.After = recs[len(recs)-1].Seq
		}
		if recs, err = page(); err != nil {
			break
		}
	}
	w.Flush()
	if err == nil {
		err = w.Error() // the client went away, or a write timed out
	}
	detail := map[string]any{"rows": rows, "query": c.Request.URL.RawQuery, "complete": err == nil}
	if !all {
		detail["limit"] = want
	}
	s.audit(c, onemap.AuditExport, "audit", detail)
	if err != nil {
		s.log.Error("audit export broke off", "rows", rows, "err", err)
		panic(http.ErrAbortHandler) // the client sees a failed download, not a short file
	}
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// auditCheckJSON is the answer of a verification without checkpoints: the
// chain's check (onemap.AuditCheck) and that it is not anchored.
type auditCheckJSON struct {
	OK       bool   `json:"ok"`
	Rows     int64  `json:"rows"`
	FirstSeq int64  `json:"first_seq"`
	LastSeq  int64  `json:"last_seq"`
	BrokenAt int64  `json:"broken_at,omitempty"` // the first seq whose link or hash does not hold
	Problem  string `json:"problem,omitempty"`
	Anchored bool   `json:"anchored"`
	Note     string `json:"note"`
}

// householdDetailsJSON is a household's personal details as an answer
// (onemap.HouseholdDetails).
type householdDetailsJSON struct {
	HouseholdID int64  `json:"household_id"`
	HeadName    string `json:"head_name"`
	HeadPhone   string `json:"head_phone"`
	Members     int    `json:"members"`
	Address     string `json:"address"`
	Notes       string `json:"notes"`
}

// handleAuditVerify answers GET /api/audit/verify for auditors: whether the
// hash chain of the whole trail holds and agrees with the latest signed
// checkpoint ("anchored"), and if not, where and why. Without checkpoints
// configured the chain is checked against itself only, and the answer
// says so ("anchored": false).
func (s *Server) handleAuditVerify(c *gin.Context) {
	if err := require(c, onemap.RoleAuditor); err != nil {
		writeError(c, s.log, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	if s.anchor != nil {
		report, err := s.anchor.Verify(c.Request.Context())
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		c.JSON(http.StatusOK, report)
		return
	}
	check, err := s.accounts.VerifyAudit(c.Request.Context())
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	c.JSON(http.StatusOK, auditCheckJSON{OK: check.OK, Rows: check.Rows, FirstSeq: check.FirstSeq, LastSeq: check.LastSeq,
		BrokenAt: check.BrokenAt, Problem: check.Problem, Anchored: false,
		Note: "not anchored: no checkpoints configured (--audit-key, --audit-checkpoints); the chain is checked against itself only"})
}

// handleAccountsList answers GET /api/accounts for admins.
func (s *Server) handleAccountsList(c *gin.Context) {
	if err := require(c, onemap.RoleAdmin); err != nil {
		writeError(c, s.log, err)
		return
	}
	list, err := s.accounts.ListAccounts(c.Request.Context())
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	out := make([]gin.H, 0, len(list))
	for _, a := range list {
		out = append(out, gin.H{"name": a.Name, "display_name": a.DisplayName, "role": a.Role, "grid_id": a.GridID, "disabled": a.Disabled})
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"accounts": out})
}

// handleHouseholdDetails answers GET /api/households/{id}/details?purpose=…
// with a household's personal details, for the roles the policy lets see
// personal fields unmasked; the read and its purpose (one of
// onemap.Purposes) enter the audit trail in the same transaction. Each
// account's reads are limited (PersonalReadConfig: 429 with Retry-After
// past the limit), and a burst of them is flagged to the auditor with a
// "personal.burst" record.
func (s *Server) handleHouseholdDetails(c *gin.Context) {
	caller := callerOf(c)
	if !s.view(c).PersonalDetails() {
		if caller.Name == "" {
			writeError(c, s.log, onemap.Errorf(onemap.EUNAUTHORIZED, "sign in first"))
		} else {
			writeError(c, s.log, onemap.Errorf(onemap.EFORBIDDEN, "household details are not allowed for the %s role", caller.Role))
		}
		return
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(c, s.log, onemap.FieldErrorf("id", onemap.EINVALID, "household id %q: want a positive integer", c.Param("id")))
		return
	}
	purpose, err := onemap.ParsePurpose(c.Query("purpose"))
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	key := personalKey(caller)
	if ok, wait := s.personal.allow(key); !ok {
		retryAfter(c, wait)
		writeError(c, s.log, onemap.Errorf(onemap.ETOOMANY, "too many reads of personal details: at most %d at once and %d an hour; try again in %s",
			s.personal.cfg.Burst, s.personal.cfg.PerHour, wait.Round(time.Second)))
		return
	}
	d, err := s.accounts.ReadHouseholdDetails(c.Request.Context(), id, string(purpose))
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	if b := s.personal.done(key, id, purpose); b != nil {
		s.audit(c, onemap.AuditPersonalBurst, "accounts/"+caller.Actor(), b.detail(s.personal.cfg.FlagWithin))
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, householdDetailsJSON(d))
}
