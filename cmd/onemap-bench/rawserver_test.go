package main

import (
	"context"
	"net"
	"testing"
)

// TestRawServer checks that the raw server answers the load generator as
// the bare one does: the sizes given, 204 for an empty tile, a cache hit,
// keep-alive over many requests, and 404 for a path it does not know.
func TestRawServer(t *testing.T) {
	sizes := map[string]int{"/a": 100, "/b": 0, "/c": 70_000}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveRaw(ctx, ln, rawAnswers(sizes)) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	l := newLoader(2)
	defer l.close()
	base := "http://" + ln.Addr().String()
	paths := []string{"/a", "/b", "/c", "/healthz", "/a?x=1", "/c", "/b"}
	p, err := l.run(ctx, base, paths)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range p.Results {
		want, ok := sizes[paths[i]]
		switch {
		case paths[i] == "/healthz":
			want, ok = 31, true
		case paths[i] == "/a?x=1":
			want, ok = 100, true
		}
		if !ok || r.Bytes != want {
			t.Errorf("%s: %d bytes, want %d", paths[i], r.Bytes, want)
		}
		if wantStatus := map[bool]int{true: 204, false: 200}[want == 0]; r.Status != wantStatus {
			t.Errorf("%s: status %d, want %d", paths[i], r.Status, wantStatus)
		}
		if tile := paths[i] != "/healthz"; r.Cached != tile {
			t.Errorf("%s: cached %v, want %v", paths[i], r.Cached, tile)
		}
	}
	if _, err := l.run(ctx, base, []string{"/nowhere"}); err == nil {
		t.Error("an unknown path was answered")
	}
}
