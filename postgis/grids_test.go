package postgis_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// gridGeom evaluates a SQL geometry expression (over the demo's grids) to a
// geometry.
func gridGeom(t *testing.T, db *postgis.DB, sql string, args ...any) orb.Geometry {
	t.Helper()
	var b []byte
	expr, from, _ := strings.Cut(sql, " FROM ")
	if err := db.QueryRowForTest(context.Background(), `SELECT ST_AsBinary(`+expr+`) FROM `+from, args...).Scan(&b); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	g, err := wkb.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// twoNeighbours returns two adjacent group grids of one village.
func twoNeighbours(t *testing.T, db *postgis.DB) (a, b int64) {
	t.Helper()
	err := db.QueryRowForTest(context.Background(), `SELECT a.id, b.id FROM grids a JOIN grids b
		ON a.parent_id = b.parent_id AND a.id < b.id AND ST_Intersects(a.geom, b.geom)
		WHERE a.level = 'group' AND ST_Length(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom))) > 0.005
		  AND (SELECT count(*) FROM grids c WHERE c.parent_id = a.parent_id) >= 4
		ORDER BY a.id LIMIT 1`).Scan(&a, &b)
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

func problemsOf(t *testing.T, err error) []onemap.GridProblem {
	t.Helper()
	var pe *onemap.GridProblemsError
	if !errors.As(err, &pe) || onemap.ErrorCode(err) != onemap.EINVALID {
		t.Fatalf("error %v, want EINVALID with grid problems", err)
	}
	return pe.Problems
}

func coverageClean(t *testing.T, db *postgis.DB, parent int64) *onemap.GridCoverage {
	t.Helper()
	c, err := db.GridCoverageOf(context.Background(), parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Gaps)+len(c.Overlaps)+len(c.Outside) > 0 {
		t.Errorf("coverage of grid %d: %d gaps, %d overlaps, %d outside: %+v", parent, len(c.Gaps), len(c.Overlaps), len(c.Outside), c)
	}
	return c
}

func TestGridUpdate_versions(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.DemoURL(t))
	a, _ := twoNeighbours(t, db)
	g, err := db.FindGrid(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if g.Version != 1 || g.AreaM2 <= 0 {
		t.Fatalf("grid %d: version %d area %f", a, g.Version, g.AreaM2)
	}
	up, err := db.UpdateGrid(ctx, a, 1, onemap.GridChange{Properties: map[string]any{"name": "新名字", "worker_phone": nil}}, "planner1", "rename", onemap.GridAudit{})
	if err != nil {
		t.Fatal(err)
	}
	if up.Version != 2 || up.Properties["name"] != "新名字" || up.Properties["worker_phone"] != nil || up.Properties["updated_by"] != "planner1" {
		t.Errorf("after update: version %d props %v", up.Version, up.Properties)
	}
	if !orb.Equal(up.Geometry, g.Geometry) {
		t.Errorf("an attribute edit changed the geometry")
	}
	// A second edit based on version 1 is stale.
	_, err = db.UpdateGrid(ctx, a, 1, onemap.GridChange{Properties: map[string]any{"name": "另一个"}}, "planner2", "rename", onemap.GridAudit{})
	se := onemap.ConflictOf(err)
	if cur, _ := se.Current.(*onemap.Grid); se == nil || onemap.ErrorCode(err) != onemap.ECONFLICT || se.Version != 2 || cur.Properties["name"] != "新名字" {
		t.Fatalf("stale update: %v, want ECONFLICT with the current version 2", err)
	}
	h, err := db.GridHistory(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0].Version != 2 || h[0].ChangedBy != "planner1" || h[0].Reason != "rename" || h[1].Properties["name"] == "新名字" {
		t.Errorf("history: %+v", h)
	}
	// Restore version 1: a new version 3 with the old name.
	r, err := db.RestoreGrid(ctx, a, 1, 2, "planner1", "restore v1", onemap.GridAudit{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != 3 || r.Properties["name"] != g.Properties["name"] || r.Properties["worker_phone"] != g.Properties["worker_phone"] {
		t.Errorf("restored: version %d, props %v; want version 3 and %v", r.Version, r.Properties, g.Properties)
	}
	v1, err := db.GridVersionAt(ctx, a, 1)
	if err != nil || !orb.Equal(v1.Geometry, g.Geometry) {
		t.Errorf("version 1: %v", err)
	}
}

func TestGridUpdate_refused(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.DemoURL(t))
	a, b := twoNeighbours(t, db)

	t.Run("overlap", func(t *testing.T) {
		// Grow a into b without clipping against siblings.
		g := gridGeom(t, db, `ST_Multi(ST_Union(a.geom, ST_Intersection(ST_Buffer(a.geom, 0.002), b.geom))) FROM grids a, grids b WHERE a.id = $1 AND b.id = $2`, a, b)
		_, err := db.UpdateGrid(ctx, a, 1, onemap.GridChange{Geometry: g, Clip: onemap.GridClip{Parent: true}}, "planner", "grow", onemap.GridAudit{})
		ps := problemsOf(t, err)
		found := false
		for _, p := range ps {
			if p.Kind == "overlap" && p.With == b && p.AreaM2 > 100 && len(p.Geometry) > 20 {
				found = true
			}
		}
		if !found {
			t.Errorf("problems %+v, want an overlap with %d and its geometry", ps, b)
		}
		if cur, _ := db.FindGrid(ctx, a); cur.Version != 1 {
			t.Errorf("a refused save wrote version %d", cur.Version)
		}
		// With siblings clipped the same geometry saves, and only adds
		// the part no sibling holds.
		up, err := db.UpdateGrid(ctx, a, 1, onemap.GridChange{Geometry: g, Clip: onemap.GridClip{Parent: true, Siblings: true}}, "planner", "grow clipped", onemap.GridAudit{})
		if err != nil {
			t.Fatal(err)
		}
		if up.Version != 2 {
			t.Errorf("version %d", up.Version)
		}
	})

	t.Run("outside parent", func(t *testing.T) {
		g := gridGeom(t, db, `ST_Multi(ST_Buffer(geom, 0.05)) FROM grids WHERE id = $1`, b)
		_, err := db.UpdateGrid(ctx, b, 1, onemap.GridChange{Geometry: g}, "planner", "grow", onemap.GridAudit{})
		kinds := map[string]bool{}
		for _, p := range problemsOf(t, err) {
			kinds[p.Kind] = true
		}
		if !kinds["outside_parent"] || !kinds["overlap"] {
			t.Errorf("problem kinds %v, want outside_parent and overlap", kinds)
		}
	})

	t.Run("self-intersection", func(t *testing.T) {
		c := gridGeom(t, db, `ST_Centroid(geom) FROM grids WHERE id = $1`, b).(orb.Point)
		d := 0.0005
		bowtie := orb.Polygon{{{c[0] - d, c[1] - d}, {c[0] + d, c[1] + d}, {c[0] + d, c[1] - d}, {c[0] - d, c[1] + d}, {c[0] - d, c[1] - d}}}
		_, err := db.UpdateGrid(ctx, b, 1, onemap.GridChange{Geometry: bowtie}, "planner", "bowtie", onemap.GridAudit{})
		ps := problemsOf(t, err)
		if len(ps) != 1 || ps[0].Kind != "invalid" || len(ps[0].Geometry) == 0 {
			t.Errorf("problems %+v, want one invalid with its point", ps)
		}
	})

	t.Run("database guard", func(t *testing.T) {
		// A writer that skips the checks meets the trigger at commit.
		err := db.ExecForTest(ctx, `UPDATE grids SET geom = (SELECT geom FROM grids WHERE id = $2) WHERE id = $1`, a, b)
		if err == nil {
			t.Fatal("an overlapping update committed")
		}
		if onemap.ErrorCode(err) == "" {
			t.Errorf("error %v", err)
		}
	})
}

func TestGridSplitMerge(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.DemoURL(t))
	a, _ := twoNeighbours(t, db)
	orig, err := db.FindGrid(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	parent := int64(orig.Properties["parent_id"].(float64))
	// A line across the grid through its centre, from outside to outside.
	b := orig.Geometry.Bound()
	c := gridGeom(t, db, `ST_PointOnSurface(geom) FROM grids WHERE id = $1`, a).(orb.Point)
	line := orb.LineString{{b.Min[0] - 0.01, c[1]}, {b.Max[0] + 0.01, c[1] + 0.0001}}
	if _, err := db.SplitGrid(ctx, a, 2, line, nil, "planner", "split", onemap.GridAudit{}); onemap.ErrorCode(err) != onemap.ECONFLICT {
		t.Errorf("split at a wrong version: %v", err)
	}
	pieces, err := db.SplitGrid(ctx, a, 1, line, []onemap.GridPiece{{Name: "北片"}}, "planner", "split", onemap.GridAudit{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pieces) < 2 || pieces[0].ID != a || pieces[0].Version != 2 || pieces[1].Properties["name"] != "北片" {
		t.Fatalf("pieces: %d, first %d v%d", len(pieces), pieces[0].ID, pieces[0].Version)
	}
	var sum float64
	ids, versions := []int64{}, []int{}
	for _, p := range pieces {
		sum += p.AreaM2
		ids, versions = append(ids, p.ID), append(versions, p.Version)
	}
	if math.Abs(sum-orig.AreaM2)/orig.AreaM2 > 1e-4 {
		t.Errorf("pieces add up to %f m², the grid was %f m²", sum, orig.AreaM2)
	}
	coverageClean(t, db, parent)

	// Points follow their grid.
	var stray int
	if err := db.QueryRowForTest(ctx, `SELECT count(*) FROM cameras f JOIN grids g ON g.id = f.grid_id
		WHERE NOT ST_Intersects(g.geom, f.geom)`).Scan(&stray); err != nil || stray != 0 {
		t.Errorf("%d cameras outside their grid (%v)", stray, err)
	}

	if _, err := db.MergeGrids(ctx, ids, append([]int{1}, versions[1:]...), "", "planner", "merge", onemap.GridAudit{}); onemap.ErrorCode(err) != onemap.ECONFLICT {
		t.Errorf("merge at a wrong version: %v", err)
	}
	m, err := db.MergeGrids(ctx, ids, versions, "", "planner", "merge", onemap.GridAudit{})
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != a || math.Abs(m.AreaM2-orig.AreaM2)/orig.AreaM2 > 1e-4 {
		t.Errorf("merged: id %d area %f, want %d and %f within 0.01%%", m.ID, m.AreaM2, a, orig.AreaM2)
	}
	if m.Properties["households"] != orig.Properties["households"] {
		t.Errorf("households %v, want %v", m.Properties["households"], orig.Properties["households"])
	}
	coverageClean(t, db, parent)

	// Not adjacent grids do not merge.
	var far int64
	if err := db.QueryRowForTest(ctx, `SELECT o.id FROM grids o, grids g WHERE g.id = $1 AND o.parent_id = g.parent_id
		AND o.id <> g.id AND NOT ST_DWithin(o.geom, g.geom, 0.0001) LIMIT 1`, a).Scan(&far); err == nil {
		if _, err := db.MergeGrids(ctx, []int64{a, far}, []int{m.Version, 1}, "", "planner", "merge", onemap.GridAudit{}); onemap.ErrorCode(err) != onemap.EINVALID {
			t.Errorf("merge of grids apart: %v", err)
		}
	}
}

func TestGridCreate_snaps(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.DemoURL(t))
	a, _ := twoNeighbours(t, db)
	orig, _ := db.FindGrid(ctx, a)
	parent := int64(orig.Properties["parent_id"].(float64))
	// Make room: points leave the grid, then it goes.
	if err := db.DeleteGrid(ctx, a, 2, "planner", "remove", onemap.GridAudit{}); onemap.ErrorCode(err) != onemap.ECONFLICT {
		t.Errorf("delete at a wrong version: %v", err)
	}
	if err := db.DeleteGrid(ctx, a, 1, "planner", "remove", onemap.GridAudit{}); err != nil {
		t.Fatal(err)
	}
	c, err := db.GridCoverageOf(ctx, parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Gaps) != 1 || math.Abs(c.Gaps[0].AreaM2-orig.AreaM2)/orig.AreaM2 > 1e-3 {
		t.Fatalf("coverage after delete: %+v", c.Gaps)
	}
	// Redraw it with every vertex off by up to 0.03 m: the save snaps it
	// back onto the neighbours' vertices.
	mp := orig.Geometry.(orb.MultiPolygon)
	drawn := orb.MultiPolygon{}
	for _, poly := range mp {
		np := orb.Polygon{}
		for _, ring := range poly {
			nr := orb.Ring{}
			for i, p := range ring {
				d := 3e-7 * float64(i%3-1)
				nr = append(nr, orb.Point{p[0] + d, p[1] - d})
			}
			nr[len(nr)-1] = nr[0]
			np = append(np, nr)
		}
		drawn = append(drawn, np)
	}
	props := map[string]any{}
	for _, k := range []string{"level", "parent_id", "code", "name", "worker_name", "worker_phone", "households", "population"} {
		props[k] = orig.Properties[k]
	}
	g, err := db.CreateGrid(ctx, onemap.GridChange{Properties: props, Geometry: drawn, Clip: onemap.GridClip{Parent: true}}, "planner", "redraw", onemap.GridAudit{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Version != 1 || math.Abs(g.AreaM2-orig.AreaM2) > 1 {
		t.Errorf("created: v%d area %f, want %f", g.Version, g.AreaM2, orig.AreaM2)
	}
	coverageClean(t, db, parent)
}

func TestGridUpdate_concurrent(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.DemoURL(t))
	a, b := twoNeighbours(t, db)
	parent := func() int64 { g, _ := db.FindGrid(ctx, a); return int64(g.Properties["parent_id"].(float64)) }()

	t.Run("same grid", func(t *testing.T) {
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				_, errs[i] = db.UpdateGrid(ctx, a, 1, onemap.GridChange{Properties: map[string]any{"population": i}}, "planner", "count", onemap.GridAudit{})
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case onemap.ErrorCode(err) != onemap.ECONFLICT:
				t.Errorf("concurrent edit: %v", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d of %d editors of version 1 succeeded, want 1", ok, n)
		}
	})

	t.Run("neighbours", func(t *testing.T) {
		// Each grows into the other: at most one may win, and what is
		// stored never overlaps.
		ga := gridGeom(t, db, `ST_Multi(ST_Union(a.geom, ST_Intersection(ST_Buffer(a.geom, 0.002), b.geom))) FROM grids a, grids b WHERE a.id = $1 AND b.id = $2`, a, b)
		gb := gridGeom(t, db, `ST_Multi(ST_Union(b.geom, ST_Intersection(ST_Buffer(b.geom, 0.002), a.geom))) FROM grids a, grids b WHERE a.id = $1 AND b.id = $2`, a, b)
		// Shrink each first (at the other's expense there is nothing to
		// clip), so that each save alone is valid: a gives up nothing, b
		// gives up what a takes.
		cur, _ := db.FindGrid(ctx, a)
		var wg sync.WaitGroup
		var errA, errB error
		wg.Go(func() {
			_, errA = db.UpdateGrid(ctx, a, cur.Version, onemap.GridChange{Geometry: ga, Clip: onemap.GridClip{Parent: true}}, "p1", "grow", onemap.GridAudit{})
		})
		wg.Go(func() {
			_, errB = db.UpdateGrid(ctx, b, 1, onemap.GridChange{Geometry: gb, Clip: onemap.GridClip{Parent: true}}, "p2", "grow", onemap.GridAudit{})
		})
		wg.Wait()
		if errA == nil && errB == nil {
			t.Errorf("both neighbours grew into each other")
		}
		for _, err := range []error{errA, errB} {
			if err != nil && onemap.ErrorCode(err) != onemap.EINVALID {
				t.Errorf("error %v, want EINVALID", err)
			}
		}
		coverageOverlaps(t, db, parent)
	})

	t.Run("many neighbours", func(t *testing.T) {
		// Every child of the village moves its vertices a little at once,
		// with siblings clipped: no update is lost and nothing overlaps.
		kids, err := db.GridChildren(ctx, parent)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, len(kids))
		geoms := make([]orb.Geometry, len(kids))
		for i, k := range kids {
			geoms[i] = gridGeom(t, db, `ST_Multi(ST_Buffer(geom, 0.0003, 'join=mitre')) FROM grids WHERE id = $1`, k.ID)
		}
		for i, k := range kids {
			wg.Go(func() {
				g := geoms[i]
				_, errs[i] = db.UpdateGrid(ctx, k.ID, k.Version, onemap.GridChange{Geometry: g, Clip: onemap.GridClip{Parent: true, Siblings: true}}, "p", "nudge", onemap.GridAudit{})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil && onemap.ErrorCode(err) != onemap.EINVALID {
				t.Errorf("grid %d: %v", kids[i].ID, err)
			}
			after, _ := db.FindGrid(ctx, kids[i].ID)
			if err == nil && after.Version != kids[i].Version+1 {
				t.Errorf("grid %d: saved but at version %d", kids[i].ID, after.Version)
			}
		}
		coverageOverlaps(t, db, parent)
	})
}

func coverageOverlaps(t *testing.T, db *postgis.DB, parent int64) {
	t.Helper()
	c, err := db.GridCoverageOf(context.Background(), parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Overlaps)+len(c.Outside) > 0 {
		t.Errorf("grid %d: overlaps %+v, outside %+v", parent, c.Overlaps, c.Outside)
	}
	var bad int
	if err := db.QueryRowForTest(context.Background(), `SELECT count(*) FROM grids WHERE NOT ST_IsValid(geom)`).Scan(&bad); err != nil || bad > 0 {
		t.Errorf("%d invalid grids (%v)", bad, err)
	}
}

// failGridAudit makes the database refuse every grid record of the audit
// trail, as a failing disk or a full table would.
func failGridAudit(t *testing.T, db *postgis.DB) {
	t.Helper()
	err := db.ExecForTest(context.Background(), `
		CREATE FUNCTION test_fail_grid_audit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.action LIKE 'grid.%' THEN
				RAISE EXCEPTION 'the audit trail is down';
			END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER test_fail_grid_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION test_fail_grid_audit();`)
	if err != nil {
		t.Fatal(err)
	}
}

// gridState sums up every grid's id and version and the history, the change
// feed and the audit trail: it changes with any write.
func gridState(t *testing.T, db *postgis.DB) string {
	t.Helper()
	var s string
	if err := db.QueryRowForTest(context.Background(), `SELECT concat_ws(' ',
		(SELECT string_agg(id || 'v' || version, ',' ORDER BY id) FROM grids),
		(SELECT count(*) FROM feature_history), (SELECT count(*) FROM change_feed), (SELECT count(*) FROM audit_log))`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// auditOf returns the audit records of action on target: their details.
func auditOf(t *testing.T, db *postgis.DB, action, target string) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := db.QueryRowForTest(context.Background(), `SELECT coalesce(jsonb_agg(detail ORDER BY seq), '[]') FROM audit_log
		WHERE action = $1 AND target = $2`, action, target).Scan(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGridAudit_inTheEditsTransaction: every grid write appends its audit
// record in its own transaction: the record is there as soon as the write
// returns, and when the record cannot be written the edit is not either.
func TestGridAudit_inTheEditsTransaction(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.DemoURL(t))
	a, b := twoNeighbours(t, db)
	audit := func(action string) onemap.GridAudit {
		return onemap.GridAudit{Action: action, Detail: map[string]any{"reason": "test"}}
	}
	target := func(id int64) string { return "grids/" + strconv.FormatInt(id, 10) }

	up, err := db.UpdateGrid(ctx, a, 1, onemap.GridChange{Properties: map[string]any{"name": "甲"}}, "planner", "rename", audit(onemap.AuditGridUpdate))
	if err != nil {
		t.Fatal(err)
	}
	if recs := auditOf(t, db, onemap.AuditGridUpdate, target(a)); len(recs) != 1 || recs[0]["version"] != 2.0 || recs[0]["reason"] != "test" {
		t.Errorf("after an update: records %v, want one with version 2 and the caller's detail", recs)
	}
	r, err := db.RestoreGrid(ctx, a, 1, up.Version, "planner", "restore", audit(onemap.AuditGridRestore))
	if err != nil {
		t.Fatal(err)
	}
	if recs := auditOf(t, db, onemap.AuditGridRestore, target(a)); len(recs) != 1 || recs[0]["version"] != float64(r.Version) {
		t.Errorf("after a restore: records %v, want one with version %d", recs, r.Version)
	}

	// b makes room for a grid to be created in its place; c is another
	// neighbour of a's.
	orig, _ := db.FindGrid(ctx, b)
	if err := db.DeleteGrid(ctx, b, 1, "planner", "room", audit(onemap.AuditGridDelete)); err != nil {
		t.Fatal(err)
	}
	if recs := auditOf(t, db, onemap.AuditGridDelete, target(b)); len(recs) != 1 {
		t.Errorf("after a delete: records %v, want one", recs)
	}
	var c int64
	if err := db.QueryRowForTest(ctx, `SELECT c.id FROM grids a JOIN grids c ON c.parent_id = a.parent_id AND c.id <> a.id
		WHERE a.id = $1 AND ST_Length(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(c.geom))) > 0.002 ORDER BY c.id LIMIT 1`, a).Scan(&c); err != nil {
		t.Fatal(err)
	}
	cg, _ := db.FindGrid(ctx, c)

	// The audit trail refuses grid records: every write fails whole.
	failGridAudit(t, db)
	before := gridState(t, db)
	bd := cg.Geometry.Bound()
	p := gridGeom(t, db, `ST_PointOnSurface(geom) FROM grids WHERE id = $1`, c).(orb.Point)
	line := orb.LineString{{bd.Min[0] - 0.01, p[1]}, {bd.Max[0] + 0.01, p[1] + 0.0001}}
	props := map[string]any{}
	for _, k := range []string{"level", "parent_id", "code", "name", "worker_name", "worker_phone"} {
		props[k] = orig.Properties[k]
	}
	writes := map[string]func() error{
		"update": func() error {
			_, err := db.UpdateGrid(ctx, c, cg.Version, onemap.GridChange{Properties: map[string]any{"name": "乙"}}, "planner", "rename", audit(onemap.AuditGridUpdate))
			return err
		},
		"restore": func() error {
			_, err := db.RestoreGrid(ctx, a, 2, r.Version, "planner", "restore", audit(onemap.AuditGridRestore))
			return err
		},
		"split": func() error {
			_, err := db.SplitGrid(ctx, c, cg.Version, line, nil, "planner", "split", audit(onemap.AuditGridSplit))
			return err
		},
		"merge": func() error {
			_, err := db.MergeGrids(ctx, []int64{a, c}, []int{r.Version, cg.Version}, "", "planner", "merge", audit(onemap.AuditGridMerge))
			return err
		},
		"delete": func() error {
			return db.DeleteGrid(ctx, c, cg.Version, "planner", "delete", audit(onemap.AuditGridDelete))
		},
		"create": func() error {
			_, err := db.CreateGrid(ctx, onemap.GridChange{Properties: props, Geometry: orig.Geometry, Clip: onemap.GridClip{Parent: true}},
				"planner", "create", audit(onemap.AuditGridCreate))
			return err
		},
		"import": func() error {
			_, err := db.ImportGrids(ctx, "test.geojson", []onemap.GridImport{{Where: "feature 1", Geometry: orig.Geometry, Properties: props}},
				onemap.GridClip{Parent: true}, "planner", "import", audit(onemap.AuditGridImport))
			return err
		},
	}
	for name, write := range writes {
		err := write()
		if err == nil || !strings.Contains(err.Error(), "the audit trail is down") {
			t.Errorf("%s with the audit trail down: %v, want the audit's error", name, err)
		}
		if after := gridState(t, db); after != before {
			t.Errorf("%s with the audit trail down wrote: %s, was %s", name, after, before)
		}
	}
}

// TestGridUpdate_unchanged: an edit that changes nothing writes nothing: no
// version, history, change-feed or audit record.
func TestGridUpdate_unchanged(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.DemoURL(t))
	a, _ := twoNeighbours(t, db)
	g, err := db.FindGrid(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	before := gridState(t, db)
	same := map[string]any{"name": g.Properties["name"], "population": g.Properties["population"], "worker_phone": g.Properties["worker_phone"]}
	for _, ch := range []onemap.GridChange{
		{Properties: same},
		{},
		{Geometry: g.Geometry, Clip: onemap.GridClip{Parent: true}},
	} {
		up, err := db.UpdateGrid(ctx, a, 1, ch, "planner", "nothing", onemap.GridAudit{Action: onemap.AuditGridUpdate})
		if err != nil {
			t.Fatal(err)
		}
		if up.Version != 1 || up.Properties["name"] != g.Properties["name"] {
			t.Errorf("unchanged edit %+v: version %d", ch, up.Version)
		}
		if after := gridState(t, db); after != before {
			t.Errorf("unchanged edit %+v wrote: %s, was %s", ch, after, before)
		}
	}
	if _, err := db.RestoreGrid(ctx, a, 1, 1, "planner", "restore", onemap.GridAudit{Action: onemap.AuditGridRestore}); err != nil {
		t.Fatal(err)
	}
	if after := gridState(t, db); after != before {
		t.Errorf("restoring the current version wrote: %s, was %s", after, before)
	}
	// A real change still makes a version.
	up, err := db.UpdateGrid(ctx, a, 1, onemap.GridChange{Properties: map[string]any{"population": 7}}, "planner", "count", onemap.GridAudit{})
	if err != nil || up.Version != 2 {
		t.Errorf("a change: version %v, %v; want 2", up, err)
	}
}

// TestGridSplit_lineChecked: a split line that is not finite, lies outside
// the region or does not cross the grid cuts nothing (a line from -1e308 to
// 1e308 through 0,0 once cut a grid into 10 pieces).
func TestGridSplit_lineChecked(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.DemoURL(t))
	a, _ := twoNeighbours(t, db)
	g, _ := db.FindGrid(ctx, a)
	before := gridState(t, db)
	bd := g.Geometry.Bound()
	for _, tc := range []struct {
		line orb.LineString
		want string
	}{
		{orb.LineString{{-1e308, 1e308}, {1e308, -1e308}}, "outside the region"},
		{orb.LineString{{-1e100, 1e100}, {1e100, -1e100}}, "outside the region"},
		{orb.LineString{{math.Inf(-1), 25}, {math.Inf(1), 25}}, "not a number"},
		{orb.LineString{{-179, -89}, {179, 89}}, "outside the region's envelope"},
		{orb.LineString{{bd.Max[0] + 0.001, bd.Min[1]}, {bd.Max[0] + 0.002, bd.Max[1]}}, "does not cross"},
		{orb.LineString{{bd.Min[0], bd.Min[1]}, {bd.Min[0], bd.Min[1]}}, "2 distinct"},
	} {
		_, err := db.SplitGrid(ctx, a, 1, tc.line, nil, "planner", "split", onemap.GridAudit{})
		if onemap.ErrorCode(err) != onemap.EINVALID || onemap.ErrorField(err) != "line" || !strings.Contains(onemap.ErrorMessage(err), tc.want) {
			t.Errorf("split along %v: %v; want EINVALID for line saying %q", tc.line, err, tc.want)
		}
		if after := gridState(t, db); after != before {
			t.Errorf("split along %v wrote: %s, was %s", tc.line, after, before)
		}
	}
}

// TestGridLimits reads the limits the database holds geometries to.
func TestGridLimits(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.DemoURL(t))
	if err := db.ExecForTest(ctx, `UPDATE region SET max_vertices = 1234`); err != nil {
		t.Fatal(err)
	}
	l, err := db.GridLimits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, err := db.FindRegion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if l.MaxVertices != 1234 || l.Extent != r.Bound || !l.Envelope.Contains(l.Extent.Min) || !l.Envelope.Contains(l.Extent.Max) || l.Envelope == l.Extent {
		t.Errorf("limits %+v; want 1234 vertices, the county's extent %v inside a wider envelope", l, r.Bound)
	}
}

// TestMapError_text: text PostgreSQL cannot store (a NUL) is the caller's
// error, not the server's, wherever it slips past the checks.
func TestMapError_text(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.DemoURL(t))
	a, _ := twoNeighbours(t, db)
	before := gridState(t, db)
	// The reason goes to the history as it is.
	_, err := db.UpdateGrid(ctx, a, 1, onemap.GridChange{Properties: map[string]any{"population": 3}}, "planner", "why\x00", onemap.GridAudit{})
	if onemap.ErrorCode(err) != onemap.EINVALID {
		t.Errorf("a NUL in the reason: %v (code %q), want invalid", err, onemap.ErrorCode(err))
	}
	// \u0000 in an audit record's detail (jsonb).
	_, err = db.UpdateGrid(ctx, a, 1, onemap.GridChange{Properties: map[string]any{"population": 3}}, "planner", "why",
		onemap.GridAudit{Action: onemap.AuditGridUpdate, Detail: map[string]any{"reason": "a\x00b"}})
	if onemap.ErrorCode(err) != onemap.EINVALID {
		t.Errorf("a NUL in the audit's detail: %v (code %q), want invalid", err, onemap.ErrorCode(err))
	}
	// A field's value is refused before the database, naming the field.
	_, err = db.UpdateGrid(ctx, a, 1, onemap.GridChange{Properties: map[string]any{"name": "甲\x00"}}, "planner", "why", onemap.GridAudit{})
	if onemap.ErrorCode(err) != onemap.EINVALID || onemap.ErrorField(err) != "name" {
		t.Errorf("a NUL in the name: %v, want invalid naming the field", err)
	}
	if after := gridState(t, db); after != before {
		t.Errorf("refused edits wrote: %s, was %s", after, before)
	}
}

// TestGridUpdate_maskedKept: a field the writer sees masked keeps its stored
// value where the update sends its mask back, compared in the update's own
// transaction; another value of it is written, and a field not named
// masked is written as sent even when it looks like a mask.
func TestGridUpdate_maskedKept(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, pgtest.DemoURL(t))
	a, _ := twoNeighbours(t, db)
	g, err := db.FindGrid(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	phone, _ := g.Properties["worker_phone"].(string)
	name, _ := g.Properties["worker_name"].(string)
	if phone == "" || name == "" || onemap.Mask(phone) == phone {
		t.Fatalf("grid %d: worker %q, phone %q", a, name, phone)
	}
	up, err := db.UpdateGrid(ctx, a, 1, onemap.GridChange{
		Properties: map[string]any{"worker_phone": onemap.Mask(phone), "worker_name": onemap.Mask(name), "population": 11},
		Masked:     []string{"worker_phone", "worker_name"},
	}, "admin", "count", onemap.GridAudit{})
	if err != nil {
		t.Fatal(err)
	}
	if up.Version != 2 || up.Properties["worker_phone"] != phone || up.Properties["worker_name"] != name || fmt.Sprint(up.Properties["population"]) != "11" {
		t.Errorf("masked values sent back: got %v", up.Properties)
	}
	up, err = db.UpdateGrid(ctx, a, 2, onemap.GridChange{Properties: map[string]any{"worker_phone": "13912345678"},
		Masked: []string{"worker_phone"}}, "admin", "phone", onemap.GridAudit{})
	if err != nil || up.Properties["worker_phone"] != "13912345678" {
		t.Errorf("a new phone of a masked field: %v, %v", up, err)
	}
	// Not named masked: the name's mask is a name like any other.
	up, err = db.UpdateGrid(ctx, a, 3, onemap.GridChange{Properties: map[string]any{"worker_name": onemap.Mask(name)}}, "planner", "name", onemap.GridAudit{})
	if err != nil || up.Properties["worker_name"] != onemap.Mask(name) {
		t.Errorf("a field not masked to the writer: %v, %v", up, err)
	}
}
