package api_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

type peopleAnswer struct {
	People []struct {
		ID       int64  `json:"id"`
		Name     string `json:"name"`
		Phone    string `json:"phone"`
		Role     string `json:"role"`
		FullTime bool   `json:"full_time"`
		GridID   int64  `json:"grid_id"`
		Callable bool   `json:"callable"`
	} `json:"people"`
	Next string `json:"next"`
}

// TestPeople reads the roster as each role: the commander sees names and
// phones (each such read audited), a viewer and a grid worker their own
// part with phones masked, but the responsible cadres of their grid and
// those above it with their work phones (audited), no other village's
// cadre; roles without the households see no roster; filters and bad
// input.
func TestPeople(t *testing.T) {
	w := newEmergencyWorld(t)
	audits := func() int64 { return w.scalar(t, `SELECT count(*) FROM audit_log WHERE action = 'people.read'`) }

	// The commander: the village's police officer, phone as stored, audited.
	before := audits()
	path := fmt.Sprintf("/api/people?grid=%d&role=village_police", w.village)
	resp, body := w.commander.do("GET", path, "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d %s", path, resp.StatusCode, body)
	}
	a := decode[peopleAnswer](t, body)
	var phone string
	if err := w.conn.QueryRow(t.Context(), `SELECT phone FROM people WHERE grid_id = $1 AND role = 'village_police'`, w.village).Scan(&phone); err != nil {
		t.Fatal(err)
	}
	if len(a.People) != 1 || a.People[0].Phone != phone || a.People[0].Role != "village_police" {
		t.Errorf("commander: %s, want the village's police officer with %s", body, phone)
	}
	if audits() != before+1 {
		t.Errorf("the commander's read of phones was not audited")
	}
	// Grid workers of the village: several, the full-time ones first by id;
	// the count agrees with the database.
	path = fmt.Sprintf("/api/people?grid=%d&role=grid_worker&limit=1000", w.village)
	resp, body = w.commander.do("GET", path, "")
	want := w.scalar(t, `SELECT count(*) FROM people p JOIN grids g ON g.id = p.grid_id WHERE p.role = 'grid_worker'
		AND (g.id = $1 OR g.parent_id = $1)`, w.village)
	if a := decode[peopleAnswer](t, body); resp.StatusCode != 200 || int64(len(a.People)) != want || want < 2 {
		t.Errorf("grid workers of the village: %d, want %d", len(decode[peopleAnswer](t, body).People), want)
	}

	// The viewer of the village: the cadres it answers to (the village's
	// and the township's), callable, with their phones; everyone else's
	// phone masked.
	before = audits()
	resp, body = w.viewer.do("GET", "/api/people?role=cadre", "")
	if resp.StatusCode != 200 {
		t.Fatalf("viewer: %d %s", resp.StatusCode, body)
	}
	v := decode[peopleAnswer](t, body)
	grids := map[int64]bool{}
	for _, p := range v.People {
		grids[p.GridID] = true
		if !p.Callable || strings.Contains(p.Phone, "*") || p.Phone == "" {
			t.Errorf("viewer's cadre %+v: want callable with the phone", p)
		}
	}
	if len(v.People) != 2 || !grids[w.village] || !grids[w.township] {
		t.Errorf("viewer's cadres %s, want the village's %d and the township's %d", body, w.village, w.township)
	}
	if audits() != before+1 {
		t.Errorf("the viewer's read of the cadres' phones was not audited")
	}
	before = audits()
	resp, body = w.viewer.do("GET", "/api/people?role=grid_worker,mediator,legal_adviser", "")
	v = decode[peopleAnswer](t, body)
	if resp.StatusCode != 200 || len(v.People) == 0 {
		t.Fatalf("viewer's roster: %d %s", resp.StatusCode, body)
	}
	for _, p := range v.People {
		if p.Callable || p.Phone != "" && !strings.Contains(p.Phone, "****") || !strings.Contains(p.Name, "*") {
			t.Errorf("viewer sees %+v unmasked", p)
		}
	}
	if audits() != before {
		t.Errorf("a read of masked phones was audited")
	}
	// Another village's cadre is no one's the viewer may call or see.
	other := w.scalar(t, `SELECT min(id) FROM grids WHERE level = 'village' AND id <> $1`, w.village)
	resp, body = w.viewer.do("GET", fmt.Sprintf("/api/people?grid=%d&role=cadre", other), "")
	if v := decode[peopleAnswer](t, body); resp.StatusCode != 200 || len(v.People) != 0 {
		t.Errorf("viewer reads another village's cadre: %d %s", resp.StatusCode, body)
	}
	// The grid worker of a group calls the cadres above its group.
	resp, body = w.worker.do("GET", "/api/people?role=cadre", "")
	g := decode[peopleAnswer](t, body)
	if resp.StatusCode != 200 || len(g.People) != 2 || !g.People[0].Callable || strings.Contains(g.People[0].Phone, "*") {
		t.Errorf("grid worker's cadres: %d %s", resp.StatusCode, body)
	}

	// Search finds a person by name (the commander: by phone too); the
	// viewer does not find someone outside its part.
	var name, outsider string
	if err := w.conn.QueryRow(t.Context(), `SELECT p.name FROM people p WHERE p.role = 'mediator' ORDER BY p.id LIMIT 1`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	resp, body = w.commander.do("GET", "/api/search?q="+url.QueryEscape(phone), "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"layer":"people"`) || !strings.Contains(string(body), `"matched":"phone"`) {
		t.Errorf("commander's search by phone: %d %.400s", resp.StatusCode, body)
	}
	resp, body = w.commander.do("GET", "/api/search?q="+url.QueryEscape(name), "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"group":"people"`) {
		t.Errorf("commander's search by name: %d %.400s", resp.StatusCode, body)
	}
	if err := w.conn.QueryRow(t.Context(), `SELECT p.name FROM people p JOIN grids g ON g.id = p.grid_id
		WHERE p.role = 'village_police' AND g.id <> $1 AND p.name NOT IN (SELECT p2.name FROM people p2 JOIN grids g2 ON g2.id = p2.grid_id
			WHERE g2.id = $1 OR g2.parent_id = $1 OR g2.id = $2) ORDER BY p.id LIMIT 1`, w.village, w.township).Scan(&outsider); err != nil {
		t.Fatal(err)
	}
	resp, body = w.viewer.do("GET", "/api/search?q="+url.QueryEscape(outsider), "")
	if resp.StatusCode != 200 || strings.Contains(string(body), `"layer":"people"`) {
		t.Errorf("viewer finds %s outside its part: %.400s", outsider, body)
	}
	resp, body = w.viewer.do("GET", "/api/search?q="+url.QueryEscape(phone[:7]), "")
	if resp.StatusCode != 200 || strings.Contains(string(body), `"layer":"people"`) {
		t.Errorf("viewer searches phones it sees masked: %.400s", body)
	}

	// Refusals and bad input.
	for _, tc := range []struct {
		b      *browser
		path   string
		status int
		field  string
	}{
		{w.public, "/api/people", 401, ""},
		{w.planner, "/api/people", 403, ""},
		{w.admin, "/api/people", 403, ""},
		{w.commander, "/api/people?role=sheriff", 400, "role"},
		{w.commander, "/api/people?grid=abc", 400, "grid"},
		{w.commander, "/api/people?limit=0", 400, ""},
		{w.commander, "/api/people?colour=red", 400, ""},
	} {
		if resp, body := tc.b.do("GET", tc.path, ""); resp.StatusCode != tc.status || tc.field != "" && !strings.Contains(string(body), `"field":"`+tc.field+`"`) {
			t.Errorf("GET %s = %d %s, want %d (field %q)", tc.path, resp.StatusCode, body, tc.status, tc.field)
		}
	}
	// Pages: after and next.
	resp, body = w.commander.do("GET", "/api/people?role=mediator&limit=5", "")
	p1 := decode[peopleAnswer](t, body)
	resp2, body2 := w.commander.do("GET", "/api/people?role=mediator&limit=5&after="+p1.Next, "")
	p2 := decode[peopleAnswer](t, body2)
	if resp.StatusCode != 200 || resp2.StatusCode != 200 || len(p1.People) != 5 || len(p2.People) != 5 || p2.People[0].ID <= p1.People[4].ID {
		t.Errorf("pages: %s then %s", body, body2)
	}
}

// TestStats_gridWorkers counts the wall's grid workers from the roster:
// the county's for the commander, the village's part for its viewer.
func TestStats_gridWorkers(t *testing.T) {
	w := newEmergencyWorld(t)
	type stats struct {
		GridWorkers *int `json:"grid_workers"`
		FullTime    *int `json:"grid_workers_full_time"`
	}
	for _, tc := range []struct {
		b    *browser
		path string
		want int64
		ft   int64
	}{
		{w.commander, "/api/stats/grids", w.scalar(t, `SELECT count(*) FROM people WHERE role = 'grid_worker'`),
			w.scalar(t, `SELECT count(*) FROM people WHERE role = 'grid_worker' AND full_time`)},
		{w.viewer, fmt.Sprintf("/api/stats/grids/%d", w.village), w.scalar(t, `SELECT count(*) FROM people p JOIN grids g ON g.id = p.grid_id
			WHERE p.role = 'grid_worker' AND (g.id = $1 OR g.parent_id = $1)`, w.village),
			w.scalar(t, `SELECT count(*) FROM people p JOIN grids g ON g.id = p.grid_id
			WHERE p.role = 'grid_worker' AND p.full_time AND (g.id = $1 OR g.parent_id = $1)`, w.village)},
	} {
		resp, body := tc.b.do("GET", tc.path, "")
		s := decode[stats](t, body)
		if resp.StatusCode != 200 || s.GridWorkers == nil || int64(*s.GridWorkers) != tc.want || int64(*s.FullTime) != tc.ft {
			t.Errorf("GET %s = %d %.200s, want grid_workers %d, full-time %d", tc.path, resp.StatusCode, body, tc.want, tc.ft)
		}
	}
	// More grid workers than grids: the figure is the roster's, not the grids'.
	if n, g := w.scalar(t, `SELECT count(*) FROM people WHERE role = 'grid_worker'`), w.scalar(t, `SELECT count(*) FROM grids`); n <= g {
		t.Errorf("%d grid workers for %d grids", n, g)
	}
}
