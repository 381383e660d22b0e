package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"
)

// TestServe_loadGOGC: serve raises GOGC to 400 while the replica loads
// unless --load-gogc says otherwise; 0 leaves GOGC alone (no
// GCDuringLoads in the replica's options).
func TestServe_loadGOGC(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"onemap", "serve", "--help"}, env(nil), nil, &out, &errb); err != nil {
		t.Fatalf("serve --help: %v", err)
	}
	if !regexp.MustCompile(`-load-gogc int\n[^\n]*\(ONEMAP_LOAD_GOGC\) \(default 400\)`).Match(errb.Bytes()) {
		t.Errorf("serve --help does not give --load-gogc with its default 400:\n%s", errb.String())
	}
	if o := replicaOptions(&config{LoadGOGC: 400}); o.LoadGC == nil {
		t.Errorf("--load-gogc 400: the replica's options have no LoadGC")
	}
	if o := replicaOptions(&config{LoadGOGC: 0}); o.LoadGC != nil {
		t.Errorf("--load-gogc 0: the replica's options have a LoadGC, want GOGC left alone")
	}
}
