package api_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// TestAudit_detailsAsThePolicySays edits cameras, households, risk points
// and grids of the demo county, then reads the audit trail (JSON and CSV)
// as every role: no value of the edited features that the policy keeps
// from a role (a camera's code and name, a responsible person, a grid
// worker's phone) appears in any answer to that role, while the auditor
// still sees who changed which fields of which feature, and the geometry
// digests.
func TestAudit_detailsAsThePolicySays(t *testing.T) {
	url := pgtest.DemoURL(t)
	ts := startServer(t, url, api.Config{})
	catalog, policy := onemap.NewCatalog(), onemap.DefaultPolicy()
	conn := sqlConn(t, url)
	ctx := t.Context()

	// The features to edit, with their values before and after.
	type edited struct {
		layer   string
		id      int64
		changed []string // fields the edit changes, as the trail must name them
		sql     string   // the edit, of $1 (the id)
	}
	one := func(q string) int64 {
		var id int64
		if err := conn.QueryRow(ctx, q).Scan(&id); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return id
	}
	edits := []edited{
		{onemap.LayerCameras, one(`SELECT min(id) FROM cameras`), []string{"name", "status"},
			`UPDATE cameras SET name = name || '（改）', status = CASE status WHEN 'online' THEN 'fault' ELSE 'online' END WHERE id = $1`},
		{onemap.LayerCameras, one(`SELECT max(id) FROM cameras`), []string{"device_code", "name"}, `DELETE FROM cameras WHERE id = $1`},
		{onemap.LayerHouseholds, one(`SELECT min(id) FROM households WHERE responsible_phone IS NOT NULL`), []string{"responsible_name", "responsible_phone"},
			`UPDATE households SET responsible_name = '欧阳新华', responsible_phone = '13987654321' WHERE id = $1`},
		{onemap.LayerRiskPoints, one(`SELECT min(id) FROM risk_points WHERE responsible_name IS NOT NULL AND description IS NOT NULL`),
			[]string{"description", "responsible_phone"},
			`UPDATE risk_points SET responsible_phone = '13811112222', description = description || '（已复查）' WHERE id = $1`},
		{onemap.LayerGrids, one(`SELECT min(id) FROM grids WHERE level = 'village' AND worker_phone IS NOT NULL`), []string{"worker_name", "worker_phone"},
			`UPDATE grids SET worker_name = '司马新民', worker_phone = '13700001111' WHERE id = $1`},
	}
	// row reads a feature's attributes as the trigger writes them.
	row := func(layer string, id int64) map[string]any {
		var attrs map[string]any
		err := conn.QueryRow(ctx, `SELECT to_jsonb(t) - 'geom' FROM `+pgx.Identifier{layer}.Sanitize()+` t WHERE id = $1`, id).Scan(&attrs)
		if err == pgx.ErrNoRows {
			return nil
		} else if err != nil {
			t.Fatal(err)
		}
		return attrs
	}
	// hidden collects, per role, the string values of the edited features
	// that the policy keeps from the role (denied or masked), before and
	// after the edits: real values of the demo county and the new ones.
	hidden := map[onemap.Role][]string{}
	collect := func(layer string, attrs map[string]any) {
		l, _ := catalog.Layer(layer)
		for _, role := range onemap.Roles() {
			for _, f := range l.Fields {
				v, ok := attrs[f.Name].(string)
				if !ok || len(v) < 6 || f.Class == onemap.ClassSystem {
					continue
				}
				if policy.Field(role, &l, f.Name) != onemap.FieldAllow && !slices.Contains(hidden[role], v) {
					hidden[role] = append(hidden[role], v)
				}
			}
		}
	}
	for _, e := range edits {
		collect(e.layer, row(e.layer, e.id))
		if _, err := conn.Exec(ctx, e.sql, e.id); err != nil {
			t.Fatalf("%s: %v", e.sql, err)
		}
		if after := row(e.layer, e.id); after != nil {
			collect(e.layer, after)
		}
	}
	if len(hidden[onemap.RoleAuditor]) < 10 {
		t.Fatalf("only %d values kept from the auditor: the test would check little", len(hidden[onemap.RoleAuditor]))
	}

	readers := 0
	for _, role := range onemap.Roles() {
		b := newBrowser(t, ts.Server.URL)
		if role != onemap.RolePublic {
			grid := int64(0)
			if role.BoundToGrid() {
				grid = edits[4].id // a village grid
			}
			addAccount(t, ts.DB, "r_"+string(role), role, grid)
			if resp, body := b.signIn("r_"+string(role), "password-r_"+string(role)); resp.StatusCode != 200 {
				t.Fatalf("sign in as %s: %d %s", role, resp.StatusCode, body)
			}
		}
		for _, q := range []string{"action=edit&order=desc&limit=20", "order=desc&limit=200",
			"action=edit&order=desc&limit=20&format=csv", "order=desc&format=csv&limit=200"} {
			resp, body := b.do("GET", "/api/audit?"+q, "")
			if resp.StatusCode != 200 {
				continue
			}
			readers++
			for _, v := range hidden[role] {
				if strings.Contains(string(body), v) {
					t.Errorf("GET /api/audit?%s as %s holds %q, which the policy keeps from %s", q, role, v, role)
				}
			}
			if q != "action=edit&order=desc&limit=20" {
				continue
			}
			// Who changed which fields of what is there.
			var got struct{ Records []onemap.AuditRecord }
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			for _, e := range edits {
				target := fmt.Sprintf("%s/%d", e.layer, e.id)
				i := slices.IndexFunc(got.Records, func(r onemap.AuditRecord) bool { return r.Target == target })
				if i < 0 {
					t.Errorf("as %s: no edit record of %s", role, target)
					continue
				}
				var d struct {
					Op            string
					Changed       []string
					BeforeGeomMD5 string `json:"before_geom_md5"`
					Before, After map[string]any
					AfterGeomMD5  string `json:"after_geom_md5"`
					Version       int
				}
				if err := json.Unmarshal(got.Records[i].Detail, &d); err != nil {
					t.Fatalf("%s: %s", target, got.Records[i].Detail)
				}
				for _, f := range e.changed {
					if !slices.Contains(d.Changed, f) {
						t.Errorf("as %s: the record of %s lists changed fields %v, want %s among them", role, target, d.Changed, f)
					}
				}
				if d.BeforeGeomMD5 == "" || d.Version == 0 || d.Op == "" {
					t.Errorf("as %s: the record of %s lacks its op, version or geometry digest: %s", role, target, got.Records[i].Detail)
				}
				if !policy.CanRead(role, e.layer) && (d.Before != nil || d.After != nil) {
					t.Errorf("as %s: the record of %s holds attributes of a layer the role may not read: %s", role, target, got.Records[i].Detail)
				}
			}
		}
	}
	if readers == 0 {
		t.Fatal("no role read the audit trail")
	}
	// The CSV's detail column is the same view.
	aud := newBrowser(t, ts.Server.URL)
	aud.signIn("r_auditor", "password-r_auditor")
	_, body := aud.do("GET", "/api/audit?action=edit&order=desc&limit=5&format=csv", "")
	lines, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(body), "\ufeff"))).ReadAll()
	if err != nil || len(lines) != 6 || !strings.Contains(lines[1][7], `"changed":[`) {
		t.Errorf("the CSV export of edits: %v %q", err, body)
	}
}
