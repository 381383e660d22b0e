package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/onemapgis/onemap"
)

// TestFeatureRestore_householdDetails: restoring a household's version as a
// commander brings back its personal details as they were at that version
// (audited); an operator's restore, who does not see them, leaves them.
func TestFeatureRestore_householdDetails(t *testing.T) {
	f := newEditFixture(t)
	ctx := context.Background()
	id := f.inside[onemap.LayerHouseholds]
	details := func() (members int, phone, notes string) {
		t.Helper()
		if err := f.conn.QueryRow(ctx, `SELECT coalesce(members, 0), coalesce(head_phone, ''), coalesce(notes, '') FROM household_details WHERE household_id = $1`, id).
			Scan(&members, &phone, &notes); err != nil {
			t.Fatal(err)
		}
		return
	}
	// Version v1 with known details.
	v0 := f.version(t, onemap.LayerHouseholds, id)
	if status, body, _ := f.patch(onemap.RoleCommander, onemap.LayerHouseholds, id, v0,
		`{"properties":{"level":"yellow"},"details":{"members":4,"head_phone":"13800000001","notes":"初次登记"}}`); status != 200 {
		t.Fatalf("first edit: %d %v", status, body)
	}
	v1 := f.version(t, onemap.LayerHouseholds, id)
	// Version v2: the level and the details changed.
	status, body, _ := f.patch(onemap.RoleCommander, onemap.LayerHouseholds, id, v1,
		`{"properties":{"level":"red"},"details":{"members":9,"head_phone":"13900000002","notes":"误录"}}`)
	if status != 200 {
		t.Fatalf("second edit: %d %v", status, body)
	}
	v2 := f.version(t, onemap.LayerHouseholds, id)
	if m, p, n := details(); m != 9 || p != "13900000002" || n != "误录" || v2 != v1+1 {
		t.Fatalf("after the second edit: %d %q %q at version %d", m, p, n, v2)
	}

	// An operator restores v1: the level comes back, the details stay.
	op := f.browsers[onemap.RoleOperator]
	resp, raw := op.do("POST", fmt.Sprintf("/api/layers/households/features/%d/restore", id), fmt.Sprintf(`{"version":%d}`, v1), "X-CSRF-Token", op.csrf, "If-Match", fmt.Sprintf(`"%d"`, v2))
	if resp.StatusCode != 200 {
		t.Fatalf("operator's restore: %d %s", resp.StatusCode, raw)
	}
	if m, p, n := details(); m != 9 || p != "13900000002" || n != "误录" {
		t.Errorf("an operator's restore changed the details it does not see: %d %q %q", m, p, n)
	}
	v3 := f.version(t, onemap.LayerHouseholds, id)
	// The level is wrong again, then the commander restores v1: the details too.
	if status, body, _ := f.patch(onemap.RoleCommander, onemap.LayerHouseholds, id, v3, `{"properties":{"level":"red"}}`); status != 200 {
		t.Fatalf("third edit: %d %v", status, body)
	}
	v4 := f.version(t, onemap.LayerHouseholds, id)
	cmd := f.browsers[onemap.RoleCommander]
	resp, raw = cmd.do("POST", fmt.Sprintf("/api/layers/households/features/%d/restore", id), fmt.Sprintf(`{"version":%d,"reason":"误改"}`, v1), "X-CSRF-Token", cmd.csrf, "If-Match", fmt.Sprintf(`"%d"`, v4))
	var restored struct{ Properties map[string]any }
	json.Unmarshal(raw, &restored)
	if resp.StatusCode != 200 || restored.Properties["level"] != "yellow" {
		t.Fatalf("commander's restore: %d %s", resp.StatusCode, raw)
	}
	if m, p, n := details(); m != 4 || p != "13800000001" || n != "初次登记" {
		t.Errorf("after the commander's restore of version %d: details %d %q %q, want 4 13800000001 初次登记", v1, m, p, n)
	}
	// Audited as a details edit, naming the fields, not their values.
	recs, err := f.ts.DB.ListAudit(ctx, onemap.AuditFilter{Action: onemap.AuditHouseholdEdit, Limit: 10})
	if err != nil || len(recs) == 0 {
		t.Fatalf("audit: %v %d", err, len(recs))
	}
	var detail struct {
		Fields []string
		Reason string
	}
	found := false
	for _, r := range recs {
		json.Unmarshal(r.Detail, &detail)
		if detail.Reason != "误改" {
			continue
		}
		found = true
		if r.Actor != "e_commander" || fmt.Sprint(detail.Fields) != "[head_phone members notes]" {
			t.Errorf("the restore's audit record: %+v %s", r, r.Detail)
		}
	}
	if !found {
		t.Errorf("no audit record of the restored details among %d", len(recs))
	}
	// The restored details are those of the new version from now on:
	// restoring the version before the restore brings the others back.
	v5 := f.version(t, onemap.LayerHouseholds, id)
	resp, raw = cmd.do("POST", fmt.Sprintf("/api/layers/households/features/%d/restore", id), fmt.Sprintf(`{"version":%d}`, v4), "X-CSRF-Token", cmd.csrf, "If-Match", fmt.Sprintf(`"%d"`, v5))
	if resp.StatusCode != 200 {
		t.Fatalf("restore of version %d: %d %s", v4, resp.StatusCode, raw)
	}
	if m, p, _ := details(); m != 9 || p != "13900000002" {
		t.Errorf("after restoring version %d: %d %q, want 9 13900000002", v4, m, p)
	}
}
