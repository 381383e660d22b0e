package api_test

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/prometheus/client_golang/prometheus"
)

// scrape reads /metrics of the metrics address base and returns each sample by its name and labels as
// written ("onemap_tile_cache_hits_total", `onemap_replica_features{layer="grids"}`).
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, body := get(t, base+"/metrics")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics = %d %s: %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	samples := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", line, err)
		}
		samples[line[:i]] = v
	}
	return samples
}

func TestMetrics(t *testing.T) {
	url := pgtest.DemoURL(t)
	ts := startServer(t, url, api.Config{AnonymousRole: onemap.RoleCommander, TileCacheBytes: 64 << 20})
	srv := ts.Server
	const tile = "/tiles/all/12/3212/1748.mvt"
	for _, p := range []string{tile, tile, "/api/nearby?lon=102.4&lat=25.53", "/api/nearby?lon=x", "/no/such/path"} {
		get(t, srv.URL+p)
	}
	brew, _ := http.NewRequest("BREW", srv.URL+"/healthz", nil)
	if resp, err := http.DefaultClient.Do(brew); err == nil {
		resp.Body.Close()
	}
	// The server's own address has no /metrics: it answers 404 as for any
	// unknown path of the API, whoever asks (TestAccessMatrix: every role).
	if resp, body := get(t, srv.URL+"/metrics"); resp.StatusCode != 404 || strings.Contains(string(body), "onemap_replica_features") {
		t.Errorf("GET /metrics on the server's address = %d %.200s, want 404", resp.StatusCode, body)
	}
	// A request is counted when its handler returns, which may be just
	// after its client has read the answer: scrape until the server is idle.
	m := scrape(t, ts.MetricsURL)
	for deadline := time.Now().Add(10 * time.Second); m[`onemap_http_requests_in_flight`] != 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		m = scrape(t, ts.MetricsURL)
	}
	for name, want := range map[string]float64{
		`onemap_http_requests_total{code="200",method="GET",route="/tiles/:tileset/:z/:x/:y"}`:      2,
		`onemap_http_requests_total{code="200",method="GET",route="/api/nearby"}`:                   1,
		`onemap_http_requests_total{code="400",method="GET",route="/api/nearby"}`:                   1,
		`onemap_http_requests_total{code="200",method="GET",route="other"}`:                         1, // the web client answers unknown paths
		`onemap_http_request_duration_seconds_count{method="GET",route="/tiles/:tileset/:z/:x/:y"}`: 2,
		`onemap_tile_cache_hits_total`:                                      1,
		`onemap_tile_cache_misses_total`:                                    1,
		`onemap_tile_cache_entries`:                                         1,
		`onemap_replica_features{layer="cameras"}`:                          15128,
		`onemap_database_up`:                                                1,
		`onemap_replica_lag_changes`:                                        0,
		`onemap_http_requests_in_flight`:                                    0, // the scrape is not the server's
		`onemap_http_requests_total{code="404",method="GET",route="other"}`: 1, // GET /metrics on the server's address
	} {
		if got, ok := m[name]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	for _, name := range []string{`onemap_http_requests_total{code="405",method="other",route="other"}`, `onemap_tile_cache_bytes`, `onemap_replica_seq`, `onemap_database_seq`,
		`onemap_db_pool_connections{state="max"}`, `onemap_db_pool_acquires_total{kind="all"}`, `go_goroutines`} {
		if m[name] <= 0 {
			t.Errorf("%s = %v, want more than 0", name, m[name])
		}
	}
	if m[`onemap_replica_seq`] != m[`onemap_database_seq`] {
		t.Errorf("replica seq %v, database seq %v: want equal before any change", m[`onemap_replica_seq`], m[`onemap_database_seq`])
	}
	if _, ok := m[`onemap_replica_last_apply_timestamp_seconds`]; ok {
		t.Error("a last-apply time before the replica applied anything")
	}
	for name := range m {
		if strings.Contains(name, "3212") || strings.Contains(name, "lon=") || strings.Contains(name, "/no/such") || strings.Contains(name, "BREW") {
			t.Errorf("a sample names a request's own values: %s", name)
		}
	}

	// A change: the replica applies it and the metrics say so.
	conn := sqlConn(t, url)
	if _, err := conn.Exec(t.Context(), `DELETE FROM cameras WHERE id = (SELECT min(id) FROM cameras)`); err != nil {
		t.Fatal(err)
	}
	seq := float64(pgtest.LatestSeq(t, url))
	deadline := time.Now().Add(10 * time.Second)
	for m = scrape(t, ts.MetricsURL); m[`onemap_replica_seq`] < seq; m = scrape(t, ts.MetricsURL) {
		if time.Now().After(deadline) {
			t.Fatalf("onemap_replica_seq = %v 10 s after the database reached %v", m[`onemap_replica_seq`], seq)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if m[`onemap_replica_features{layer="cameras"}`] != 15127 || m[`onemap_replica_changes_applied_total`] != 1 ||
		m[`onemap_replica_last_apply_timestamp_seconds`] < float64(time.Now().Add(-time.Minute).Unix()) ||
		m[`onemap_replica_lag_changes`] != 0 || m[`onemap_database_seq`] != seq {
		t.Errorf("after a delete: cameras %v, applied %v, last apply %v, lag %v, database seq %v (want 15127, 1, recent, 0, %v)",
			m[`onemap_replica_features{layer="cameras"}`], m[`onemap_replica_changes_applied_total`],
			m[`onemap_replica_last_apply_timestamp_seconds`], m[`onemap_replica_lag_changes`], m[`onemap_database_seq`], seq)
	}
}

// TestDeps_capabilitiesOff: a server given no grid store, change feed or
// pool in its Deps (though its Store could do all three) answers the grid
// editor with 503 and reports neither the database's position nor its pool:
// the capabilities come from Deps, not from what the store happens to be.
func TestDeps_capabilitiesOff(t *testing.T) {
	db := pgtest.Open(t, pgtest.DemoURL(t))
	catalog, replica := loadReplica(t, db)
	reg := prometheus.NewRegistry()
	h, _ := api.NewServer(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: db, Replica: replica,
		Catalog: catalog, Policy: onemap.DefaultPolicy(), Static: http.NotFoundHandler(), Metrics: reg},
		api.Config{AnonymousRole: onemap.RolePlanner})
	srv := httptest.NewServer(h)
	defer srv.Close()
	msrv := httptest.NewServer(api.MetricsHandler(reg))
	defer msrv.Close()
	if resp, body := get(t, srv.URL+"/api/grids"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("GET /api/grids without Deps.Grids = %d %.200s, want 503", resp.StatusCode, body)
	}
	m := scrape(t, msrv.URL)
	for name := range m {
		if strings.HasPrefix(name, "onemap_database_") || strings.HasPrefix(name, "onemap_db_pool_") || strings.HasPrefix(name, "onemap_replica_lag") {
			t.Errorf("%s reported without Deps.Feed and Deps.Pool", name)
		}
	}
	if m[`onemap_replica_seq`] <= 0 {
		t.Errorf("onemap_replica_seq = %v, want the replica's position still", m[`onemap_replica_seq`])
	}
}

// TestMetrics_repack: the tiles gzipped again, the bytes that saved and the
// tiles waiting for it are in the metrics.
func TestMetrics_repack(t *testing.T) {
	ts := startServer(t, pgtest.DemoURL(t), api.Config{AnonymousRole: onemap.RoleCommander, TileCacheBytes: 64 << 20})
	url := ts.URL + "/tiles/all" + countyTile
	_, gz1 := get(t, url, "Accept-Encoding", "gzip")
	m := scrape(t, ts.MetricsURL)
	for _, name := range []string{`onemap_tile_cache_repacked_total`, `onemap_tile_cache_repack_saved_bytes_total`, `onemap_tile_cache_repack_queued`} {
		if got, ok := m[name]; !ok || got != 0 {
			t.Errorf("after a tile served once: %s = %v (present %v), want 0", name, got, ok)
		}
	}
	get(t, url, "Accept-Encoding", "gzip") // the second time: queued
	api.WaitRepackedForTest(ts.Handler)
	_, gz := get(t, url, "Accept-Encoding", "gzip")
	m = scrape(t, ts.MetricsURL)
	if m[`onemap_tile_cache_repacked_total`] != 1 || m[`onemap_tile_cache_repack_saved_bytes_total`] != float64(len(gz1)-len(gz)) ||
		m[`onemap_tile_cache_repack_queued`] != 0 || len(gz) >= len(gz1) {
		t.Errorf("after a tile served again: repacked %v, saved %v (sent %d then %d bytes), queued %v",
			m[`onemap_tile_cache_repacked_total`], m[`onemap_tile_cache_repack_saved_bytes_total`], len(gz1), len(gz), m[`onemap_tile_cache_repack_queued`])
	}
}
