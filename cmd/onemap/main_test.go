package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap/internal/pgtest"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// startServer runs `onemap serve` on a free port and returns its base URL.
func startServer(t *testing.T, dbURL string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	// Metrics on a free port too: the default one would be shared by
	// every server a test starts.
	args := append([]string{"onemap", "serve", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--log-level", "warn"}, extra...)
	go func() {
		done <- run(ctx, args, env(map[string]string{"ONEMAP_DATABASE_URL": dbURL}), nil, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve ended with %v", err)
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "onemap: serving at "); ok {
				lines <- u
			}
		}
	}()
	select {
	case u := <-lines:
		resp, err := http.Get(u + "/healthz")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("healthz: %v %v", resp, err)
		}
		resp.Body.Close()
		return u
	case err := <-done:
		t.Fatalf("serve ended early: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start within 60s")
	}
	return ""
}

func TestServe_twoServersOnEmptyDatabase(t *testing.T) {
	url := pgtest.EmptyURL(t)
	var wg sync.WaitGroup
	urls := make([]string, 2)
	for i := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			urls[i] = startServer(t, url)
		}()
	}
	wg.Wait()
	for _, u := range urls {
		resp, err := http.Get(u + "/readyz")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("readyz of %s: %v %v", u, resp, err)
		}
		resp.Body.Close()
		resp, err = http.Get(u + "/api/layers")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("layers of %s: %v %v", u, resp, err)
		}
		resp.Body.Close()
	}
}

func countRows(t *testing.T, url, table string) int {
	t.Helper()
	return pgtest.Value[int](t, url, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize())
}

func TestImportExport(t *testing.T) {
	url := pgtest.URL(t)
	cli := newCLITest(t, url)
	write, onemap := cli.write, cli.onemap

	good := write("stations.csv", "name,kind,level,lon,lat,services,phone\n"+
		"狮山镇卫生院,hospital,township,102.405,25.530,门诊;住院,0878-8711111\n"+
		"东岳社区卫生室,clinic,village,102.410,25.535,门诊,\n")
	if out, err := onemap("import", "--layer", "stations", good); err != nil || !strings.Contains(out, "imported 2 features") {
		t.Fatalf("import = %q, %v", out, err)
	}

	for name, tc := range map[string]struct{ file, body, want string }{
		"csv bad number": {"bad.csv", "name,kind,level,lon,lat\n甲,clinic,village,102.4,25.5\n乙,clinic,village,102.4,北纬25\n",
			"line 3: lon=\"102.4\", lat=\"北纬25\" is not a longitude and latitude"},
		"csv unknown kind": {"kind.csv", "name,kind,level,lon,lat\n甲,clinic,village,102.4,25.5\n乙,spaceport,village,102.4,25.5\n",
			"line 3: "},
		"csv unknown column": {"col.csv", "name,kind,level,lon,lat,colour\n甲,clinic,village,102.4,25.5,red\n",
			"line 2: unknown field \"colour\""},
		"geojson syntax": {"bad.geojson", "{\"type\":\"FeatureCollection\",\"features\":[\n{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[102.4,25.5]},\"properties\":{\"name\":\"甲\",\"kind\":\"clinic\",\"level\":\"village\"}},\n{\"type\":\"Feature\" \"geometry\":null}]}",
			"line 3: malformed JSON"},
		"geojson missing field": {"miss.geojson", "{\"type\":\"FeatureCollection\",\"features\":[\n{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[102.4,25.5]},\"properties\":{\"name\":\"甲\",\"kind\":\"clinic\",\"level\":\"village\"}},\n{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[102.4,25.5]},\"properties\":{\"name\":\"乙\"}}]}",
			"feature 2 (line 3): field \"kind\" is required"},
	} {
		t.Run(name, func(t *testing.T) {
			before := countRows(t, url, "stations")
			_, err := onemap("import", "--layer", "stations", write(tc.file, tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing was imported") {
				t.Errorf("import error = %v; want it to contain %q", err, tc.want)
			}
			if after := countRows(t, url, "stations"); after != before {
				t.Errorf("stations went from %d to %d after a rejected import", before, after)
			}
		})
	}

	out, err := onemap("export", "--layer", "stations")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "狮山镇卫生院") || !strings.Contains(out, `"FeatureCollection"`) {
		t.Errorf("export = %.300s", out)
	}
	// An export imports again as it is (read-only fields are skipped).
	again := write("again.geojson", out)
	if out, err := onemap("import", "--layer", "stations", again); err != nil || !strings.Contains(out, "imported 2 features") {
		t.Errorf("re-import of the export = %q, %v", out, err)
	}
}

func TestRun_usage(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"onemap", "serve", "--help"}, env(nil), nil, &out, &errb); err != nil {
		t.Errorf("serve --help: %v", err)
	}
	for _, want := range []string{"ONEMAP_DATABASE_URL", "ONEMAP_ADDR", "ONEMAP_ANONYMOUS_ROLE"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("serve --help does not mention %s", want)
		}
	}
	// The database URL holds a password: usage never prints it.
	errb.Reset()
	secret := env(map[string]string{"ONEMAP_DATABASE_URL": "postgres://onemap:s3cret@127.0.0.1:1/onemap"})
	run(context.Background(), []string{"onemap", "serve", "--help"}, secret, nil, &out, &errb)
	run(context.Background(), []string{"onemap", "serve", "--no-such-flag"}, secret, nil, &out, &errb)
	if strings.Contains(errb.String(), "s3cret") {
		t.Errorf("usage prints the database password:\n%s", errb.String())
	}
	if err := run(context.Background(), []string{"onemap", "serve"}, env(nil), nil, &out, &errb); err == nil || !strings.Contains(err.Error(), "ONEMAP_DATABASE_URL") {
		t.Errorf("serve without a database: %v", err)
	}
	if err := run(context.Background(), []string{"onemap", "frobnicate"}, env(nil), nil, &out, &errb); err == nil {
		t.Errorf("unknown command accepted")
	}
	fmt.Fprint(io.Discard, out.String())
}

// TestServe_flagsCheckedFirst checks that every flag of serve is checked
// before the database is opened: with a database that cannot be reached,
// each bad flag is what the error names, not the connection.
func TestServe_flagsCheckedFirst(t *testing.T) {
	nowhere := env(map[string]string{"ONEMAP_DATABASE_URL": "postgres://onemap:x@127.0.0.1:1/onemap?connect_timeout=1"})
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--anonymous-role", "mayor"}, "mayor"},
		{[]string{"--tile-renderer", "gdal"}, "--tile-renderer"},
		{[]string{"--tile-cache-mb", "-1"}, "--tile-cache-mb"},
		{[]string{"--feature-cache-mb", "-1"}, "--feature-cache-mb"},
		{[]string{"--load-gogc", "-1"}, "--load-gogc"},
		{[]string{"--heap-floor-mb", "-1"}, "--heap-floor-mb"},
		{[]string{"--trusted-proxies", "10.0.0.0/33"}, "--trusted-proxies"},
		{[]string{"--basemap-url", "ftp://tiles/{z}/{x}/{y}.png"}, "--basemap-url"},
		{[]string{"--basemap-file", "testdata/no-such.pmtiles"}, "--basemap-file"},
		{[]string{"--basemap-file", "main.go"}, "neither an MBTiles"},
		{[]string{"--basemap-file", "x.mbtiles", "--basemap-url", "https://t/{z}/{x}/{y}.png"}, "not both"},
		{[]string{"--audit-keep", "720h"}, "--audit-keep"},
		{[]string{"--audit-key", "k", "--audit-checkpoint-every", "0s"}, "--audit-checkpoint-every"},
		{[]string{"--public-burst", "0"}, "--public-burst"},
		{[]string{"--personal-reads-burst", "0"}, "--personal-reads-burst"},
		{[]string{"--personal-reads-per-hour", "0"}, "--personal-reads-per-hour"},
		{[]string{"--envelope", "1,2,3"}, "--envelope"},
		{[]string{"--metrics-addr", "nowhere:port"}, "metrics-addr"},
		{[]string{"--live-video-url", "https://vp.example/live"}, "--live-video-secret"},
		{[]string{"--live-video-url", "https://vp.example/live", "--live-video-secret", "s", "--live-video-ttl", "2h"}, "--live-video-ttl"},
		{[]string{"--snapshot-base-url", "ftp://vp/{ref}"}, "--snapshot-base-url"},
		{[]string{"--alarm-keep", "240h", "--snapshot-keep", "720h"}, "--snapshot-keep"},
		{[]string{"--alarm-keep", "-1h"}, "--alarm-keep"},
		{[]string{"--tag-retention", "1h"}, "--tag-retention"},
		{[]string{"--mqtt-url", "http://broker"}, "--mqtt-url"},
		{[]string{"--mqtt-url", "tcp://broker:1883"}, "--mqtt-source"},
	} {
		var out, errb bytes.Buffer
		err := run(context.Background(), append([]string{"onemap", "serve", "--metrics-addr", ""}, tc.flags...), nowhere, nil, &out, &errb)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("serve %v: %v, want an error naming %s", tc.flags, err, tc.want)
		}
	}
}

// TestSeedDemo_asOf checks the day the demo describes: a bad --as-of is
// named before the database is opened, and the default is the day in
// China, which begins 8 hours before the day in UTC.
func TestSeedDemo_asOf(t *testing.T) {
	var out, errb bytes.Buffer
	unreachable := env(map[string]string{"ONEMAP_DATABASE_URL": "postgres://onemap@127.0.0.1:1/onemap?connect_timeout=1"})
	err := run(context.Background(), []string{"onemap", "seed", "demo", "--as-of", "30/06/2025"}, unreachable, nil, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "--as-of") {
		t.Errorf("seed demo --as-of 30/06/2025: %v, want the flag named", err)
	}
	for _, c := range []struct{ at, want string }{
		{"2026-12-05T15:59:59Z", "2026-12-05"},
		{"2026-12-05T16:00:00Z", "2026-12-06"},
		{"2026-12-31T23:00:00-05:00", "2027-01-01"},
	} {
		at, _ := time.Parse(time.RFC3339, c.at)
		if got := demoDay(at).Format(time.DateOnly); got != c.want {
			t.Errorf("demoDay(%s) = %s, want %s", c.at, got, c.want)
		}
	}
}
