package api

import (
	"encoding/json"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// aroundCasesEntry is the open cases near a point in an /api/around
// answer: how many, by status, the overdue ones, and the nearest
// (maxAroundPerSet at most). Written by append as encoding/json writes the
// map asMap gives (keys sorted), without the map.
type aroundCasesEntry struct {
	count, overdue int
	byStatus       counts
	features       []caseBrief
	truncated      bool
}

// aroundCases is the open cases near p that the caller sees, for
// /api/around, its counts kept in the scratch; false for a role without
// cases.
func (s *Server) aroundCases(c *gin.Context, p orb.Point, radius float64, sc *aroundScratch) (*aroundCasesEntry, bool) {
	rule := s.view(c).CaseRule()
	if rule.See == onemap.CaseScopeNone || s.cases == nil {
		return nil, false
	}
	now := s.cases.Now()
	hits := s.replica.Snapshot().CasesWithin(p, radius, s.caseSees(callerOf(c), rule))
	e := &sc.cases
	e.count = len(hits)
	e.byStatus = countTexts(hits, func(h inmem.CaseHit) string { return string(h.Case.Status) })
	for _, h := range hits {
		if h.Case.Overdue(now) {
			e.overdue++
		}
	}
	shown := hits[:min(len(hits), maxAroundPerSet)]
	if len(shown) > 0 {
		e.features = make([]caseBrief, len(shown))
		for i, h := range shown {
			e.features[i] = briefOf(h.Case, now)
			d := h.Distance
			e.features[i].Distance = &d
		}
	}
	e.truncated = len(hits) > len(shown)
	return e, true
}

// asMap returns the entry as the map it stands for.
func (e *aroundCasesEntry) asMap() gin.H {
	features := e.features
	if features == nil {
		features = []caseBrief{}
	}
	return gin.H{"count": e.count, "by_status": e.byStatus.asMap(), "overdue": e.overdue, "features": features,
		"truncated": e.truncated}
}

// MarshalJSON writes the entry as its map.
func (e *aroundCasesEntry) MarshalJSON() ([]byte, error) { return json.Marshal(e.asMap()) }

// append writes the entry as MarshalJSON does.
func (e *aroundCasesEntry) append(b []byte) ([]byte, error) {
	b = append(b, `{"by_status":`...)
	b = appendCounts(b, e.byStatus)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, int64(e.count), 10)
	b = append(b, `,"features":`...)
	if len(e.features) == 0 {
		b = append(b, "[]"...)
	} else {
		out, err := json.Marshal(e.features)
		if err != nil {
			return b, err
		}
		b = append(b, out...)
	}
	b = append(b, `,"overdue":`...)
	b = strconv.AppendInt(b, int64(e.overdue), 10)
	b = append(b, `,"truncated":`...)
	b = strconv.AppendBool(b, e.truncated)
	return append(b, '}'), nil
}
