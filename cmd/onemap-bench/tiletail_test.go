package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TestTurnOrder checks that the tiles run's rounds take turns: each binary
// first in every other round, and one binary alone in every round.
func TestTurnOrder(t *testing.T) {
	for _, tc := range []struct {
		n, r int
		want string
	}{{2, 0, "[0 1]"}, {2, 1, "[1 0]"}, {2, 2, "[0 1]"}, {2, 5, "[1 0]"}, {1, 0, "[0]"}, {1, 1, "[0]"}} {
		if got := fmt.Sprint(turnOrder(tc.n, tc.r)); got != tc.want {
			t.Errorf("turnOrder(%d, %d) = %s, want %s", tc.n, tc.r, got, tc.want)
		}
	}
	if got := fmt.Sprintf("%.2f", roundRatios([]float64{2, 3, 9}, []float64{4, 3})); got != "[0.50 1.00]" {
		t.Errorf("roundRatios: %s", got)
	}
}

// TestSettle checks that the warm phase asks for the tiles until a pass
// sends the bytes of the one before: a server that sends a tile in fewer
// bytes each of its first asks (as one gzipping a tile again would) is
// settled once the bytes stop changing, and one that never settles is left
// after maxSettle passes.
func TestSettle(t *testing.T) {
	for _, tc := range []struct {
		floor, want int
	}{{50, 6}, {0, maxSettle}, {100, 2}} {
		var mu sync.Mutex
		asked := map[string]int{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			asked[r.URL.Path]++
			n := max(tc.floor, 100-10*asked[r.URL.Path])
			if tc.floor == 0 {
				n = 100 + asked[r.URL.Path] // never the same
			}
			mu.Unlock()
			w.Write(bytes.Repeat([]byte{1}, n))
		}))
		b := &bench{config: config{Concurrency: 2}, out: io.Discard, progress: io.Discard}
		n, err := b.settle(t.Context(), &process{name: "test", URL: srv.URL}, []string{"/a", "/b", "/a"})
		srv.Close()
		if err != nil || n != tc.want {
			t.Errorf("floor %d: settled after %d passes, want %d (%v)", tc.floor, n, tc.want, err)
		}
	}
}
