package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onemapgis/onemap/internal/pgtest"
)

func TestCheckMetricsAddr(t *testing.T) {
	for _, c := range []struct {
		addr     string
		loopback bool
		bad      bool
	}{
		{addr: "", loopback: true}, {addr: "off", loopback: true},
		{addr: "127.0.0.1:9090", loopback: true}, {addr: "[::1]:9090", loopback: true}, {addr: "localhost:9090", loopback: true},
		{addr: "127.0.0.1:0", loopback: true},
		{addr: ":9090"}, {addr: "0.0.0.0:9090"}, {addr: "10.1.2.3:9090"}, {addr: "metrics.example:9090"},
		{addr: "9090", bad: true}, {addr: "127.0.0.1", bad: true}, {addr: "http://127.0.0.1:9090", bad: true},
	} {
		loopback, err := checkMetricsAddr(c.addr)
		if (err != nil) != c.bad || err == nil && loopback != c.loopback {
			t.Errorf("checkMetricsAddr(%q) = %v, %v; want loopback %v, error %v", c.addr, loopback, err, c.loopback, c.bad)
		}
	}
}

// TestServe_metricsAddr: `onemap serve --metrics-addr` serves /metrics on
// that address and not on the server's own, and a bad address stops serve
// before it opens the database.
func TestServe_metricsAddr(t *testing.T) {
	url := pgtest.DemoURL(t)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"onemap", "serve", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--log-level", "warn"},
			env(map[string]string{"ONEMAP_DATABASE_URL": url}), nil, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve ended with %v", err)
		}
	})
	var base, metrics string
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "onemap: metrics at "); ok {
				metrics = u
			}
			if u, ok := strings.CutPrefix(sc.Text(), "onemap: serving at "); ok {
				base = u
				close(found)
			}
		}
	}()
	select {
	case <-found:
	case err := <-done:
		t.Fatalf("serve ended early: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start within 60s")
	}
	if metrics == "" || !strings.HasPrefix(metrics, "http://127.0.0.1:") || !strings.HasSuffix(metrics, "/metrics") {
		t.Fatalf("metrics at %q", metrics)
	}
	get := func(u string) (int, string) {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(metrics); code != 200 || !strings.Contains(body, `onemap_replica_features{layer="cameras"} 15128`) {
		t.Errorf("GET %s = %d %.300s", metrics, code, body)
	}
	if code, body := get(base + "/metrics"); code != 404 || strings.Contains(body, "onemap_") {
		t.Errorf("GET %s/metrics = %d %.300s, want 404", base, code, body)
	}

	// A bad address is refused at once, naming the flag.
	err := run(context.Background(), []string{"onemap", "serve", "--metrics-addr", "9090"},
		env(map[string]string{"ONEMAP_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--metrics-addr") {
		t.Errorf("serve --metrics-addr 9090: %v", err)
	}
}
