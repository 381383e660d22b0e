package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
)

// readCountingGrids is the database with a count of the grid reads the
// editor's handlers make.
type readCountingGrids struct {
	*postgis.DB
	reads atomic.Int64
}

func (s *readCountingGrids) FindGrid(ctx context.Context, id int64) (*onemap.Grid, error) {
	s.reads.Add(1)
	return s.DB.FindGrid(ctx, id)
}

// TestGridAPI_maskedKept: an admin sees a grid worker's phone masked; an
// edit that sends the masked phone back with another change keeps the real
// phone in the database, and the handler reads nothing before the write
// (the store compares with the stored value in the update's transaction).
// A new phone is written.
func TestGridAPI_maskedKept(t *testing.T) {
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	catalog, replica := loadReplica(t, db)
	st := &readCountingGrids{DB: db}
	h, _ := api.NewServer(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: db, Replica: replica, Catalog: catalog,
		Policy: onemap.DefaultPolicy(), Static: http.NotFoundHandler(), Grids: st}, api.Config{AnonymousRole: onemap.RoleAdmin})
	srv := httptest.NewServer(h)
	defer srv.Close()
	conn := sqlConn(t, url)
	var (
		id    int64
		phone string
	)
	if err := conn.QueryRow(t.Context(), `SELECT id, worker_phone FROM grids WHERE level = 'village' AND worker_phone <> '' ORDER BY id LIMIT 1`).
		Scan(&id, &phone); err != nil {
		t.Fatal(err)
	}
	u := fmt.Sprintf("%s/api/grids/%d", srv.URL, id)
	g := getGrid(t, srv.URL, id)
	masked := onemap.Mask(phone)
	if masked == phone || g.Properties["worker_phone"] != masked {
		t.Fatalf("the admin sees worker_phone %v, want the mask %q of %q", g.Properties["worker_phone"], masked, phone)
	}
	stored := func() (name, phone string) {
		t.Helper()
		if err := conn.QueryRow(t.Context(), `SELECT name, worker_phone FROM grids WHERE id = $1`, id).Scan(&name, &phone); err != nil {
			t.Fatal(err)
		}
		return name, phone
	}

	for _, method := range []string{"PATCH", "PUT"} {
		props := map[string]any{"name": "改名" + method, "worker_phone": masked}
		body, _ := json.Marshal(map[string]any{"properties": props})
		cur := getGrid(t, srv.URL, id)
		before := st.reads.Load() // the GET above read it; the write must not
		if method == "PUT" {
			body = []byte(featureBody(cur.Geometry.Geometry(), props, ""))
		}
		v := version(cur)
		resp, out := do(t, method, u, string(body), "If-Match", tag(v))
		if resp.StatusCode != 200 {
			t.Fatalf("%s with the masked phone = %d %s", method, resp.StatusCode, out)
		}
		if n := st.reads.Load() - before; n != 0 {
			t.Errorf("%s read the grid %d times before writing it, want none", method, n)
		}
		if name, got := stored(); name != "改名"+method || got != phone {
			t.Errorf("after %s with the masked phone: name %q, phone %q; want %q and the real phone %q", method, name, got, "改名"+method, phone)
		}
	}

	v := version(getGrid(t, srv.URL, id))
	if resp, out := do(t, "PATCH", u, `{"properties":{"worker_phone":"13912345678"}}`, "If-Match", tag(v)); resp.StatusCode != 200 {
		t.Fatalf("PATCH with a new phone = %d %s", resp.StatusCode, out)
	}
	if _, got := stored(); got != "13912345678" {
		t.Errorf("after a PATCH with a new phone: %q, want 13912345678", got)
	}
}
