package syncbuf

import (
	"strings"
	"sync"
	"testing"
)

// TestBuffer: writers and readers at once (run with -race), every
// line kept, and Bytes a copy the buffer's later writes do not change.
func TestBuffer(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				b.Write([]byte("line\n"))
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	if n := strings.Count(b.String(), "line\n"); n != 400 {
		t.Errorf("%d lines, want 400", n)
	}
	snap := b.Bytes()
	b.Write([]byte("more"))
	if len(snap) != 400*len("line\n") || strings.HasSuffix(string(snap), "more") {
		t.Errorf("Bytes changed with a later write: %d bytes", len(snap))
	}
}
