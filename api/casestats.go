package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
)

// caseStatsRowJSON is one grid's case figures. Rates are fractions (0.93),
// null when there is nothing to divide by (or, for the settlement rate,
// while the store keeps no mediation records).
type caseStatsRowJSON struct {
	GridID         int64    `json:"grid_id"`
	Name           string   `json:"name,omitempty"`
	Level          string   `json:"level,omitempty"`
	Reported       int      `json:"reported"`
	Accepted       int      `json:"accepted"`
	Closed         int      `json:"closed"`
	Refused        int      `json:"refused"`
	ClosedOnTime   int      `json:"closed_on_time"`
	OnTimeRate     *float64 `json:"on_time_rate"`
	ReportedClosed int      `json:"reported_closed"`
	ClosureRate    *float64 `json:"closure_rate"`
	Escalated      int      `json:"escalated"`
	Open           int      `json:"open"`
	Overdue        int      `json:"overdue"`
	Disputes       int      `json:"disputes"`
	// DisputesSettled and SettlementRate count the mediation records
	// opened in the period (as /api/disputes/stats does); null when there
	// are none.
	DisputesSettled *int     `json:"disputes_settled"`
	SettlementRate  *float64 `json:"settlement_rate"`
}

func rate(n, of int) *float64 {
	if of <= 0 {
		return nil
	}
	r := float64(n) / float64(of)
	return &r
}

func caseStatsRowOut(r onemap.CaseStatsRow) caseStatsRowJSON {
	out := caseStatsRowJSON{GridID: r.GridID, Name: r.Name, Level: r.Level, Reported: r.Reported, Accepted: r.Accepted,
		Closed: r.Closed, Refused: r.Refused, ClosedOnTime: r.ClosedOnTime, OnTimeRate: rate(r.ClosedOnTime, r.Closed),
		ReportedClosed: r.ReportedClosed, ClosureRate: rate(r.ReportedClosed, r.Reported), Escalated: r.Escalated,
		Open: r.Open, Overdue: r.Overdue, Disputes: r.Disputes}
	if r.SettledKnown {
		n := r.DisputesSettled
		out.DisputesSettled, out.SettlementRate = &n, rate(n, r.DisputeRecords)
	}
	return out
}

// handleCaseStats answers GET /api/cases/stats?grid=&from=&to=: the case
// figures of a grid (the caller's own by default; the whole county for a
// role that sees it all) and of each of its children, for the drill-down:
// reported, accepted, closed, refused and escalated in [from, to) (RFC 3339
// times or dates, read in China time; by default this month so far), the
// on-time rate of those closed and the closure rate of those reported, and
// the open and overdue cases at the period's end as they stood then ("at":
// the end, or now if the period has not ended). A case counts for the grid
// of its place.
// A grid outside the caller's part of the county is not found.
func (s *Server) handleCaseStats(c *gin.Context) {
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
	caller := callerOf(c)
	scoped := rule.See != onemap.CaseScopeAll && caller.GridID != 0
	var grid int64
	if scoped {
		grid = caller.GridID
	}
	if v := q.Get("grid"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeError(c, s.log, onemap.FieldErrorf("grid", onemap.EINVALID, "grid %.40q: want a grid's id", v))
			return
		}
		if scoped && !s.gridUnder(n, caller.GridID) {
			writeError(c, s.log, onemap.FieldErrorf("grid", onemap.ENOTFOUND, "no grid %d in your part of the county", n))
			return
		}
		grid = n
	}
	now := s.cases.Now()
	from, to, err := statsPeriod(q.Get("from"), q.Get("to"), now)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	st, err := s.cases.CaseStats(c.Request.Context(), grid, from, to)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	children := make([]caseStatsRowJSON, len(st.Children))
	for i, r := range st.Children {
		children[i] = caseStatsRowOut(r)
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"grid": grid, "from": st.From, "to": st.To, "at": st.At,
		"total": caseStatsRowOut(st.Total), "children": children})
}

// statsPeriod reads a period's from and to (RFC 3339, or dates in China
// time: to= a date ends after that day). Without from, the period starts
// at the beginning of now's month in China time; without to, it ends now.
func statsPeriod(fromS, toS string, now time.Time) (time.Time, time.Time, error) {
	from, to, err := parsePeriod(fromS, toS) // period.go
	if err != nil {
		return from, to, err
	}
	if from.IsZero() {
		y, m, _ := now.In(onemap.ChinaTime()).Date()
		from = time.Date(y, m, 1, 0, 0, 0, 0, onemap.ChinaTime())
	}
	if to.IsZero() {
		to = now
	}
	if !to.After(from) {
		return from, to, onemap.FieldErrorf("to", onemap.EINVALID, "the period must end after it starts (from %s, to %s)",
			from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if to.Sub(from) > 3*366*24*time.Hour {
		return from, to, onemap.FieldErrorf("from", onemap.EINVALID, "a period of at most three years")
	}
	return from, to, nil
}
