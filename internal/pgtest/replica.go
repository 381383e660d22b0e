package pgtest

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
)

// ReplicaDiff compares a replica's snapshot with the database at url, layer
// by layer, by feature id and version, and returns what differs ("stations
// 12: replica v2, database v3"), at most a few lines per layer; none when
// they are equal. The snapshot must be current to the database's latest
// change for them to be equal.
func ReplicaDiff(tb testing.TB, url string, snap *inmem.Snapshot, catalog *onemap.Catalog) []string {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	var diff []string
	for _, l := range catalog.Layers() {
		inDB := map[int64]int32{}
		rows, err := conn.Query(ctx, "SELECT id, version FROM "+pgx.Identifier{l.ID}.Sanitize())
		if err != nil {
			tb.Fatalf("read %s: %v", l.ID, err)
		}
		for rows.Next() {
			var (
				id int64
				v  int32
			)
			if err := rows.Scan(&id, &v); err != nil {
				tb.Fatal(err)
			}
			inDB[id] = v
		}
		if err := rows.Err(); err != nil {
			tb.Fatal(err)
		}
		var layerDiff []string
		seen := 0
		snap.Ascend(l.ID, 0, func(r *onemap.Record) bool {
			seen++
			switch v, ok := inDB[r.ID]; {
			case !ok:
				layerDiff = append(layerDiff, fmt.Sprintf("%s %d: replica v%d, not in the database", l.ID, r.ID, r.Version))
			case v != r.Version:
				layerDiff = append(layerDiff, fmt.Sprintf("%s %d: replica v%d, database v%d", l.ID, r.ID, r.Version, v))
			}
			delete(inDB, r.ID)
			return true
		})
		for id, v := range inDB {
			layerDiff = append(layerDiff, fmt.Sprintf("%s %d: database v%d, not in the replica", l.ID, id, v))
		}
		if snap.Len(l.ID) != seen {
			layerDiff = append(layerDiff, fmt.Sprintf("%s: replica says it holds %d, walked %d", l.ID, snap.Len(l.ID), seen))
		}
		sort.Strings(layerDiff)
		if len(layerDiff) > 5 {
			layerDiff = append(layerDiff[:5], fmt.Sprintf("%s: … and %d more", l.ID, len(layerDiff)-5))
		}
		diff = append(diff, layerDiff...)
	}
	return diff
}

// LatestSeq returns the sequence number of the newest change in the
// database at url (0: none).
func LatestSeq(tb testing.TB, url string) int64 {
	tb.Helper()
	return Value[int64](tb, url, `SELECT coalesce(max(seq), 0) FROM change_feed`)
}
