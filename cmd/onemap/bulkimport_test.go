package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
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
	if n := historyRows(t, url, "stations"); n != 2 {
		t.Errorf("%d history rows after a bulk import of 2 rows, want 2", n)
	}
	if _, err := onemap("import", "--bulk", "maybe", "--layer", "stations", good); err == nil || !strings.Contains(err.Error(), "--bulk") {
		t.Errorf("--bulk maybe: %v", err)
	}
}

// TestImport_streamAuto: `onemap import` reads its file as a stream and,
// with --bulk auto, writes it set-based from bulkFrom rows (one reload
// feed row) and row by row below (a feed row a feature); a file whose
// last row is bad, read from standard input past the first bulkFrom rows,
// is refused whole, naming that row's line.
func TestImport_streamAuto(t *testing.T) {
	url := pgtest.URL(t)
	cli := newCLITest(t, url)
	stations := func(n int, last string) string {
		var b strings.Builder
		b.WriteString("name,kind,level,lon,lat\n")
		for i := range n {
			fmt.Fprintf(&b, "站%d,clinic,village,%.5f,25.5\n", i, 102.4+float64(i)*1e-5)
		}
		b.WriteString(last)
		return b.String()
	}
	bad := stations(bulkFrom+10, "坏,clinic,village,102.4,north\n")
	if _, err := cli.onemapIn(bad, "import", "--format", "csv", "--layer", "stations", "-"); err == nil ||
		!strings.Contains(err.Error(), fmt.Sprintf("line %d: ", bulkFrom+12)) || !strings.Contains(err.Error(), "nothing was imported") {
		t.Errorf("import of a file bad in its last row: %v; want line %d named", err, bulkFrom+12)
	}
	if n := countRows(t, url, "stations"); n != 0 {
		t.Errorf("%d stations after a refused import", n)
	}
	if out, err := cli.onemapIn(stations(bulkFrom, ""), "import", "--format", "csv", "--layer", "stations", "-"); err != nil ||
		!strings.Contains(out, fmt.Sprintf("imported %d features into stations: %d inserted", bulkFrom, bulkFrom)) {
		t.Fatalf("import of %d rows = %q, %v", bulkFrom, out, err)
	}
	if n := countRows(t, url, "change_feed"); n != 1 {
		t.Errorf("%d change-feed rows after an import of %d rows, want 1 (reload: the bulk path)", n, bulkFrom)
	}
	small := cli.write("small.csv", stations(3, ""))
	if out, err := cli.onemap("import", "--layer", "stations", small); err != nil || !strings.Contains(out, "imported 3 features into stations: 3 inserted") {
		t.Fatalf("import of 3 rows = %q, %v", out, err)
	}
	if n := countRows(t, url, "change_feed"); n != 1+3 {
		t.Errorf("%d change-feed rows after an import of 3 more rows, want 4 (the row path's one a feature)", n)
	}
	if n := historyRows(t, url, "stations"); n != bulkFrom+3 {
		t.Errorf("%d history rows, want %d", n, bulkFrom+3)
	}
}

// historyRows counts the versions in the history of the features of layer
// (a table's name), a bulk load's included (feature_history_of).
func historyRows(t *testing.T, url, layer string) int {
	t.Helper()
	return pgtest.Value[int](t, url, "SELECT count(*) FROM "+pgx.Identifier{layer}.Sanitize()+" f CROSS JOIN LATERAL feature_history_of($1, f.id)", layer)
}

// TestImport_heapFloor: `onemap import --heap-floor-mb N` sets the floor
// the collector counts as live while the file is imported (0: none); a
// floor out of range is refused before anything is read or written.
func TestImport_heapFloor(t *testing.T) {
	url := pgtest.URL(t)
	cli := newCLITest(t, url)
	good := cli.write("good.csv", "name,kind,level,lon,lat\n甲,clinic,village,102.4,25.5\n乙,hospital,township,102.41,25.51\n")
	for _, bad := range []string{"-1", "1048577"} {
		if _, err := cli.onemap("import", "--bulk", "on", "--heap-floor-mb", bad, "--layer", "stations", good); err == nil ||
			!strings.Contains(err.Error(), "--heap-floor-mb "+bad) {
			t.Errorf("--heap-floor-mb %s: %v; want it refused", bad, err)
		}
	}
	if n := countRows(t, url, "stations"); n != 0 {
		t.Errorf("%d stations after refused imports", n)
	}
	if out, err := cli.onemap("import", "--bulk", "on", "--heap-floor-mb", "0", "--layer", "stations", good); err != nil || !strings.Contains(out, "2 inserted") {
		t.Fatalf("import with no floor = %q, %v", out, err)
	}
}
