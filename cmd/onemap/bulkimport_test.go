package main

import (
	"strings"
	"testing"

	"github.com/onemapgis/onemap/internal/pgtest"
)

// TestImport_bulk: `onemap import --bulk on` writes a file set-based, with
// one change-feed row of op reload, and refuses a file with a row the
// database refuses, naming its line, writing nothing.
func TestImport_bulk(t *testing.T) {
	url := pgtest.URL(t)
	cli := newCLITest(t, url)
	write, onemap := cli.write, cli.onemap
	bad := write("bad.csv", "name,kind,level,lon,lat\n甲,clinic,village,102.4,25.5\n乙,spaceport,village,102.4,25.5\n")
	if _, err := onemap("import", "--bulk", "on", "--layer", "stations", bad); err == nil ||
		!strings.Contains(err.Error(), "line 3: ") || !strings.Contains(err.Error(), "nothing was imported") {
		t.Errorf("bulk import of a bad file: %v; want line 3 named", err)
	}
	if n := countRows(t, url, "stations"); n != 0 {
		t.Errorf("%d stations after a refused bulk import", n)
	}
	good := write("good.csv", "name,kind,level,lon,lat\n甲,clinic,village,102.4,25.5\n乙,hospital,township,102.41,25.51\n")
	if out, err := onemap("import", "--bulk", "on", "--layer", "stations", good); err != nil || !strings.Contains(out, "2 inserted") {
		t.Fatalf("bulk import = %q, %v", out, err)
	}
	if n := countRows(t, url, "change_feed"); n != 1 {
		t.Errorf("%d change-feed rows after a bulk import of 2 rows, want 1 (reload)", n)
	}
	if n := countRows(t, url, "feature_history"); n != 2 {
		t.Errorf("%d history rows after a bulk import of 2 rows, want 2", n)
	}
	if _, err := onemap("import", "--bulk", "maybe", "--layer", "stations", good); err == nil || !strings.Contains(err.Error(), "--bulk") {
		t.Errorf("--bulk maybe: %v", err)
	}
}
