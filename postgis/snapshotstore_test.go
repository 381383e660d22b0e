package postgis_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
)

// TestWriteReplicaSnapshot_encodesOutsideATransaction: while a writer
// encodes its snapshot, no session of the database is in a transaction
// (none holds back VACUUM for the seconds a province's encoding takes),
// yet the snapshot stays the writer's alone (another's try of its lock
// fails); the parts stored are those encoded, byte for byte; the lock is
// free again after a write, and after an encoding that failed.
func TestWriteReplicaSnapshot_encodesOutsideATransaction(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	db := pgtest.Open(t, url)
	schema, err := db.ReplicaSnapshotSchema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seq := pgtest.LatestSeq(t, url)
	head := postgis.SnapshotHead{Seq: seq, Format: 1, Schema: schema}
	other, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.Background())
	// tryLock takes and gives back the writers' lock from another
	// session, and reports whether it was free.
	tryLock := func() bool {
		t.Helper()
		var free bool
		if err := other.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext('onemap.replica_snapshot'))`).Scan(&free); err != nil {
			t.Fatal(err)
		}
		if free {
			if _, err := other.Exec(ctx, `SELECT pg_advisory_unlock(hashtext('onemap.replica_snapshot'))`); err != nil {
				t.Fatal(err)
			}
		}
		return free
	}
	var parts []postgis.SnapshotPart
	for i, layer := range []string{"cameras", "cameras", "grids"} {
		data := make([]byte, 1000+i)
		for j := range data {
			data[j] = byte(j*7 + i)
		}
		parts = append(parts, postgis.SnapshotPart{Layer: layer, Part: i, Seq: seq, Format: 1, Fingerprint: fmt.Sprintf("fp%d", i),
			Schema: schema, Records: 10 * i, CRC: uint32(12345 + i), Data: data})
	}
	encoded := 0
	wrote, err := db.WriteReplicaSnapshot(ctx, head, func() ([]postgis.SnapshotPart, error) {
		encoded++
		var inTx []string
		rows, err := other.Query(ctx, `SELECT pid::text || ' ' || state || ': ' || query FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND (xact_start IS NOT NULL OR backend_xmin IS NOT NULL)`)
		if err != nil {
			return nil, err
		}
		if inTx, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return nil, err
		}
		if len(inTx) > 0 {
			t.Errorf("while the snapshot is encoded, sessions in a transaction: %q", inTx)
		}
		if tryLock() {
			t.Error("while the snapshot is encoded, another writer had its lock")
		}
		return parts, nil
	})
	if err != nil || !wrote || encoded != 1 {
		t.Fatalf("write: wrote %v, %v, encoded %d; want true, nil, 1", wrote, err, encoded)
	}
	if !tryLock() {
		t.Error("after the write, the lock is still held")
	}
	var got []postgis.SnapshotPart
	if err := db.ReadReplicaSnapshot(ctx, func([]postgis.SnapshotPart, postgis.SnapshotState) error { return nil },
		func(p postgis.SnapshotPart) error { got = append(got, p); return nil }, nil); err != nil {
		t.Fatal(err)
	}
	same := func(a, b postgis.SnapshotPart) bool {
		return slices.Equal(a.Data, b.Data) && fmt.Sprint(a.Layer, a.Part, a.Seq, a.Format, a.Fingerprint, a.Schema, a.Records, a.CRC) ==
			fmt.Sprint(b.Layer, b.Part, b.Seq, b.Format, b.Fingerprint, b.Schema, b.Records, b.CRC)
	}
	if !slices.EqualFunc(got, parts, same) {
		t.Errorf("stored %d parts, not the %d encoded: %+v", len(got), len(parts), got)
	}

	// An encoding that fails writes nothing and lets the lock go.
	head.Seq++
	boom := errors.New("boom")
	if wrote, err := db.WriteReplicaSnapshot(ctx, head, func() ([]postgis.SnapshotPart, error) { return nil, boom }); !errors.Is(err, boom) || wrote {
		t.Errorf("a failed encoding: wrote %v, %v; want false, boom", wrote, err)
	}
	if !tryLock() {
		t.Error("after a failed encoding, the lock is still held")
	}
	if n := pgtest.Value[int](t, url, `SELECT count(*) FROM replica_snapshot WHERE seq = $1`, seq); n != len(parts) {
		t.Errorf("after a failed encoding, %d parts at %d; want the %d written before", n, seq, len(parts))
	}
}
