package main

import (
	"strings"
	"testing"

	"github.com/onemapgis/onemap/internal/pgtest"
)

// TestImport_naturalKey imports stations by their code: a file of a changed
// station and a new one is reported by --dry-run without a write, then
// updates the one (a new version, no second row) and inserts the other.
func TestImport_naturalKey(t *testing.T) {
	url := pgtest.URL(t)
	cli := newCLITest(t, url)
	write, onemap := cli.write, cli.onemap
	first := write("a.csv", "code,name,kind,level,lon,lat,phone\nS-1,狮山镇卫生院,hospital,township,102.405,25.530,0878-8711111\n")
	if out, err := onemap("import", "--layer", "stations", first); err != nil || !strings.Contains(out, "1 inserted, 0 updated, 0 unchanged") {
		t.Fatalf("import = %q, %v", out, err)
	}
	second := write("b.csv", "code,name,kind,level,lon,lat,phone\nS-1,狮山镇卫生院,hospital,township,102.405,25.530,0878-8712222\n"+
		"S-2,东岳社区卫生室,clinic,village,102.410,25.535,\n")
	out, err := onemap("import", "--layer", "stations", "--dry-run", second)
	if err != nil || !strings.Contains(out, "1 would be inserted, 1 updated, 0 left unchanged; nothing was written") {
		t.Fatalf("dry run = %q, %v", out, err)
	}
	if n := countRows(t, url, "stations"); n != 1 {
		t.Fatalf("after the dry run: %d stations, want 1", n)
	}
	if out, err := onemap("import", "--layer", "stations", second); err != nil || !strings.Contains(out, "1 inserted, 1 updated, 0 unchanged") {
		t.Fatalf("import = %q, %v", out, err)
	}
	var n, version int
	var phone, file string
	pgtest.Scan(t, url, `SELECT (SELECT count(*) FROM stations WHERE code = 'S-1'), s.version, s.phone, h.import_file
		FROM stations s JOIN feature_history h ON h.layer = 'stations' AND h.feature_id = s.id AND h.version = s.version WHERE s.code = 'S-1'`,
		nil, &n, &version, &phone, &file)
	if n != 1 || version != 2 || phone != "0878-8712222" || file != "b.csv" {
		t.Errorf("S-1: %d rows, version %d, phone %q, history's file %q", n, version, phone, file)
	}
}
