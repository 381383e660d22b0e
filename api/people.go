package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
)

// peopleStore is what the roster's routes and the emergency picture read
// from the database (postgis/people.go, postgis/zones.go).
type peopleStore interface {
	ListPeople(ctx context.Context, f onemap.PeopleFilter) ([]onemap.Person, error)
	GridWorkerCounts(ctx context.Context) (all, fullTime map[int64]int, err error)
	AuditPeopleRead(ctx context.Context, ids []int64, purpose string) error
	HouseholdMembers(ctx context.Context, ids []int64, target string) (int64, error)
}

// Limits of a roster's page.
const (
	defaultPeople = 100
	maxPeople     = 1000
)

// addPeopleRoutes lists the roster's routes.
func (s *Server) addPeopleRoutes(r *gin.Engine) {
	r.GET("/api/people", s.needPeople, s.handlePeople)
	r.GET("/api/affected", s.needPeople, s.handleAffected)
	r.POST("/api/affected", s.needPeople, s.handleAffected)
}

func (s *Server) needPeople(c *gin.Context) {
	if s.people == nil {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAVAILABLE, "the roster needs the database")) // aborts the chain
	}
}

// personJSON is a person of the roster as the caller may see them.
type personJSON struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Phone     string `json:"phone,omitempty"`
	Role      string `json:"role"`
	FullTime  bool   `json:"full_time"`
	Title     string `json:"title,omitempty"`
	GridID    int64  `json:"grid_id,omitempty"`
	Grid      string `json:"grid,omitempty"`
	StationID int64  `json:"station_id,omitempty"`
	// Callable: the caller's own responsible cadre, whose work phone is
	// shown although the caller's role sees the roster's phones masked.
	Callable  bool `json:"callable,omitempty"`
	Synthetic bool `json:"synthetic"`
}

// peopleAccess is how the caller sees the roster: the policy's rule and, for
// a caller bound to a grid, that grid and those above it (whose cadres it
// may call).
type peopleAccess struct {
	rule  onemap.PeopleRule
	chain []int64 // the caller's grid, then its parent, up to the county; nil when not bound
	scope []int64 // the grids of the caller's part; nil: the county
}

// peopleAccess returns the caller's access to the roster, or the error of
// a caller who may not see it.
func (s *Server) peopleAccess(c *gin.Context) (peopleAccess, error) {
	v := s.view(c)
	rule := s.policy.PeopleRule(v.Role())
	if !rule.See {
		if callerOf(c).Name == "" {
			return peopleAccess{}, onemap.Errorf(onemap.EUNAUTHORIZED, "sign in first")
		}
		return peopleAccess{}, onemap.Errorf(onemap.EFORBIDDEN, "the roster is not shown to the %s role", v.Role())
	}
	a := peopleAccess{rule: rule}
	if g := v.Grid(); g != 0 {
		a.scope = s.scopeGrids(c)
		l, _ := s.catalog.Layer(onemap.LayerGrids)
		at := l.FieldIndex("parent_id")
		full := s.replica.Snapshot()
		for id, n := g, 0; id != 0 && n < 16; n++ {
			a.chain = append(a.chain, id)
			r, ok := full.Get(onemap.LayerGrids, id)
			if !ok {
				break
			}
			id, _ = r.Value(at).(int64)
		}
	}
	return a, nil
}

// show returns a person as the access shows them, and whether their phone
// is shown unmasked.
func (a peopleAccess) show(p onemap.Person) (personJSON, bool) {
	out := personJSON{ID: p.ID, Role: string(p.Role), FullTime: p.FullTime, Title: p.Title, GridID: p.GridID,
		StationID: p.StationID, Synthetic: p.Synthetic}
	name, phone := a.rule.Names, a.rule.Phones
	if phone != onemap.FieldAllow && a.chain != nil && onemap.CadreCallable(p, a.chain) {
		name, phone, out.Callable = onemap.FieldAllow, onemap.FieldAllow, true
	}
	switch name {
	case onemap.FieldAllow:
		out.Name = p.Name
	case onemap.FieldMask:
		out.Name = onemap.Mask(p.Name)
	}
	switch {
	case p.Phone == "":
		return out, false
	case phone == onemap.FieldAllow:
		out.Phone = p.Phone
		return out, true
	case phone == onemap.FieldMask:
		out.Phone = onemap.Mask(p.Phone)
	}
	return out, false
}

// handlePeople answers GET /api/people: the roster (grid=, the grid and
// those below it; role=, a comma list of roster roles; station=; q=, a
// name's part, or a phone's start for the roles that see phones; limit,
// after), as the caller's role may see it: names and phones by
// onemap.PeopleRule, a grid's staff their own part of the county and the
// responsible cadres of their grid and those above it, with those cadres'
// work phones. Every answer that shows a phone unmasked enters the audit
// trail before it is sent.
func (s *Server) handlePeople(c *gin.Context) {
	q := c.Request.URL.Query()
	if err := checkQuery(q, "grid", "role", "station", "q", "limit", "after"); err != nil {
		writeError(c, s.log, err)
		return
	}
	a, err := s.peopleAccess(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	f := onemap.PeopleFilter{Grids: a.scope, Cadres: a.chain, Text: q.Get("q"), PhoneText: a.rule.Phones == onemap.FieldAllow}
	if a.scope != nil && f.Grids == nil {
		f.Grids = []int64{}
	}
	var n int64
	for _, p := range []struct {
		name string
		to   *int64
	}{{"grid", &f.Grid}, {"station", &f.Station}} {
		if n, err = parseInt(p.name, q.Get(p.name), 0, 1, 1<<62); err != nil {
			writeError(c, s.log, onemap.FieldErrorf(p.name, onemap.EINVALID, "%v", err))
			return
		}
		*p.to = n
	}
	for _, r := range splitList(q.Get("role")) {
		role, err := onemap.ParsePersonRole(r)
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		f.Roles = append(f.Roles, role)
	}
	if len([]rune(f.Text)) > 50 {
		writeError(c, s.log, onemap.FieldErrorf("q", onemap.EINVALID, "q: at most 50 characters"))
		return
	}
	limit, err := parseInt("limit", q.Get("limit"), defaultPeople, 1, maxPeople)
	if err == nil {
		f.After, err = parseInt("after", q.Get("after"), 0, 0, 1<<62)
	}
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	f.Limit = int(limit) + 1
	list, err := s.people.ListPeople(c.Request.Context(), f)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	out := gin.H{}
	if len(list) > int(limit) {
		list = list[:limit]
		out["next"] = strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	people, err := s.showPeople(c, a, list)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	out["people"] = people
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

// showPeople returns the people as the access shows them, with their grids'
// names, after recording in the audit trail those whose phones it shows
// unmasked.
func (s *Server) showPeople(c *gin.Context, a peopleAccess, list []onemap.Person) ([]personJSON, error) {
	gl, _ := s.catalog.Layer(onemap.LayerGrids)
	at := gl.FieldIndex("name")
	scoped := s.snapshot(c) // a grid's name only where the caller sees the grid
	out := make([]personJSON, 0, len(list))
	var unmasked []int64
	for _, p := range list {
		pj, shown := a.show(p)
		if shown {
			unmasked = append(unmasked, p.ID)
		}
		if r, ok := scoped.Get(onemap.LayerGrids, p.GridID); ok && s.view(c).Field(onemap.LayerGrids, "name") == onemap.FieldAllow {
			pj.Grid, _ = r.Value(at).(string)
		}
		out = append(out, pj)
	}
	if len(unmasked) > 0 {
		if err := s.people.AuditPeopleRead(c.Request.Context(), unmasked, ""); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// searchPeople returns the people whose name holds text (or, for the roles
// that see phones, whose phone starts with it) as search results, grouped
// as "people", each at its grid; none for a role that may not see the
// roster. Results carry no phone.
func (s *Server) searchPeople(c *gin.Context, snap *inmem.Snapshot, text string, limit int) []searchResultJSON {
	if s.people == nil {
		return nil
	}
	a, err := s.peopleAccess(c)
	if err != nil || a.rule.Names != onemap.FieldAllow {
		return nil // a masked name is not searched: a match would tell what it hides
	}
	f := onemap.PeopleFilter{Grids: a.scope, Cadres: a.chain, Text: text, PhoneText: a.rule.Phones == onemap.FieldAllow, Limit: limit}
	if a.scope != nil && f.Grids == nil {
		f.Grids = []int64{}
	}
	list, err := s.people.ListPeople(c.Request.Context(), f)
	if err != nil {
		s.log.Warn("search: the roster", "err", err)
		return nil
	}
	gl, _ := s.catalog.Layer(onemap.LayerGrids)
	at := gl.FieldIndex("name")
	var out []searchResultJSON
	for _, p := range list {
		r, ok := snap.Get(onemap.LayerGrids, p.GridID)
		if !ok {
			continue
		}
		matched := "name"
		if !strings.Contains(p.Name, strings.TrimSpace(text)) {
			matched = "phone"
		}
		b := r.Geometry.Bound()
		grid, _ := r.Value(at).(string)
		out = append(out, searchResultJSON{Layer: "people", ID: p.ID, Name: p.Name, Kind: string(p.Role), Field: matched,
			Group: "people", Parent: grid, Center: b.Center(), BBox: [4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}})
	}
	return out
}

// addGridWorkers adds to a grid statistics answer the grid workers of the
// roster (grid_workers, of them grid_workers_full_time) in the grid given
// and the grids below it, or without one in the caller's part of the
// county: the wall's figure of grid workers, counted from the roster, not
// from the grids. Without the roster it adds nothing.
func (s *Server) addGridWorkers(c *gin.Context, snap *inmem.Snapshot, grid int64, out gin.H) error {
	if s.people == nil {
		return nil
	}
	all, fullTime, err := s.people.GridWorkerCounts(c.Request.Context())
	if err != nil {
		return err
	}
	l, _ := s.catalog.Layer(onemap.LayerGrids)
	at := l.FieldIndex("parent_id")
	under := func(id int64) bool {
		for n := 0; id != 0 && n < 16; n++ {
			if id == grid {
				return true
			}
			r, ok := snap.Get(l.ID, id)
			if !ok {
				return false
			}
			id, _ = r.Value(at).(int64)
		}
		return false
	}
	var n, ft int
	for id, k := range all {
		if _, ok := snap.Get(l.ID, id); !ok || grid != 0 && !under(id) {
			continue
		}
		n += k
		ft += fullTime[id]
	}
	out["grid_workers"], out["grid_workers_full_time"] = n, ft
	return nil
}
