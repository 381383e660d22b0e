package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// TestEvents_resumeElsewhere: a browser whose last event came from another
// server resumes on a server started after that event (as behind a load
// balancer, after a server failed): the changes it missed come from the
// change feed, not a "reset"; without the feed it is told to reload.
func TestEvents_resumeElsewhere(t *testing.T) {
	url := pgtest.URL(t)
	db := pgtest.Open(t, url)
	ctx := context.Background()
	conn := sqlConn(t, url)
	for i := range 3 {
		if _, err := conn.Exec(ctx, `INSERT INTO stations (kind, level, name, geom)
			VALUES ('clinic', 'village', $1, ST_SetSRID(ST_MakePoint(102.5, 25.5), 4326))`, "站"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	head, err := db.LatestSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := func(withFeed bool) *httptest.Server {
		catalog := onemap.NewCatalog()
		replica := inmem.New(catalog)
		if err := replica.LoadFrom(ctx, db); err != nil { // this server starts after the three changes
			t.Fatal(err)
		}
		d := api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: db, Replica: replica,
			Catalog: catalog, Policy: onemap.DefaultPolicy(), Static: http.NotFoundHandler()}
		if withFeed {
			d.FeedChanges = db
		}
		h, _ := api.NewServer(d, api.Config{AnonymousRole: onemap.RoleCommander})
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv
	}
	last := strconv.FormatInt(head-2, 10) // the browser saw the first change elsewhere

	s := openEvents(t, start(true).URL, "", "Last-Event-ID", last)
	for want := head - 1; want <= head; want++ {
		e, c := s.next(t, "change", eventWait)
		if c.Seq != want || e.ID != strconv.FormatInt(want, 10) || c.Layer != "stations" || c.Op != "insert" {
			t.Fatalf("resumed after %s: got %s %+v, want the insert of change %d", last, e.ID, c, want)
		}
	}

	old := openEvents(t, start(false).URL, "", "Last-Event-ID", last)
	old.next(t, "reset", eventWait)
}
