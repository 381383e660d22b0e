package inmem_test

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
)

// TestGridTallies_againstPostGIS: for every grid of the demo county and
// every point layer, the tally the replica keeps (GridTally) equals a
// recount (GridTallies) and PostGIS's count of the points that
// intersect the grid, value by value; and the children of every grid add up
// to it.
func TestGridTallies_againstPostGIS(t *testing.T) {
	snap, conn, _ := queryDB(t)
	catalog := onemap.NewCatalog()
	// The tallies the replica keeps, which equal a recount.
	checkTallies(t, "the demo county", snap, catalog)
	tallies := map[int64]inmem.Tally{}
	snap.Ascend(onemap.LayerGrids, 0, func(g *onemap.Record) bool { tallies[g.ID] = snap.GridTally(g.ID); return true })
	checked := 0
	for _, l := range catalog.Layers() {
		field := inmem.TallyField(l.ID)
		if field == "" {
			continue
		}
		rows, err := conn.Query(t.Context(), `SELECT g.id, p.`+pgx.Identifier{field}.Sanitize()+`, count(*)
			FROM grids g JOIN `+pgx.Identifier{l.ID}.Sanitize()+` p ON ST_Intersects(g.geom, p.geom) GROUP BY 1, 2`)
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64]map[string]int{}
		for rows.Next() {
			var (
				id int64
				v  string
				n  int
			)
			if err := rows.Scan(&id, &v, &n); err != nil {
				t.Fatal(err)
			}
			if want[id] == nil {
				want[id] = map[string]int{}
			}
			want[id][v] = n
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
		snap.Ascend(onemap.LayerGrids, 0, func(g *onemap.Record) bool {
			got := tallies[g.ID][l.ID]
			for v, n := range want[g.ID] {
				if got[v] != n {
					t.Errorf("grid %d %s %s=%s: %d, PostGIS %d", g.ID, l.ID, field, v, got[v], n)
				}
			}
			for v, n := range got {
				if want[g.ID][v] != n {
					t.Errorf("grid %d %s %s=%s: %d, PostGIS %d", g.ID, l.ID, field, v, n, want[g.ID][v])
				}
			}
			checked++
			return !t.Failed()
		})
	}
	// Children add up to their parent.
	grids, _ := catalog.Layer(onemap.LayerGrids)
	parentAt := grids.FieldIndex("parent_id")
	sums := map[int64]inmem.Tally{}
	snap.Ascend(onemap.LayerGrids, 0, func(g *onemap.Record) bool {
		if p, ok := g.Value(parentAt).(int64); ok {
			if sums[p] == nil {
				sums[p] = inmem.Tally{}
			}
			for layer, by := range tallies[g.ID] {
				if sums[p][layer] == nil {
					sums[p][layer] = map[string]int{}
				}
				for v, n := range by {
					sums[p][layer][v] += n
				}
			}
		}
		return true
	})
	for p, sum := range sums {
		for _, layer := range []string{onemap.LayerRiskPoints, onemap.LayerHouseholds, onemap.LayerCameras, onemap.LayerStations} {
			if sum.Total(layer) != tallies[p].Total(layer) {
				t.Errorf("grid %d: its children hold %d %s, it holds %d", p, sum.Total(layer), layer, tallies[p].Total(layer))
			}
		}
	}
	if checked < 4*1728 {
		t.Errorf("checked %d grid tallies", checked)
	}
	t.Logf("county: %v", tallies[1])
}
