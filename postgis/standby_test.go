package postgis_test

import (
	"context"
	"testing"
	"time"

	"github.com/onemapgis/onemap/internal/pgtest"
)

// TestFeedLag: the lag is the age, on the database's clock, of the oldest
// change above the follower's position, and 0 when there is none.
func TestFeedLag(t *testing.T) {
	db := pgtest.Open(t, pgtest.URL(t))
	ctx := context.Background()
	if err := db.ExecForTest(ctx, `INSERT INTO change_feed (layer, feature_id, op, version, changed_at, changed_by)
		VALUES ('stations', 1, 'insert', 1, now() - interval '10 seconds', 'test'), ('stations', 2, 'insert', 1, now(), 'test')`); err != nil {
		t.Fatal(err)
	}
	head, err := db.LatestSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lag, err := db.FeedLag(ctx, head-2)
	if err != nil || lag < 10*time.Second || lag > 30*time.Second {
		t.Errorf("two changes behind: lag %v, %v; want about 10 s", lag, err)
	}
	if lag, err := db.FeedLag(ctx, head); err != nil || lag != 0 {
		t.Errorf("caught up: lag %v, %v; want 0", lag, err)
	}
}
