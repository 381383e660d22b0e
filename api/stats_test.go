package api_test

import (
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// TestGridStats_followChanges: statistics answer from the tallies the
// replica keeps with each change, so the answer after a change counts it:
// a camera's status changed, a household deleted, a risk point moved to
// another township.
func TestGridStats_followChanges(t *testing.T) {
	url := pgtest.DemoURL(t)
	ts := startServer(t, url, api.Config{AnonymousRole: onemap.RoleCommander})
	county := func() statsJSON {
		t.Helper()
		_, body := get(t, ts.URL+"/api/stats/grids")
		top := decode[statsJSON](t, body)
		if len(top.Children) != 1 {
			t.Fatalf("top: %.300s", body)
		}
		_, body = get(t, ts.URL+"/api/stats/grids/"+itoa(top.Children[0].ID))
		return decode[statsJSON](t, body)
	}
	before := county()
	conn := sqlConn(t, url)
	var from, to int64 // two townships
	if err := conn.QueryRow(t.Context(), `SELECT min(id), max(id) FROM grids WHERE level = 'township'`).Scan(&from, &to); err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{sql: `UPDATE cameras SET status = 'fault' WHERE id = (SELECT min(id) FROM cameras WHERE status = 'online')`},
		{sql: `DELETE FROM households WHERE id = (SELECT min(id) FROM households WHERE level = 'red')`},
		{sql: `UPDATE risk_points SET geom = (SELECT ST_PointOnSurface(geom) FROM grids WHERE id = $2)
			WHERE id = (SELECT min(p.id) FROM risk_points p JOIN grids g ON ST_Intersects(g.geom, p.geom) AND g.id = $1)`, args: []any{from, to}},
	} {
		if _, err := conn.Exec(t.Context(), q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	seq := pgtest.LatestSeq(t, url)
	// The deadline only ends a failing test; a busy machine follows slower.
	for deadline := time.Now().Add(30 * time.Second); ts.Replica.Snapshot().Seq() < seq; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the replica did not reach %d in 30 s", seq)
		}
	}
	after := county()
	cam, hh := after.Grid.Stats["cameras"], after.Grid.Stats["households"]
	if cam.Total != 15128 || cam.Count["fault"] != before.Grid.Stats["cameras"].Count["fault"]+1 ||
		cam.Count["online"] != before.Grid.Stats["cameras"].Count["online"]-1 {
		t.Errorf("cameras after a status change: %+v, before %+v", cam, before.Grid.Stats["cameras"])
	}
	if hh.Total != 2399 || hh.Count["red"] != before.Grid.Stats["households"].Count["red"]-1 {
		t.Errorf("households after a delete: %+v, before %+v", hh, before.Grid.Stats["households"])
	}
	byID := func(s statsJSON) map[int64]int {
		out := map[int64]int{}
		for _, c := range s.Children {
			out[c.ID] = c.Stats["risk_points"].Total
		}
		return out
	}
	b, a := byID(before), byID(after)
	if a[from] != b[from]-1 || a[to] != b[to]+1 || after.Grid.Stats["risk_points"].Total != before.Grid.Stats["risk_points"].Total {
		t.Errorf("a risk point moved from township %d to %d: %d → %d there, %d → %d here", from, to, b[from], a[from], b[to], a[to])
	}
}
