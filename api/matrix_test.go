package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// TestAccessMatrix calls every route of the router as every role and checks
// each answer against the access policy: no value of a field the role may
// not see (or may see only masked) appears in any answer, no tile carries a
// layer the role may not read, no route fails with a 5xx, and every route
// that changes something refuses the roles that may not change it. A route
// added to the router without a line in this test's tables fails the test,
// so that no new output path escapes the check.
func TestAccessMatrix(t *testing.T) {
	ts := startServer(t, pgtest.DemoURL(t), api.Config{})
	srv, h, db, replica := ts.Server, ts.Handler, ts.DB, ts.Replica
	catalog, policy := onemap.NewCatalog(), onemap.DefaultPolicy()

	snap := replica.Snapshot()
	// A village grid for the viewer, and one sample feature of each layer.
	var village *onemap.Record
	gl, _ := catalog.Layer(onemap.LayerGrids)
	snap.Ascend(onemap.LayerGrids, 0, func(r *onemap.Record) bool {
		if v, _ := r.Value(gl.FieldIndex("level")).(string); v == "village" {
			village = r
			return false
		}
		return true
	})
	browsers := map[onemap.Role]*browser{onemap.RolePublic: newBrowser(t, srv.URL)}
	for _, role := range onemap.Roles() {
		if role == onemap.RolePublic {
			continue
		}
		var grid int64
		if role.BoundToGrid() {
			grid = village.ID
		}
		addAccount(t, db, "m_"+string(role), role, grid)
		b := newBrowser(t, srv.URL)
		if resp, body := b.signIn("m_"+string(role), "password-m_"+string(role)); resp.StatusCode != 200 {
			t.Fatalf("sign in as %s: %d %s", role, resp.StatusCode, body)
		}
		browsers[role] = b
	}

	sample := map[string]*onemap.Record{}
	for _, l := range catalog.Layers() {
		snap.Ascend(l.ID, 0, func(r *onemap.Record) bool { sample[l.ID] = r; return false })
	}
	cam := sample[onemap.LayerCameras].Geometry.(orb.Point)
	hh := sample[onemap.LayerHouseholds]
	tile14 := maptile.At(cam, 14)
	tile10 := maptile.At(cam, 10)
	point := fmt.Sprintf("lon=%f&lat=%f", cam[0], cam[1])
	// A case reported in the village, with a phone only those who handle it
	// (the village's operator, the commander) may read, and a description
	// for the staff who see the village's cases.
	kase := matrixCase(t, db, catalog, snap, village.ID)
	visit := matrixVisit(t, db, snap, kase)
	// The alarm is at a camera of the village when it has one, so that the
	// village's operator is shown it (its name and place, no device code).
	alarmCam := matrixVillageCamera(catalog, snap, village.ID, sample[onemap.LayerCameras])
	alarm := matrixAlarm(t, db, catalog, alarmCam)
	dispute, party := matrixDispute(t, db, kase.Point)
	bbox := fmt.Sprintf("bbox=%f,%f,%f,%f", cam[0]-0.05, cam[1]-0.05, cam[0]+0.05, cam[1]+0.05)

	// reads lists, for each GET route, the requests that exercise it.
	layerPaths := func(pattern string) []string {
		var out []string
		for _, l := range catalog.Layers() {
			p := strings.Replace(pattern, ":layer", l.ID, 1)
			p = strings.Replace(p, ":collectionId", l.ID, 1)
			p = strings.Replace(p, ":featureId", fmt.Sprint(sample[l.ID].ID), 1)
			p = strings.Replace(p, ":id", fmt.Sprint(sample[l.ID].ID), 1)
			out = append(out, p)
		}
		return out
	}
	tilesets := []string{"all", "public"}
	for _, l := range catalog.Layers() {
		tilesets = append(tilesets, l.ID)
	}
	var tilePaths, tileJSONPaths, stylePaths []string
	for _, ts := range tilesets {
		for _, t := range []maptile.Tile{tile10, tile14, maptile.At(cam, 16)} {
			tilePaths = append(tilePaths, fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", ts, t.Z, t.X, t.Y))
		}
		tileJSONPaths = append(tileJSONPaths, "/tiles/"+ts+".json")
		stylePaths = append(stylePaths, "/styles/"+ts+".json")
	}
	// The open cases' tiles (casemap.go), over the case and clustered.
	caseTiles := []string{}
	for _, z := range []maptile.Zoom{10, 16} {
		t := maptile.At(kase.Point, z)
		caseTiles = append(caseTiles, fmt.Sprintf("/tiles/cases/%d/%d/%d.mvt", t.Z, t.X, t.Y))
	}
	tilePaths = append(tilePaths, caseTiles...)
	// The tags' live layer (tags.go) over the demo's tags.
	tagTile := maptile.At(tagHome(t, db), 14)
	tilePaths = append(tilePaths, fmt.Sprintf("/tiles/tags/%d/%d/%d.mvt", tagTile.Z, tagTile.X, tagTile.Y))
	reads := map[string][]string{
		"/healthz": {"/healthz"}, "/readyz": {"/readyz"},
		"/api/region": {"/api/region"}, "/api/layers": {"/api/layers"},
		"/api/regions":                         {"/api/regions"},
		"/api/layers/:layer":                   layerPaths("/api/layers/:layer"),
		"/api/layers/:layer/features":          layerPaths("/api/layers/:layer/features?limit=300&" + bbox),
		"/api/layers/:layer/features/:id":      layerPaths("/api/layers/:layer/features/:id"),
		"/api/nearby":                          {"/api/nearby?k=50&" + point},
		"/api/locate":                          {"/api/locate?" + point},
		"/api/around":                          {"/api/around?radius=3000&" + point},
		"/api/within":                          {"/api/within?limit=300&" + bbox, "/api/within?radius=2000&" + point},
		"/api/search":                          {"/api/search?q=武定", "/api/search?q=" + firstString(hh, catalog, onemap.LayerHouseholds, "responsible_name"), "/api/search?q=5323", "/api/search?q=" + point[4:14] + "," + point[19:28]},
		"/api/stats/grids":                     {"/api/stats/grids"},
		"/api/stats/grids/:id":                 {fmt.Sprintf("/api/stats/grids/%d", village.ID)},
		"/api/session":                         {"/api/session"},
		"/api/accounts":                        {"/api/accounts"},
		"/api/audit":                           {"/api/audit?limit=500", "/api/audit?format=csv&limit=500"},
		"/api/audit/verify":                    {"/api/audit/verify"},
		"/api/households/:id/details":          {fmt.Sprintf("/api/households/%d/details?purpose=visit", hh.ID)},
		"/api/purposes":                        {"/api/purposes"},
		"/api/public/kinds":                    {"/api/public/kinds"},
		"/api/public/locate":                   {"/api/public/locate?" + point},
		"/api/public/places":                   {"/api/public/places"},
		"/api/public/stations":                 {"/api/public/stations?" + point},
		"/api/public/shelters":                 {"/api/public/shelters?" + point},
		"/tiles/:tileset":                      tileJSONPaths,
		"/tiles/:tileset/:z/:x/:y":             tilePaths,
		"/styles/:tileset":                     stylePaths,
		"/ogc":                                 {"/ogc"},
		"/ogc/api":                             {"/ogc/api"},
		"/ogc/conformance":                     {"/ogc/conformance"},
		"/ogc/collections":                     {"/ogc/collections"},
		"/ogc/collections/:collectionId":       layerPaths("/ogc/collections/:collectionId"),
		"/ogc/collections/:collectionId/items": layerPaths("/ogc/collections/:collectionId/items?limit=300&" + bbox),
		"/ogc/collections/:collectionId/items/:featureId": layerPaths("/ogc/collections/:collectionId/items/:featureId"),
		"/api/events":                     nil,                           // a stream: TestAccessMatrix_events
		"/basemap/:z/:x/:y":               {"/basemap/12/3212/1748.png"}, // none configured: 404 (TestBasemap)
		"/basemap.json":                   {"/basemap.json"},             // none configured: 404 (TestBasemap_file)
		"/api/grids":                      {fmt.Sprintf("/api/grids?parent=%d", village.ID), "/api/grids"},
		"/api/grids/:id":                  {fmt.Sprintf("/api/grids/%d", village.ID)},
		"/api/grids/:id/history":          {fmt.Sprintf("/api/grids/%d/history", village.ID)},
		"/api/grids/:id/history/:version": {fmt.Sprintf("/api/grids/%d/history/1", village.ID)},
		"/api/grids/:id/coverage":         {fmt.Sprintf("/api/grids/%d/coverage", village.ID)},
		"/api/grids/export":               {fmt.Sprintf("/api/grids/export?parent=%d", village.ID), fmt.Sprintf("/api/grids/export?parent=%d&format=kml", village.ID)},
		"/api/public/reports/:code":       {"/api/public/reports/" + onemap.FormatTrackingCode(kase.TrackingCode)},
		"/api/cases":                      {"/api/cases", "/api/cases?status=reported,accepted&overdue=false&limit=10", fmt.Sprintf("/api/cases?grid=%d", village.ID)},
		"/api/cases/:id":                  {fmt.Sprintf("/api/cases/%d", kase.ID), fmt.Sprintf("/api/cases/%d?purpose=case", kase.ID)},
		"/api/cases/:id/photos/:sha256":   {fmt.Sprintf("/api/cases/%d/photos/%s", kase.ID, matrixPhoto().SHA256)},
		"/api/public/categories":          {"/api/public/categories"},
		"/api/visits":                     {"/api/visits", fmt.Sprintf("/api/visits?grid=%d&limit=10", village.ID)},
		"/api/cases/export":               {"/api/cases/export", fmt.Sprintf("/api/cases/export?grid=%d&status=reported", village.ID)},
		"/api/cases/stats":                {"/api/cases/stats", fmt.Sprintf("/api/cases/stats?grid=%d&from=2020-01-01", village.ID)},
		"/api/alarms":                     {"/api/alarms", "/api/alarms?status=new,acknowledged&kind=face&limit=10"},
		"/api/alarms/:id":                 {fmt.Sprintf("/api/alarms/%d", alarm)},
		"/api/alarms/:id/snapshot":        {fmt.Sprintf("/api/alarms/%d/snapshot", alarm)}, // none configured: 404 to the commander (TestAlarms_snapshot)
		"/api/ingest/quarantine":          {"/api/ingest/quarantine", "/api/ingest/quarantine?limit=5"},
		// Disputes (disputes_test.go).
		"/api/cases/:id/dispute":           {fmt.Sprintf("/api/cases/%d/dispute", dispute), fmt.Sprintf("/api/cases/%d/dispute?purpose=case", dispute), fmt.Sprintf("/api/cases/%d/dispute", kase.ID)},
		"/api/disputes/stats":              {"/api/disputes/stats", fmt.Sprintf("/api/disputes/stats?grid=%d&from=2020-01-01&to=2100-01-01", village.ID)},
		"/api/reference/dispute-kinds":     {"/api/reference/dispute-kinds"},
		"/api/reference/people-categories": {"/api/reference/people-categories"},
		"/api/reference/case-categories":   {"/api/reference/case-categories"},
		"/api/reference/case-time-limits":  {"/api/reference/case-time-limits"},
		// Risk assessments (assess_test.go).
		"/api/households/:id/assessments":  {fmt.Sprintf("/api/households/%d/assessments", hh.ID)},
		"/api/risk-points/:id/assessments": {fmt.Sprintf("/api/risk-points/%d/assessments", sample[onemap.LayerRiskPoints].ID)},
		"/api/assessments/due":             {"/api/assessments/due", fmt.Sprintf("/api/assessments/due?grid=%d&within=overdue&limit=20", village.ID), "/api/assessments/due?within=week&responsible=x"},
		"/api/reference/assessment-rules":  {"/api/reference/assessment-rules"},
		// Tags (tags_test.go): operators and commanders only; the owner
		// masked for the operator.
		"/api/tags/:code":       {"/api/tags/TAG-000001"},
		"/api/tags/:code/track": {"/api/tags/TAG-000001/track", "/api/tags/TAG-000001/track?from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z"},
		"/api/tags/:code/at":    {"/api/tags/TAG-000001/at?t=02:00"},
		"/api/tags/:code/owner": {"/api/tags/TAG-000001/owner"},
		"/api/geofences":        {"/api/geofences"},
		// Feature edits' history (featureedit_test.go): to the roles that
		// edit the layer.
		"/api/layers/:layer/features/:id/history": layerPaths("/api/layers/:layer/features/:id/history"),
		// The emergency picture and the roster (emergency_test.go, people_test.go).
		"/api/people":   {"/api/people", "/api/people?role=cadre", fmt.Sprintf("/api/people?grid=%d&role=grid_worker,mediator", village.ID), "/api/people?q=" + firstString(hh, catalog, onemap.LayerHouseholds, "responsible_name")},
		"/api/affected": {fmt.Sprintf("/api/affected?zone=%d", sample[onemap.LayerHazardZones].ID)},
	}
	// The case map's reads answer by the case rule: 401 to the public,
	// 403 to a role without cases, an answer to the rest (their part of
	// the county's cases).
	caseStatus := map[onemap.Role]int{onemap.RolePublic: 401, onemap.RolePlanner: 403, onemap.RoleAdmin: 403, onemap.RoleAuditor: 403,
		onemap.RoleViewer: 200, onemap.RoleGridWorker: 200, onemap.RoleOperator: 200, onemap.RoleCommander: 200}
	// The tags' reads: 401 to the public, 403 to roles without tags, an
	// answer to operators and commanders (the owner masked for operators:
	// no stored phone in their answer).
	tagStatus := map[onemap.Role]int{onemap.RolePublic: 401, onemap.RolePlanner: 403, onemap.RoleAdmin: 403, onemap.RoleAuditor: 403,
		onemap.RoleViewer: 403, onemap.RoleGridWorker: 403, onemap.RoleOperator: 200, onemap.RoleCommander: 200}
	ownerPhone := tagOwnerPhone(t, db, "TAG-000001")
	// The operator is bound to the village: TAG-000001 is another's, a tag
	// of the village (if any) its own.
	local := tagOfGrid(t, db, village.ID)
	for _, p := range []string{"/api/tags/TAG-000001", "/api/tags/TAG-000001/owner", "/api/geofences", tilePaths[len(tilePaths)-1],
		"/api/tags/" + local, "/api/tags/" + local + "/owner"} {
		for role, b := range browsers {
			want := tagStatus[role]
			if want == 200 && role == onemap.RoleOperator && strings.Contains(p, "TAG-000001") {
				want = 404
			}
			resp, body := b.do("GET", p, "", "Accept-Encoding", "identity")
			if resp.StatusCode != want && !(want == 200 && resp.StatusCode == 204) {
				t.Errorf("GET %s as %s = %d %.200s, want %d", p, role, resp.StatusCode, body, want)
			}
			if role != onemap.RoleCommander && bytes.Contains(body, []byte(ownerPhone)) {
				t.Errorf("GET %s as %s shows the owner's phone", p, role)
			}
		}
	}
	for _, p := range append([]string{"/api/cases/export", fmt.Sprintf("/api/cases/stats?grid=%d", village.ID)}, caseTiles[1]) {
		for role, b := range browsers {
			if resp, body := b.do("GET", p, ""); resp.StatusCode != caseStatus[role] {
				t.Errorf("GET %s as %s = %d %.200s, want %d", p, role, resp.StatusCode, body, caseStatus[role])
			}
		}

	}
	// The regions answer every role with a list, empty for a role that
	// reads no grids (the auditor) or no region level (TestRegions_tree).
	for role, b := range browsers {
		if resp, body := b.do("GET", "/api/regions", ""); resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"regions":[`)) {
			t.Errorf("GET /api/regions as %s = %d %.200s, want 200 and a list", role, resp.StatusCode, body)
		}
	}
	// writes lists, for each route that changes something, a request and
	// the roles that may make it (they are not made as those roles here).
	type write struct {
		body    string
		allowed []onemap.Role
	}
	area := fmt.Sprintf(`{"geometry":{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]}}`,
		cam[0]-0.02, cam[1]-0.02, cam[0]+0.02, cam[1]-0.02, cam[0], cam[1]+0.02, cam[0]-0.02, cam[1]-0.02)
	editors := []onemap.Role{onemap.RolePlanner, onemap.RoleAdmin}
	caseWorkers := []onemap.Role{onemap.RoleGridWorker, onemap.RoleOperator, onemap.RoleCommander}
	alarmWorkers := []onemap.Role{onemap.RoleOperator, onemap.RoleCommander} // TestAlarms_operators
	featureEditors := []onemap.Role{onemap.RoleOperator, onemap.RolePlanner, onemap.RoleCommander}
	writes := map[string]write{
		"POST /api/within":                     {body: area, allowed: onemap.Roles()}, // a read with a body
		"POST /api/session":                    {body: `{"name":"x","password":"y"}`, allowed: onemap.Roles()},
		"DELETE /api/session":                  {allowed: onemap.Roles()},
		"POST /api/grids":                      {body: `{}`, allowed: editors},
		"POST /api/grids/validate":             {body: `{}`, allowed: editors},
		"POST /api/grids/merge":                {body: `{}`, allowed: editors},
		"POST /api/grids/import":               {body: `{}`, allowed: editors},
		"POST /api/grids/:id/split":            {body: `{}`, allowed: editors},
		"POST /api/grids/:id/restore/:version": {body: `{}`, allowed: editors},
		"PUT /api/grids/:id":                   {body: `{}`, allowed: editors},
		"PATCH /api/grids/:id":                 {body: `{}`, allowed: editors},
		"DELETE /api/grids/:id":                {body: `{}`, allowed: editors},
		"POST /api/public/reports":             {body: `{}`, allowed: onemap.Roles()}, // anyone reports (TestCases_public)
		"POST /api/cases":                      {body: `{}`, allowed: caseWorkers},
		"POST /api/cases/:id/actions":          {body: `{}`, allowed: caseWorkers},
		"POST /api/visits":                     {body: `{}`, allowed: []onemap.Role{onemap.RoleGridWorker}},
		// Machines only, signed (TestIngest_signature): no role's session.
		"POST /api/ingest/events":      {body: `{"events":[]}`},
		"POST /api/ingest/gb28181":     {body: `<Notify/>`},
		"POST /api/alarms/:id/ack":     {allowed: alarmWorkers},
		"POST /api/alarms/:id/dismiss": {body: `{"reason":"x"}`, allowed: alarmWorkers},
		"POST /api/alarms/:id/case":    {body: `{"category":"safety"}`, allowed: alarmWorkers},
		"POST /api/cameras/:id/live":   {allowed: []onemap.Role{onemap.RoleCommander}}, // TestCameras_live
		"PUT /api/cases/:id/dispute":   {body: `{}`, allowed: caseWorkers},
		// Risk assessments: grid workers, operators and commanders record;
		// operators and commanders confirm; admins and commanders keep the
		// rule table.
		"POST /api/households/:id/assessments":  {body: `{}`, allowed: caseWorkers},
		"POST /api/risk-points/:id/assessments": {body: `{}`, allowed: caseWorkers},
		"POST /api/assessments/:id/confirm":     {allowed: []onemap.Role{onemap.RoleOperator, onemap.RoleCommander}},
		"POST /api/assessments/:id/reject":      {allowed: []onemap.Role{onemap.RoleOperator, onemap.RoleCommander}},
		"PUT /api/reference/assessment-rules":   {body: `{}`, allowed: []onemap.Role{onemap.RoleAdmin, onemap.RoleCommander}},
		"POST /api/geofences":                   {body: `{}`, allowed: []onemap.Role{onemap.RoleCommander}},
		"DELETE /api/geofences/:id":             {allowed: []onemap.Role{onemap.RoleCommander}},
		// Feature edits (featureedit_test.go checks each layer as each role).
		"PATCH /api/layers/:layer/features/:id":        {body: `{}`, allowed: featureEditors},
		"POST /api/layers/:layer/features/:id/restore": {body: `{}`, allowed: featureEditors},
		"POST /api/affected":                           {body: area, allowed: onemap.Roles()}, // a read with a body, refused by the policy inside
	}

	var allPaths []string
	// The feed's position now: the case above entered it (migration 0014).
	seqBefore, err := db.LatestSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	markers := sensitiveMarkers(t, db, catalog, policy, snap, village.ID)
	// The village's mediators, police, auxiliary police and legal advisers
	// (not its cadres, whom its staff may call; not its grid workers, whose
	// phones the grids carry).
	var rosterPhones []string
	roster, err := db.ListPeople(context.Background(), onemap.PeopleFilter{Grid: village.ID, Limit: 50, Roles: []onemap.PersonRole{
		onemap.PersonMediator, onemap.PersonVillagePolice, onemap.PersonAuxiliaryPolice, onemap.PersonLegalAdviser}})
	if err != nil || len(roster) == 0 {
		t.Fatalf("the village's roster: %v, %d people", err, len(roster))
	}
	for _, p := range roster {
		rosterPhones = append(rosterPhones, p.Phone)
	}
	for role, m := range markers {
		if role != onemap.RoleCommander && role != onemap.RoleOperator {
			m.values = append(m.values, kase.ReporterPhone)
		}
		if policy.CaseRule(role).See == onemap.CaseScopeNone {
			m.values = append(m.values, kase.Description, matrixPhotoMarker)
		}
		if policy.VisitRule(role).See == onemap.CaseScopeNone {
			m.values = append(m.values, visit.Note)
		}
		// The parties of a dispute: unmasked only to those who mediate it.
		if !policy.CaseRule(role).Mediates() {
			m.values = append(m.values, party.Name, party.Phone, party.IDNumber)
		}
		// An operator is shown the alarms of its part of the county with
		// their camera's name (TestAlarms_operators); its device code stays
		// a marker.
		if role == onemap.RoleOperator {
			name := firstString(alarmCam, catalog, onemap.LayerCameras, "name")
			m.values = slices.DeleteFunc(m.values, func(v string) bool { return v == name })
		}
		// The roster's work phones: only to the roles that see them (people.go).
		if policy.PeopleRule(role).Phones != onemap.FieldAllow {
			m.values = append(m.values, rosterPhones...)
		}
		markers[role] = m
	}
	// Who is shown the alarm: the commander, and the village's operator.
	for role, b := range browsers {
		want := map[onemap.Role]int{onemap.RolePublic: 401, onemap.RoleCommander: 200, onemap.RoleOperator: 200}[role]
		if want == 0 {
			want = 403
		}
		if resp, body := b.do("GET", fmt.Sprintf("/api/alarms/%d", alarm), ""); resp.StatusCode != want {
			t.Errorf("GET /api/alarms/%d as %s = %d %.200s, want %d", alarm, role, resp.StatusCode, body, want)
		}
	}
	for _, route := range api.RoutesForTest(h) {
		key := route.Path
		if route.Method != "GET" {
			key = route.Method + " " + route.Path
			w, ok := writes[key]
			if !ok {
				t.Errorf("route %s has no line in TestAccessMatrix's writes: add one", key)
				continue
			}
			for role, b := range browsers {
				if slices.Contains(w.allowed, role) {
					if key == "POST /api/within" || key == "POST /api/affected" {
						resp, body := b.do("POST", route.Path, w.body, "X-CSRF-Token", b.csrf)
						checkAnswer(t, role, key, resp, body, markers[role])
					}
					continue
				}
				resp, body := b.do(route.Method, pathOf(route.Path, sample), w.body, "X-CSRF-Token", b.csrf)
				if resp.StatusCode != 401 && resp.StatusCode != 403 {
					t.Errorf("%s as %s = %d %.200s, want 401 or 403", key, role, resp.StatusCode, body)
				}
			}
			continue
		}
		paths, ok := reads[key]
		if !ok {
			t.Errorf("route GET %s has no line in TestAccessMatrix's reads: add one", key)
			continue
		}
		for _, p := range paths {
			allPaths = append(allPaths, p)
			for role, b := range browsers {
				resp, body := b.do("GET", p, "", "Accept-Encoding", "identity")
				m := markers[role]
				if strings.Contains(p, "/public") {
					m = markers[onemap.RolePublic] // the public set is the same for everyone
				}
				if strings.HasPrefix(p, "/api/public/shelters") {
					m = publicShelterMarkers(catalog, snap, m) // the view public_shelters (TestPublicShelters_view)
				}
				// The audit trail too: its records show a reader what the
				// policy lets the reader's role see (viewAudit), and the
				// demo seed's edits fill its first pages.
				checkAnswer(t, role, p, resp, body, m)
			}
		}
	}
	// The assessment rule table is the whole deployment's: a commander bound
	// to a region (here the county grid) may not change it, though a
	// commander may (TestAssessRules_prefectureCountyCommander).
	{
		var county int64
		snap.Ascend(onemap.LayerGrids, 0, func(r *onemap.Record) bool {
			if v, _ := r.Value(gl.FieldIndex("level")).(string); v == onemap.LevelCounty {
				county = r.ID
			}
			return county == 0
		})
		addAccount(t, db, "m_commander_county", onemap.RoleCommander, county)
		b := newBrowser(t, srv.URL)
		if resp, body := b.signIn("m_commander_county", "password-m_commander_county"); resp.StatusCode != 200 {
			t.Fatalf("sign in as the county's commander: %d %s", resp.StatusCode, body)
		}
		if resp, body := b.do("PUT", "/api/reference/assessment-rules", `{}`, "X-CSRF-Token", b.csrf); resp.StatusCode != 403 {
			t.Errorf("PUT /api/reference/assessment-rules as a commander bound to the county = %d %.200s, want 403", resp.StatusCode, body)
		}
	}
	// Metrics are served on an address of their own (--metrics-addr), never
	// by the router: /metrics is a 404 to every role.
	for role, b := range browsers {
		if resp, body := b.do("GET", "/metrics", "", "Accept-Encoding", "identity"); resp.StatusCode != 404 || bytes.Contains(body, []byte("onemap_")) {
			t.Errorf("GET /metrics as %s = %d %.200s, want 404", role, resp.StatusCode, body)
		}
	}
	if t.Failed() {
		return
	}

	// Injection attempts through every parameter of every read, as the
	// commander (who may see most): each answer is a 4xx or an answer, never
	// a 5xx, and nothing in the database changes.
	payloads := []string{`' OR '1'='1`, `1; DROP TABLE grids; --`, `../../../../etc/passwd`, "\x00", `<script>alert(1)</script>`,
		strings.Repeat("A", 5000), "-1", "1e309", "NaN", `{"$ne":null}`, "𝕏𝕐", "%27%20OR%201=1"}
	cmd := browsers[onemap.RoleCommander]
	tried := 0
	for _, p := range allPaths {
		u, _ := url.Parse(p)
		segs := strings.Split(u.Path, "/")
		var variants []string
		for name := range u.Query() {
			for _, bad := range payloads {
				q := u.Query()
				q.Set(name, bad)
				variants = append(variants, u.Path+"?"+q.Encode())
			}
		}
		for i := 2; i < len(segs); i++ {
			for _, bad := range payloads[:4] {
				mod := slices.Clone(segs)
				mod[i] = url.PathEscape(bad)
				variants = append(variants, strings.Join(mod, "/")+"?"+u.RawQuery)
			}
		}
		for _, v := range variants {
			tried++
			resp, body := cmd.do("GET", v, "")
			if resp.StatusCode >= 500 {
				t.Errorf("GET %.200s = %d %.200s", v, resp.StatusCode, body)
			}
		}
	}
	// Headers: a forged session, a forged client address, junk tokens.
	for _, h := range [][]string{
		{"Cookie", "onemap_session=' OR '1'='1"}, {"Cookie", "onemap_session=" + strings.Repeat("x", 4000)},
		{"X-Forwarded-For", "127.0.0.1' OR 1=1 --"}, {"X-CSRF-Token", "' OR 1=1"}, {"Accept-Encoding", "gzip;q=abc, ' OR 1"},
		{"If-None-Match", `"' OR 1=1"`}, {"Last-Event-ID", "1 OR 1=1"},
	} {
		for _, p := range []string{"/api/session", "/api/layers", "/tiles/all/14/12852/6988.mvt", "/api/search?q=武定"} {
			tried++
			req, _ := http.NewRequest("GET", srv.URL+p, nil)
			req.Header.Set(h[0], h[1])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Errorf("GET %s with %s: %.40q = %d %.200s", p, h[0], h[1], resp.StatusCode, body)
			}
			if p == "/api/session" && !strings.Contains(string(body), `"role":"public"`) {
				t.Errorf("GET /api/session with %s: %.40q signed someone in: %s", h[0], h[1], body)
			}
		}
	}
	changes, err := db.Changes(context.Background(), seqBefore, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) > 0 {
		t.Errorf("%d injection attempts changed the database: %+v", tried, changes[0])
	}
	t.Logf("%d injection attempts: no 5xx, no change", tried)
}

// pathOf fills a route's parameters with sample ids.
func pathOf(pattern string, sample map[string]*onemap.Record) string {
	parts := strings.Split(pattern, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") {
			parts[i] = fmt.Sprint(sample[onemap.LayerGrids].ID)
		}
	}
	return strings.Join(parts, "/")
}

func firstString(r *onemap.Record, c *onemap.Catalog, layer, field string) string {
	l, _ := c.Layer(layer)
	v, _ := r.Value(l.FieldIndex(field)).(string)
	return v
}

// roleMarkers is what must not appear in any answer to a role.
type roleMarkers struct {
	values []string        // values of fields the role may not see, or only masked
	layers map[string]bool // layers the role may not read (as MVT layers)
}

// sensitiveMarkers collects, for every role, values from the replica that
// the policy keeps from it: every value of a denied or masked field, and
// every value of a feature of a layer (or level) it may not read — less any
// value it may see elsewhere, since a shared word is not a leak.
func sensitiveMarkers(t *testing.T, db *postgis.DB, c *onemap.Catalog, p *onemap.Policy, snap *inmem.Snapshot, viewerGrid int64) map[onemap.Role]roleMarkers {
	out := map[onemap.Role]roleMarkers{}
	// A viewer's part of the county: its grid and the grids below it.
	gl, _ := c.Layer(onemap.LayerGrids)
	parent := map[int64]int64{}
	snap.Ascend(onemap.LayerGrids, 0, func(r *onemap.Record) bool {
		if v, ok := r.Value(gl.FieldIndex("parent_id")).(int64); ok {
			parent[r.ID] = v
		}
		return true
	})
	under := func(id int64) bool {
		for ; id != 0; id = parent[id] {
			if id == viewerGrid {
				return true
			}
		}
		return false
	}
	inPart := func(l *onemap.Layer, r *onemap.Record) bool {
		if l.ID == onemap.LayerGrids {
			return under(r.ID)
		}
		g, _ := r.Value(l.FieldIndex("grid_id")).(int64)
		return under(g)
	}
	for _, role := range onemap.Roles() {
		var hidden []string
		var seen strings.Builder
		// The region's own name and code are no one's secret.
		if reg, err := db.FindRegion(context.Background()); err == nil {
			seen.WriteString(reg.Name + "\x00" + reg.Code + "\x00")
		}
		m := roleMarkers{layers: map[string]bool{}}
		for _, l := range c.Layers() {
			rule := p.Rule(role, l.ID)
			if rule.Access < onemap.LayerRead {
				m.layers[l.ID] = true
			}
			perField := map[string]int{}
			snap.Ascend(l.ID, 0, func(r *onemap.Record) bool {
				visible := rule.Access >= onemap.LayerRead
				if visible && rule.Levels != nil {
					lv, _ := r.Value(l.FieldIndex("level")).(string)
					visible = slices.Contains(rule.Levels, lv)
				}
				if role.BoundToGrid() {
					visible = visible && inPart(&l, r)
				}
				for i, f := range l.Fields {
					s := fmt.Sprint(r.Value(i))
					// An enumerated field's values (levels: red, orange…) and
					// kinds are the catalogue's and the reference tables'
					// vocabulary, in styles and reference routes: no marker.
					if f.Class == onemap.ClassSystem || len(s) < 6 || s == "<nil>" || len(f.Enum) > 0 || f.Name == "kind" {
						continue
					}
					// Counts by kind, level and status are what a role that may
					// count a layer sees of it.
					counted := rule.Access == onemap.LayerCounts && (f.Name == "kind" || f.Name == "level" || f.Name == "status")
					if counted || visible && p.Field(role, &l, f.Name) == onemap.FieldAllow {
						seen.WriteString(s + "\x00")
					} else if perField[f.Name] < 40 {
						perField[f.Name]++
						hidden = append(hidden, s)
					}
				}
				return true
			})
		}
		all := seen.String()
		for _, v := range hidden {
			if !strings.Contains(all, v) {
				m.values = append(m.values, v)
			}
		}
		if role != onemap.RoleCommander && len(m.values) == 0 {
			t.Fatalf("no sensitive values for %s: the test would check nothing", role)
		}
		out[role] = m
	}
	return out
}

// checkAnswer fails the test if an answer to role leaks a marker or fails.
func checkAnswer(t *testing.T, role onemap.Role, what string, resp *http.Response, body []byte, m roleMarkers) {
	t.Helper()
	if resp.StatusCode >= 500 {
		t.Errorf("%s as %s = %d %.300s", what, role, resp.StatusCode, body)
		return
	}
	checkSecurityHeaders(t, what+" as "+string(role), resp)
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		body, _ = io.ReadAll(zr)
	}
	// An answer may echo the question (a search's q); that is no leak.
	if u, err := url.Parse(what); err == nil {
		for _, vs := range u.Query() {
			for _, v := range vs {
				if len(v) >= 6 {
					body = bytes.ReplaceAll(body, []byte(v), nil)
				}
			}
		}
	}
	if strings.Contains(string(body), "rtsp://") {
		t.Errorf("%s as %s: a camera stream address leaked", what, role)
	}
	for _, v := range m.values {
		if bytes.Contains(body, []byte(v)) {
			t.Errorf("%s as %s: the answer holds %q, which the policy keeps from %s", what, role, v, role)
			return
		}
	}
	if resp.Header.Get("Content-Type") == "application/vnd.mapbox-vector-tile" && len(body) > 0 {
		layers, err := mvt.Unmarshal(body)
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		for _, l := range layers {
			if m.layers[l.Name] {
				t.Errorf("%s as %s: the tile holds layer %s", what, role, l.Name)
			}
		}
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		var v any
		if err := json.Unmarshal(body, &v); err == nil {
			for l := range m.layers {
				if hasKeyValue(v, "source-layer", l) || hasKeyValue(v, "id", l) && strings.Contains(what, "/tiles/") {
					t.Errorf("%s as %s: the answer names layer %s", what, role, l)
				}
			}
		}
	}
}

// hasKeyValue reports whether a decoded JSON value holds key: value anywhere.
func hasKeyValue(v any, key, value string) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == key && s == value {
				return true
			}
			if hasKeyValue(x, key, value) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if hasKeyValue(x, key, value) {
				return true
			}
		}
	}
	return false
}

// matrixCase reports a case at a household of the village (a point in one
// of its groups) through the store, as the public would.
func matrixCase(t *testing.T, db *postgis.DB, c *onemap.Catalog, snap *inmem.Snapshot, village int64) *onemap.Case {
	t.Helper()
	gl, _ := c.Layer(onemap.LayerGrids)
	hl, _ := c.Layer(onemap.LayerHouseholds)
	var at orb.Point
	snap.Ascend(onemap.LayerHouseholds, 0, func(r *onemap.Record) bool {
		g, _ := r.Value(hl.FieldIndex("grid_id")).(int64)
		if gr, ok := snap.Get(onemap.LayerGrids, g); ok {
			if p, _ := gr.Value(gl.FieldIndex("parent_id")).(int64); p == village {
				at = r.Geometry.(orb.Point)
				return false
			}
		}
		return true
	})
	ctx := onemap.NewContext(context.Background(), onemap.Caller{Role: onemap.RolePublic, Client: "192.0.2.1"})
	k, err := postgis.NewCases(db, nil).CreateCase(ctx, onemap.CaseReport{Source: onemap.SourcePublic, Category: "safety",
		Description: "矩阵测试：桥下的护栏断了", Point: at, ReporterPhone: "13987654321", Photos: []onemap.Photo{matrixPhoto()}})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// matrixVisit records a visit at the case's place, naming a household, as
// a grid worker of the village would.
func matrixVisit(t *testing.T, db *postgis.DB, snap *inmem.Snapshot, k *onemap.Case) *onemap.Visit {
	t.Helper()
	var hh int64
	snap.Ascend(onemap.LayerHouseholds, 0, func(r *onemap.Record) bool { hh = r.ID; return false })
	ctx := onemap.NewContext(context.Background(), onemap.Caller{Name: "m_walker", Role: onemap.RoleGridWorker, Client: "192.0.2.1"})
	v, err := postgis.NewVisits(db, nil).CreateVisit(ctx, onemap.Visit{At: time.Now(), Point: k.Point,
		Subject: onemap.VisitSubject{Kind: onemap.VisitHousehold, ID: hh}, Note: "矩阵测试：走访时户主不在家"})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// matrixVillageCamera returns a camera of the village (its grid or one
// below), or else fallback.
func matrixVillageCamera(c *onemap.Catalog, snap *inmem.Snapshot, village int64, fallback *onemap.Record) *onemap.Record {
	gl, _ := c.Layer(onemap.LayerGrids)
	cl, _ := c.Layer(onemap.LayerCameras)
	parent := map[int64]int64{}
	snap.Ascend(onemap.LayerGrids, 0, func(r *onemap.Record) bool {
		if v, ok := r.Value(gl.FieldIndex("parent_id")).(int64); ok {
			parent[r.ID] = v
		}
		return true
	})
	found := fallback
	snap.Ascend(onemap.LayerCameras, 0, func(r *onemap.Record) bool {
		g, _ := r.Value(cl.FieldIndex("grid_id")).(int64)
		for ; g != 0; g = parent[g] {
			if g == village {
				found = r
				return false
			}
		}
		return true
	})
	return found
}

// matrixAlarm raises a face alarm at the camera through a source of the
// county, and quarantines an event of an unknown device; it returns the
// alarm's id.
func matrixAlarm(t *testing.T, db *postgis.DB, c *onemap.Catalog, cam *onemap.Record) int64 {
	t.Helper()
	l, _ := c.Layer(onemap.LayerCameras)
	code, _ := cam.Value(l.FieldIndex("device_code")).(string)
	live := postgis.NewLive(db, nil, 0)
	ctx := onemap.NewContext(context.Background(), onemap.Caller{Name: "system", Role: "system"})
	_, verifier := onemap.NewSourceKey()
	src, err := live.AddSource(ctx, onemap.Source{Name: "matrix", Kinds: onemap.EventKinds(), Region: "532329000000"}, verifier)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	got, _, err := live.Ingest(ctx, src, []onemap.IngestEvent{
		{ID: "m1", Kind: onemap.EventFace, Device: code, At: at, Severity: 2, Watchlist: "重点关注人员", Snapshot: "vp://snapshots/matrix"},
		{ID: "m2", Kind: onemap.EventCrowd, Device: "53232999001320009999", At: at, Severity: 3},
	})
	if err != nil || got[0].AlarmID == 0 || got[1].Outcome != onemap.IngestQuarantined {
		t.Fatalf("matrix alarm: %+v %v", got, err)
	}
	return got[0].AlarmID
}

// tagHome returns the home of the demo's TAG-000001.
func tagHome(t *testing.T, db *postgis.DB) orb.Point {
	t.Helper()
	tag, err := postgis.NewTags(db, postgis.TagOptions{}).FindTag(context.Background(), "TAG-000001")
	if err != nil {
		t.Fatal(err)
	}
	return tag.Home
}

// tagOwnerPhone returns the stored phone of a tag's owner (the read is
// audited as the system's).
func tagOwnerPhone(t *testing.T, db *postgis.DB, code string) string {
	t.Helper()
	tags := postgis.NewTags(db, postgis.TagOptions{})
	ctx := onemap.NewContext(context.Background(), onemap.Caller{Name: "system", Role: "system"})
	tag, err := tags.FindTag(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	o, err := tags.ReadTagOwner(ctx, tag, false)
	if err != nil {
		t.Fatal(err)
	}
	return o.Phone
}

// tagOfGrid returns the code of a tag registered in grid (or TAG-999999,
// which no tag has, if none is).
func tagOfGrid(t *testing.T, db *postgis.DB, grid int64) string {
	t.Helper()
	tags, err := postgis.NewTags(db, postgis.TagOptions{}).ListTags(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range tags {
		if tag.GridID == grid {
			return tag.Code
		}
	}
	return "TAG-999999"
}

// publicShelterMarkers returns the public's markers less the values of the
// shelters' public fields: the public page reads those through the view
// public_shelters (migration 0023), though the public role's map does not
// draw the shelters.
func publicShelterMarkers(c *onemap.Catalog, snap *inmem.Snapshot, m roleMarkers) roleMarkers {
	l, _ := c.Layer(onemap.LayerShelters)
	shown := map[string]bool{}
	snap.Ascend(l.ID, 0, func(r *onemap.Record) bool {
		for i, f := range l.Fields {
			if f.Class == onemap.ClassPublic {
				shown[fmt.Sprint(r.Value(i))] = true
			}
		}
		return true
	})
	out := roleMarkers{layers: m.layers}
	for _, v := range m.values {
		if !shown[v] {
			out.values = append(out.values, v)
		}
	}
	return out
}
