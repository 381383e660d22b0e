package replicasnap_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/replicasnap"
)

// TestWriteIfDue: a snapshot is written when none is stored, and then
// only once the feed holds Behind changes after it, a layer was reloaded
// after it, or it is MaxAge old on the injected clock with changes after
// it; not while it is as new as the replica, however old.
func TestWriteIfDue(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	catalog := onemap.NewCatalog()
	policy := replicasnap.Policy{Behind: 3, MaxAge: time.Hour}
	exec(t, url, `DELETE FROM replica_snapshot`)
	stored := func() time.Time {
		t.Helper()
		schema, err := db.ReplicaSnapshotSchema(ctx)
		if err != nil {
			t.Fatal(err)
		}
		st, ok, err := db.StoredReplicaSnapshotStanding(ctx, replicasnap.Format, schema, 100)
		if err != nil || !ok {
			t.Fatalf("the stored snapshot: %v, %v", ok, err)
		}
		return st.WrittenAt
	}
	step := func(name string, now time.Time, wantWrote bool, wantWhy string) {
		t.Helper()
		wrote, why, err := replicasnap.WriteIfDue(ctx, db, catalog, fromRows(t, db, catalog), policy, now)
		if err != nil || wrote != wantWrote || !strings.Contains(why, wantWhy) {
			t.Errorf("%s: wrote %v, why %q, %v; want %v, %q", name, wrote, why, err, wantWrote, wantWhy)
		}
	}
	step("none stored", time.Now(), true, "none is stored")
	at := stored()
	step("just written", at, false, "the stored one is at change")
	step("old but as new as the replica", at.Add(10*time.Hour), false, "the stored one is at change")
	move := `UPDATE cameras SET name = name || '改' WHERE id = (SELECT min(id) FROM cameras)`
	exec(t, url, move, move)
	step("2 changes after it", at.Add(time.Hour-time.Second), false, "2 changes behind")
	exec(t, url, move)
	step("3 changes after it", at, true, "3 changes or more")
	at = stored()
	exec(t, url, move)
	step("1 change after it, younger than MaxAge", at.Add(time.Hour-time.Second), false, "1 changes behind")
	step("1 change after it, MaxAge old", at.Add(time.Hour), true, "written 1h0m0s ago")
	at = stored()
	exec(t, url, `INSERT INTO change_feed (layer, feature_id, op, version, changed_by) VALUES ('shelters', 0, 'reload', 0, 'test')`)
	step("a layer reloaded after it", at, true, "1 layer reloads")
	step("written again", stored(), false, "the stored one is at change")
	exec(t, url, `UPDATE replica_snapshot SET seq = seq + 1000`) // as in a database restored from an older backup
	step("ahead of the feed", at, true, "ahead of the feed")
	step("written over it", stored(), false, "the stored one is at change")
}
