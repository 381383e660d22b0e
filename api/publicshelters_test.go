package api_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/paulmach/orb"
)

// TestPublicShelters: /api/public/shelters answers the shelters nearest a
// point, nearest first as PostGIS measures them, with their public fields
// only, to anybody; bad input is a 400 naming the parameter.
func TestPublicShelters(t *testing.T) {
	url := pgtest.DemoURL(t)
	srv := serve(t, url, api.Config{})
	conn := sqlConn(t, url)

	// The nearest as PostGIS orders them (geodesic), from the rounded point.
	answers := checkNearest(t, srv.URL, conn, "/api/public/shelters", "shelters", []nearestCase{
		{countySeat, nil, 5},
		{orb.Point{102.2, 25.9}, nil, 20},
	})
	var got struct {
		Count    int              `json:"count"`
		Shelters []map[string]any `json:"shelters"`
	}
	if err := json.Unmarshal(answers[0].body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Count != 5 || len(got.Shelters) != 5 {
		t.Fatalf("count %d, %d shelters; want 5", got.Count, len(got.Shelters))
	}
	ids := make([]int64, len(got.Shelters))
	fields := []string{"address", "capacity", "distance_m", "id", "kind", "kind_name", "kind_name_en", "lat", "lon", "name", "synthetic"}
	for i, sh := range got.Shelters {
		ids[i] = int64(sh["id"].(float64))
		keys := make([]string, 0, len(sh))
		for k := range sh {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, fields) {
			t.Errorf("shelter %d: fields %v; want %v", ids[i], keys, fields)
		}
	}
	var name string
	var capacity int64
	if err := conn.QueryRow(t.Context(), `SELECT name, capacity FROM shelters WHERE id = $1`, ids[0]).Scan(&name, &capacity); err != nil {
		t.Fatal(err)
	}
	if got.Shelters[0]["name"] != name || int64(got.Shelters[0]["capacity"].(float64)) != capacity {
		t.Errorf("nearest shelter %v; want %s for %d", got.Shelters[0], name, capacity)
	}

	// Within a radius: only those, none past it.
	_, body := get(t, srv.URL+"/api/public/shelters?lon=102.4063&lat=25.5302&limit=50&radius=3000")
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	var inRange int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM shelters
		WHERE ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(102.4063, 25.5302), 4326)::geography, 3000)`).Scan(&inRange); err != nil {
		t.Fatal(err)
	}
	if got.Count != inRange {
		t.Errorf("within 3 km: %d shelters; PostGIS counts %d", got.Count, inRange)
	}

	for q, field := range map[string]string{
		"lon=102.4063&lat=25.5302&limit=0":       "limit",
		"lon=102.4063&lat=25.5302&radius=-5":     "radius",
		"lon=102.4063":                           "",
		"lon=102.4063&lat=25.5302&kind=school":   "kind",
		"lon=102.4063&lat=95&limit=3":            "",
		"lon=102.4063&lat=25.5302&crs=epsg:3857": "crs",
	} {
		res, body := get(t, srv.URL+"/api/public/shelters?"+q)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", q, res.StatusCode, body)
			continue
		}
		if field != "" && !json.Valid(body) {
			t.Errorf("%s: not JSON: %s", q, body)
		}
	}
}

// TestPublicShelters_view: the public role may read public_shelters, whose
// columns are the shelters' public fields (or their point, or the names of
// their kind), and still no table of the emergency picture.
func TestPublicShelters_view(t *testing.T) {
	url := pgtest.DemoURL(t)
	conn := sqlConn(t, url)
	asPublic := asPublicRole(t, conn)
	if err := asPublic(`SELECT * FROM public_shelters LIMIT 1`); err != nil {
		t.Errorf("SELECT FROM public_shelters as onemap_public: %v", err)
	}
	for _, table := range []string{"shelters", "hazard_zones", "shelter_kinds"} {
		err := asPublic(`SELECT * FROM ` + table + ` LIMIT 1`)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" {
			t.Errorf("SELECT FROM %s as onemap_public: %v; want permission denied (42501)", table, err)
		}
	}
	l, _ := onemap.NewCatalog().Layer(onemap.LayerShelters)
	rows, err := conn.Query(t.Context(), `SELECT column_name FROM information_schema.columns WHERE table_name = 'public_shelters'`)
	if err != nil {
		t.Fatal(err)
	}
	cols, _ := pgx.CollectRows(rows, pgx.RowTo[string])
	if len(cols) == 0 {
		t.Fatal("public_shelters has no columns")
	}
	for _, c := range cols {
		switch c {
		case "id", "lon", "lat", "kind_name", "kind_name_en":
			continue
		}
		if f, ok := l.Field(c); !ok || f.Class != onemap.ClassPublic {
			t.Errorf("public_shelters: column %s is no public field of the shelters", c)
		}
	}
}
