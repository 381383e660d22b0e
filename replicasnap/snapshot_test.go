package replicasnap_test

import (
	"context"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
	"github.com/onemapgis/onemap/replicasnap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// fromRows returns a replica loaded from the database's rows.
func fromRows(t *testing.T, db *postgis.DB, catalog *onemap.Catalog) *inmem.Snapshot {
	t.Helper()
	r := inmem.New(catalog)
	if err := r.LoadFrom(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	return r.Snapshot()
}

func exec(t *testing.T, url string, sqls ...string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, q := range sqls {
		if _, err := conn.Exec(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// sameReplica fails the test where got answers otherwise than want: the
// records of every layer (id, version, geometry, values), searches by
// bound and by distance, the tile counts, the tallies by grid, text search
// and the open cases.
func sameReplica(t *testing.T, got, want *inmem.Snapshot, catalog *onemap.Catalog) {
	t.Helper()
	if got.Seq() != want.Seq() {
		t.Errorf("seq %d, want %d", got.Seq(), want.Seq())
	}
	world := orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}
	for _, l := range catalog.Layers() {
		var g, w []*onemap.Record
		got.Ascend(l.ID, math.MinInt64, func(r *onemap.Record) bool { g = append(g, r); return true })
		want.Ascend(l.ID, math.MinInt64, func(r *onemap.Record) bool { w = append(w, r); return true })
		if len(g) != len(w) || got.Len(l.ID) != want.Len(l.ID) {
			t.Errorf("%s: %d records (Len %d), want %d (Len %d)", l.ID, len(g), got.Len(l.ID), len(w), want.Len(l.ID))
			continue
		}
		for i := range g {
			a, b := g[i], w[i]
			if a.ID != b.ID || a.Version != b.Version || a.Bound != b.Bound || !orb.Equal(a.Geometry, b.Geometry) ||
				!slices.Equal(a.RawValues(nil), b.RawValues(nil)) {
				t.Fatalf("%s: record %d v%d %v; want %d v%d %v", l.ID, a.ID, a.Version, a.RawValues(nil), b.ID, b.Version, b.RawValues(nil))
			}
		}
		ids := func(s *inmem.Snapshot) []int64 {
			var out []int64
			s.Search(l.ID, world, func(r *onemap.Record) bool { out = append(out, r.ID); return true })
			slices.Sort(out)
			return out
		}
		if !slices.Equal(ids(got), ids(want)) {
			t.Errorf("%s: the search of the world differs", l.ID)
		}
		if len(w) > 0 {
			p := w[len(w)/2].Bound.Center()
			hits := func(s *inmem.Snapshot) (out []int64) {
				for _, h := range s.Nearby(l.ID, p, 10, 0, nil) {
					out = append(out, h.Record.ID)
				}
				return out
			}
			if !slices.Equal(hits(got), hits(want)) {
				t.Errorf("%s: nearby %v: %v, want %v", l.ID, p, hits(got), hits(want))
			}
		}
		for _, z := range []maptile.Zoom{6, 9, 12} {
			type cell struct {
				N      int
				Levels onemap.LevelCounts
				Rep    int64
				At     orb.Point
			}
			counts := func(s *inmem.Snapshot) (out []cell, ok bool) {
				ok = s.CountPoints(l.ID, l.Severity(), z, 0, 0, 1<<z-1, 1<<z-1, func(n int, lv onemap.LevelCounts, rep *onemap.Record, at orb.Point) {
					out = append(out, cell{n, lv, rep.ID, at})
				})
				return out, ok
			}
			gc, gok := counts(got)
			wc, wok := counts(want)
			if gok != wok || !reflect.DeepEqual(gc, wc) {
				t.Errorf("%s: tile counts at zoom %d differ (%d tiles, want %d)", l.ID, z, len(gc), len(wc))
			}
		}
	}
	if !reflect.DeepEqual(got.GridTallies(catalog), want.GridTallies(catalog)) {
		t.Error("the tallies by grid differ")
	}
	// The tallies kept (a lookup per grid) as well as the recount above: a
	// load from a snapshot takes its points' grids from it.
	var gridIDs []int64
	want.Ascend(onemap.LayerGrids, math.MinInt64, func(r *onemap.Record) bool { gridIDs = append(gridIDs, r.ID); return true })
	for _, id := range append(gridIDs, 0) {
		if g, w := got.GridTally(id), want.GridTally(id); !reflect.DeepEqual(g, w) {
			t.Errorf("grid %d tallies %v, want %v", id, g, w)
			break
		}
	}
	gt, gok := got.Totals()
	wt, wok := want.Totals()
	if gok != wok || !reflect.DeepEqual(gt, wt) {
		t.Errorf("totals %v %v, want %v %v", gt, gok, wt, wok)
	}
	grids, err := catalog.Layer(onemap.LayerGrids)
	if err != nil {
		t.Fatal(err)
	}
	var name string
	want.Ascend(onemap.LayerGrids, math.MinInt64, func(r *onemap.Record) bool {
		name = r.Raw(grids.FieldIndex("name")).Text()
		return name == ""
	})
	for _, q := range []string{string([]rune(name)[:1]), name, "shan"} {
		match := func(s *inmem.Snapshot) (out []string) {
			for _, m := range s.MatchText(q, []inmem.TextQuery{{Layer: grids, Names: []string{"name"}, Codes: []string{"code"}}}, 50) {
				out = append(out, m.Layer+"/"+m.Field+"/"+strings.Repeat("p", boolInt(m.Pinyin))+string(rune('0'+m.Rank))+"/"+string(rune(m.Record.ID)))
			}
			return out
		}
		if g, w := match(got), match(want); !slices.Equal(g, w) || len(w) == 0 && q != "shan" {
			t.Errorf("text %q: %d matches, want %d", q, len(g), len(w))
		}
	}
	cases := func(s *inmem.Snapshot) (out []int64) {
		s.AscendCases(func(k *onemap.Case) bool { out = append(out, k.ID); return true })
		return out
	}
	if !slices.Equal(cases(got), cases(want)) {
		t.Errorf("open cases %d, want %d", got.OpenCases(), want.OpenCases())
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestLoad_asFromRows: a replica loaded from a snapshot, with changes made
// after it (a camera moved, one deleted, a station's and a grid's
// name changed) replayed from the feed, answers as one
// loaded from the rows, and is current to the database.
func TestLoad_asFromRows(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	catalog := onemap.NewCatalog()
	wrote, err := replicasnap.Write(ctx, db, catalog, fromRows(t, db, catalog))
	if err != nil || !wrote {
		t.Fatalf("write: %v, %v", wrote, err)
	}
	// Written again at the same sequence number: not rewritten.
	if again, err := replicasnap.Write(ctx, db, catalog, fromRows(t, db, catalog)); err != nil || again {
		t.Fatalf("write again: %v, %v; want false, nil", again, err)
	}
	exec(t, url,
		`UPDATE cameras SET geom = ST_SetSRID(ST_MakePoint(ST_X(geom) + 0.01, ST_Y(geom)), 4326) WHERE id = (SELECT min(id) FROM cameras)`,
		`DELETE FROM cameras WHERE id = (SELECT max(id) FROM cameras)`,
		`UPDATE stations SET name = name || '站' WHERE id = (SELECT min(id) FROM stations)`,
		`UPDATE grids SET name = name || '新' WHERE id = (SELECT max(id) FROM grids)`,
	)
	r := inmem.New(catalog)
	res, err := replicasnap.Load(ctx, r, catalog, db, db, replicasnap.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Used || res.Replayed < 4 {
		t.Fatalf("used %v (%s), replayed %d changes; want the snapshot and 4 or more", res.Used, res.Why, res.Replayed)
	}
	sameReplica(t, r.Snapshot(), fromRows(t, db, catalog), catalog)
	if diff := pgtest.ReplicaDiff(t, url, r.Snapshot(), catalog); len(diff) > 0 {
		t.Errorf("the replica differs from the database: %v", diff)
	}
}

// TestLoad_fallsBack: a snapshot that is damaged, of another format or
// schema, ahead of the feed, too far behind it, incomplete or missing is
// not used: the replica is loaded from the rows, and answers as such.
func TestLoad_fallsBack(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	catalog := onemap.NewCatalog()
	want := fromRows(t, db, catalog)
	for _, c := range []struct {
		name, spoil, why string
		opts             replicasnap.Options
	}{
		{"a flipped byte", `UPDATE replica_snapshot SET data = set_byte(data, 20, get_byte(data, 20) # 255) WHERE layer = 'cameras' AND part = 0`, "CRC", replicasnap.Options{}},
		{"a cut part", `UPDATE replica_snapshot SET data = substr(data, 1, length(data) - 3) WHERE layer = 'grids' AND part = 0`, "CRC", replicasnap.Options{}},
		{"another format", `UPDATE replica_snapshot SET format = 0`, "format", replicasnap.Options{}},
		{"another schema", `UPDATE replica_snapshot SET schema = '0001_init.sql'`, "schema", replicasnap.Options{}},
		{"another layer definition", `UPDATE replica_snapshot SET fingerprint = 'x' WHERE layer = 'stations'`, "definition", replicasnap.Options{}},
		{"ahead of the feed", `UPDATE replica_snapshot SET seq = seq + 1000`, "ahead", replicasnap.Options{}},
		{"too far behind", `UPDATE replica_snapshot SET seq = 0`, "behind", replicasnap.Options{MaxReplay: 1}},
		{"a layer missing", `DELETE FROM replica_snapshot WHERE layer = 'shelters'`, "missing", replicasnap.Options{}},
		{"none", `DELETE FROM replica_snapshot`, "none", replicasnap.Options{}},
		{"off", `SELECT 1`, "off", replicasnap.Options{Off: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			exec(t, url, `DELETE FROM replica_snapshot`)
			if wrote, err := replicasnap.Write(ctx, db, catalog, want); err != nil || !wrote {
				t.Fatalf("write: %v, %v", wrote, err)
			}
			exec(t, url, c.spoil)
			r := inmem.New(catalog)
			res, err := replicasnap.Load(ctx, r, catalog, db, db, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Used || !strings.Contains(res.Why, c.why) {
				t.Errorf("used %v, why %q; want the rows, for %q", res.Used, res.Why, c.why)
			}
			sameReplica(t, r.Snapshot(), want, catalog)
		})
	}
}

// countingStore is the database, counting the snapshots Write encodes.
type countingStore struct {
	*postgis.DB
	encoded int
}

func (s *countingStore) WriteReplicaSnapshot(ctx context.Context, head postgis.SnapshotHead, encode func() ([]postgis.SnapshotPart, error)) (bool, error) {
	return s.DB.WriteReplicaSnapshot(ctx, head, func() ([]postgis.SnapshotPart, error) {
		s.encoded++
		return encode()
	})
}

// TestWrite_encodesOnlyWhenItWrites: while another writer holds the
// snapshot (its advisory lock), Write neither encodes nor writes; a
// write whose snapshot is not newer than the stored one encodes nothing.
func TestWrite_encodesOnlyWhenItWrites(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	catalog := onemap.NewCatalog()
	snap := fromRows(t, db, catalog)
	exec(t, url, `DELETE FROM replica_snapshot`)
	store := &countingStore{DB: db}
	other, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.Background())
	if _, err := other.Exec(ctx, `SELECT pg_advisory_lock(hashtext('onemap.replica_snapshot'))`); err != nil {
		t.Fatal(err)
	}
	if wrote, err := replicasnap.Write(ctx, store, catalog, snap); err != nil || wrote || store.encoded != 0 {
		t.Errorf("while another writer holds it: wrote %v, %v, encoded %d; want false, nil, 0", wrote, err, store.encoded)
	}
	if _, err := other.Exec(ctx, `SELECT pg_advisory_unlock(hashtext('onemap.replica_snapshot'))`); err != nil {
		t.Fatal(err)
	}
	if wrote, err := replicasnap.Write(ctx, store, catalog, snap); err != nil || !wrote || store.encoded != 1 {
		t.Errorf("then: wrote %v, %v, encoded %d; want true, nil, 1", wrote, err, store.encoded)
	}
	// Another server wrote one as new between its look and its write.
	schema, err := db.ReplicaSnapshotSchema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	head := postgis.SnapshotHead{Seq: snap.Seq(), Format: replicasnap.Format, Schema: schema}
	if wrote, err := store.WriteReplicaSnapshot(ctx, head, func() ([]postgis.SnapshotPart, error) {
		t.Error("encoded a snapshot as old as the stored one")
		return nil, nil
	}); err != nil || wrote {
		t.Errorf("as old as the stored one: wrote %v, %v; want false, nil", wrote, err)
	}
}

// TestWrite_replacesASnapshotAheadOfTheFeed: a stored snapshot ahead of
// the feed (a database restored from a backup older than it) is not used
// by a start, and Write replaces it, so that the next start uses the new
// one.
func TestWrite_replacesASnapshotAheadOfTheFeed(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	catalog := onemap.NewCatalog()
	snap := fromRows(t, db, catalog)
	exec(t, url, `DELETE FROM replica_snapshot`)
	if wrote, err := replicasnap.Write(ctx, db, catalog, snap); err != nil || !wrote {
		t.Fatalf("write: %v, %v", wrote, err)
	}
	exec(t, url, `UPDATE replica_snapshot SET seq = seq + 1000`)
	if res, err := replicasnap.Load(ctx, inmem.New(catalog), catalog, db, db, replicasnap.Options{}); err != nil || res.Used {
		t.Fatalf("load of a snapshot ahead of the feed: used %v, %v; want the rows", res.Used, err)
	}
	if wrote, err := replicasnap.Write(ctx, db, catalog, snap); err != nil || !wrote {
		t.Fatalf("write over a snapshot ahead of the feed: wrote %v, %v; want true", wrote, err)
	}
	r := inmem.New(catalog)
	res, err := replicasnap.Load(ctx, r, catalog, db, db, replicasnap.Options{})
	if err != nil || !res.Used || res.Seq != snap.Seq() {
		t.Fatalf("load after: used %v (%s) at %d, %v; want the snapshot at %d", res.Used, res.Why, res.Seq, err, snap.Seq())
	}
	sameReplica(t, r.Snapshot(), snap, catalog)
}

// TestLoad_fallsBackOverAFeedGap: a restored database whose feed starts
// past the snapshot's sequence number (the change at it and the first
// ones after it are gone, the later ones are there) does not start from
// the snapshot: a replay of what the feed holds would miss the changes
// in the gap. The replica is loaded from the rows, as the database stands.
func TestLoad_fallsBackOverAFeedGap(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	catalog := onemap.NewCatalog()
	snap := fromRows(t, db, catalog)
	exec(t, url, `DELETE FROM replica_snapshot`)
	if wrote, err := replicasnap.Write(ctx, db, catalog, snap); err != nil || !wrote {
		t.Fatalf("write: %v, %v", wrote, err)
	}
	exec(t, url,
		`UPDATE cameras SET geom = ST_SetSRID(ST_MakePoint(ST_X(geom) + 0.01, ST_Y(geom)), 4326) WHERE id = (SELECT min(id) FROM cameras)`,
		`UPDATE cameras SET geom = ST_SetSRID(ST_MakePoint(ST_X(geom) - 0.01, ST_Y(geom)), 4326) WHERE id = (SELECT max(id) FROM cameras)`,
	)
	// The gap: the feed keeps only its newest change.
	exec(t, url, `DELETE FROM change_feed WHERE seq < (SELECT max(seq) FROM change_feed)`)
	if pgtest.Value[int64](t, url, `SELECT min(seq) FROM change_feed`) <= snap.Seq()+1 {
		t.Fatalf("the feed starts at %d, no gap after the snapshot's %d", pgtest.Value[int64](t, url, `SELECT min(seq) FROM change_feed`), snap.Seq())
	}
	r := inmem.New(catalog)
	res, err := replicasnap.Load(ctx, r, catalog, db, db, replicasnap.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Used || !strings.Contains(res.Why, "no longer holds") {
		t.Errorf("used %v (replayed %d), why %q; want the rows, for the feed's gap", res.Used, res.Replayed, res.Why)
	}
	if diff := pgtest.ReplicaDiff(t, url, r.Snapshot(), catalog); len(diff) > 0 {
		t.Errorf("the replica differs from the database: %v", diff)
	}
}
