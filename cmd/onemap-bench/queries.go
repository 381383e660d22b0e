package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
)

// sqlCommand is the hidden command that runs the PostGIS side of the query
// benchmark: the same two routes as onemap's, answered by SQL.
const sqlCommand = "sql-server"

// queryPaths returns the query benchmark's requests: for seeded random
// points over the county, n nearby queries (the 10 nearest cameras) and n/4
// around-an-incident queries (1 km), interleaved.
func queryPaths(county orb.Bound, seed uint64, n int) (nearby, around []string) {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	pt := func() orb.Point {
		return orb.Point{county.Min[0] + rng.Float64()*(county.Max[0]-county.Min[0]), county.Min[1] + rng.Float64()*(county.Max[1]-county.Min[1])}
	}
	for i := range n {
		p := pt()
		nearby = append(nearby, fmt.Sprintf("/api/nearby?lon=%.6f&lat=%.6f&layers=cameras&k=10", p[0], p[1]))
		if i%4 == 0 {
			p = pt()
			around = append(around, fmt.Sprintf("/api/around?lon=%.6f&lat=%.6f&radius=1000", p[0], p[1]))
		}
	}
	return nearby, around
}

// queries measures /api/nearby and /api/around from the replica against
// the same answers computed by PostGIS SQL behind a plain HTTP server.
func (b *bench) queries(ctx context.Context) error {
	b.printf("\n== Spatial queries: the Wuding demo county\n\n")
	db, d, drop, err := b.demoCounty(ctx, "queries")
	if err != nil {
		return err
	}
	defer drop()
	nearby, around := queryPaths(d.Outline.Bound(), b.Seed, b.Requests)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	type side struct {
		label string
		start func() (*process, error)
	}
	sides := []side{
		{"replica (onemap)", func() (*process, error) {
			return onemapServer(ctx, b.Onemap, "onemap", db.URL, 5*time.Minute, "--anonymous-role", "commander")
		}},
		{"PostGIS SQL", func() (*process, error) {
			return startProcess(ctx, "sql server", nil, time.Minute, self, sqlCommand, db.URL)
		}},
	}
	results := map[string]map[string]passStats{}
	bodies := map[string][]string{}
	for _, s := range sides {
		srv, err := s.start()
		if err != nil {
			return err
		}
		results[s.label] = map[string]passStats{}
		for _, q := range []struct {
			name  string
			paths []string
		}{{"nearby", nearby}, {"around", around}} {
			run, err := b.drive(ctx, srv, s.label+" "+q.name, q.paths, 2)
			if err != nil {
				srv.stop()
				return err
			}
			results[s.label][q.name] = run.measured().stats()
		}
		// The first answers, to check that both sides agree.
		l := newLoader(1)
		for _, p := range nearby[:min(50, len(nearby))] {
			_, body, err := l.fetchPlain(ctx, srv.URL+p)
			if err != nil {
				srv.stop()
				return err
			}
			bodies[s.label] = append(bodies[s.label], nearbyIDs(body))
		}
		l.close()
		b.keepLog(srv)
		srv.stop()
	}
	b.printf("requests     %s nearby (10 nearest cameras) and %s around (1 km, every layer) at seeded random points over the county;\n",
		thousands(len(nearby)), thousands(len(around)))
	b.printf("             %d connections, keep-alive, Accept-Encoding: gzip, loopback; the second of two passes is measured\n\n", b.Concurrency)
	b.printf("%18s  %8s  %10s  %8s  %8s\n", "", "query", "queries/s", "p50 ms", "p99 ms")
	for _, s := range sides {
		for _, q := range []string{"nearby", "around"} {
			st := results[s.label][q]
			b.printf("%18s  %8s  %10.0f  %8.2f  %8.2f\n", s.label, q, st.PerSecond, ms(st.P50), ms(st.P99))
		}
	}
	b.printf("\n")
	for _, q := range []string{"nearby", "around"} {
		ratio := results[sides[0].label][q].PerSecond / results[sides[1].label][q].PerSecond
		b.printf("%-7s replica over PostGIS, queries/s: %.1f (target ≥ 10): %s\n", q, ratio, verdict(ratio >= 10))
	}
	p99 := results[sides[0].label]["nearby"].P99
	b.printf("p99 of nearby from the replica %.2f ms (target < 5 ms): %s\n", ms(p99), verdict(p99 < 5*time.Millisecond))
	if !slices.Equal(bodies[sides[0].label], bodies[sides[1].label]) {
		b.fail("nearby: the replica and PostGIS answer with different cameras")
	} else {
		b.printf("answers      the first %d nearby answers name the same cameras in the same order on both sides\n", len(bodies[sides[0].label]))
	}
	return nil
}

// nearbyIDs returns the camera ids of a nearby answer, as text.
func nearbyIDs(body []byte) string {
	var a struct {
		Layers map[string]struct {
			Features []struct {
				ID int64 `json:"id"`
			} `json:"features"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return "error: " + err.Error()
	}
	var ids []string
	for _, f := range a.Layers["cameras"].Features {
		ids = append(ids, strconv.FormatInt(f.ID, 10))
	}
	return fmt.Sprint(ids)
}

// fetchPlain requests a URL without asking for gzip and returns its body.
func (l *loader) fetchPlain(ctx context.Context, url string) (int, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	status, body, err := l.client.GetTimeout(nil, url, requestTimeout)
	if err != nil {
		return 0, nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if status != http.StatusOK {
		return status, body, fmt.Errorf("GET %s: %d %.200s", url, status, body)
	}
	return status, body, nil
}

// The SQL side: what a developer would write against PostGIS, with the
// geometry indexes the schema has.
const (
	nearbySQL = `WITH c AS (SELECT * FROM cameras ORDER BY geom <-> ST_SetSRID(ST_MakePoint($1, $2), 4326) LIMIT 100)
SELECT coalesce(jsonb_agg(f ORDER BY (f->'properties'->>'distance_m')::float8, (f->>'id')::bigint), '[]')
FROM (SELECT jsonb_build_object('type', 'Feature', 'id', id, 'geometry', ST_AsGeoJSON(geom)::jsonb,
	'properties', to_jsonb(c) - 'geom' || jsonb_build_object('layer', 'cameras', 'distance_m',
		round(ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography)::numeric, 2))) f
	FROM c ORDER BY ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography), id LIMIT $3) q`

	// aroundLayerSQL is formatted with a layer's table.
	aroundLayerSQL = `WITH p AS (SELECT ST_SetSRID(ST_MakePoint($1, $2), 4326) AS g),
h AS (SELECT t.*, ST_Distance(t.geom::geography, p.g::geography) AS d FROM %[1]s t, p
	WHERE t.geom && ST_Expand(p.g, $3 / 90000.0 + 0.001) AND ST_DWithin(t.geom::geography, p.g::geography, $3))
SELECT jsonb_build_object('count', count(*), 'features', coalesce(jsonb_agg(jsonb_build_object('type', 'Feature', 'id', h.id,
	'geometry', ST_AsGeoJSON(h.geom)::jsonb, 'properties', to_jsonb(h) - 'geom' - 'd' || jsonb_build_object('distance_m', round(h.d::numeric, 2)))
	ORDER BY h.d, h.id), '[]')) FROM h`

	aroundGridsSQL = `WITH p AS (SELECT ST_SetSRID(ST_MakePoint($1, $2), 4326) AS g)
SELECT coalesce(jsonb_agg(jsonb_build_object('id', t.id, 'level', t.level, 'code', t.code, 'name', t.name,
	'worker_name', t.worker_name, 'worker_phone', t.worker_phone, 'distance_m', round(ST_Distance(t.geom::geography, p.g::geography)::numeric, 2))
	ORDER BY ST_Distance(t.geom::geography, p.g::geography), t.id), '[]')
FROM grids t, p WHERE t.geom && ST_Expand(p.g, $3 / 90000.0 + 0.001) AND ST_DWithin(t.geom::geography, p.g::geography, $3)`
)

// sqlHandler answers /healthz, /api/nearby and /api/around by SQL.
func sqlHandler(pool *pgxpool.Pool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"status":"ok"}`) })
	point := func(r *http.Request) (float64, float64, error) {
		lon, err1 := strconv.ParseFloat(r.URL.Query().Get("lon"), 64)
		lat, err2 := strconv.ParseFloat(r.URL.Query().Get("lat"), 64)
		return lon, lat, errors.Join(err1, err2)
	}
	mux.HandleFunc("/api/nearby", func(w http.ResponseWriter, r *http.Request) {
		lon, lat, err := point(r)
		k, kerr := strconv.Atoi(r.URL.Query().Get("k"))
		if err = errors.Join(err, kerr); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var features json.RawMessage
		if err := pool.QueryRow(r.Context(), nearbySQL, lon, lat, k).Scan(&features); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"point":[%v,%v],"k":%d,"layers":{"cameras":{"type":"FeatureCollection","features":%s}}}`, lon, lat, k, features)
	})
	mux.HandleFunc("/api/around", func(w http.ResponseWriter, r *http.Request) {
		lon, lat, err := point(r)
		radius, rerr := strconv.ParseFloat(r.URL.Query().Get("radius"), 64)
		if err = errors.Join(err, rerr); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out := map[string]json.RawMessage{}
		for _, layer := range []string{"risk_points", "households", "cameras", "stations"} {
			var v json.RawMessage
			if err := pool.QueryRow(r.Context(), fmt.Sprintf(aroundLayerSQL, pgx.Identifier{layer}.Sanitize()), lon, lat, radius).Scan(&v); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			out[layer] = v
		}
		var grids json.RawMessage
		if err := pool.QueryRow(r.Context(), aroundGridsSQL, lon, lat, radius).Scan(&grids); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"point": []float64{lon, lat}, "radius_m": radius, "layers": out, "grids": grids})
	})
	return mux
}

// runSQLServer serves sqlHandler over the database given as its one
// argument on a free loopback port until ctx ends.
func runSQLServer(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: onemap-bench " + sqlCommand + " DATABASE_URL")
	}
	pool, err := pgxpool.New(ctx, args[0])
	if err != nil {
		return err
	}
	defer pool.Close()
	return serveLoopback(ctx, "sql", sqlHandler(pool), stdout)
}
