package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// TestSourceCommands: `onemap source add` prints the key once and the
// database keeps only its verifier; list shows the sources; revoke revokes;
// bad input is refused with what is wrong; each is audited.
func TestSourceCommands(t *testing.T) {
	url := pgtest.DemoURL(t)
	cmd := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(context.Background(), append([]string{"onemap", "source"}, args...), env(map[string]string{"ONEMAP_DATABASE_URL": url}),
			strings.NewReader(""), &out, &errb)
		return out.String(), err
	}
	out, err := cmd("add", "video-platform", "--kinds", "face,crowd,status", "--region", "532329101000")
	key := regexp.MustCompile(`key: (omk_[A-Za-z0-9_-]{43})\n`).FindStringSubmatch(out)
	if err != nil || key == nil {
		t.Fatalf("source add = %q, %v", out, err)
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var verifier []byte
	var kinds []string
	if err := conn.QueryRow(t.Context(), `SELECT verifier, kinds FROM ingest_sources WHERE name = 'video-platform'`).Scan(&verifier, &kinds); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(verifier, onemap.SigningKey(key[1])) || bytes.Contains(verifier, []byte(key[1])) || strings.Join(kinds, ",") != "face,crowd,status" {
		t.Errorf("stored %x, kinds %v: want the key's verifier only", verifier, kinds)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"add", "video-platform", "--kinds", "face", "--region", "532329101000"}, "exists already"},
		{[]string{"add", "x", "--kinds", "face", "--region", "532329101000"}, "source name"},
		{[]string{"add", "iot", "--kinds", "faces", "--region", "532329101000"}, "unknown event kind"},
		{[]string{"add", "iot", "--region", "532329101000"}, "at least one event kind"},
		{[]string{"add", "iot", "--kinds", "face", "--region", "5323"}, "region"},
		{[]string{"add", "iot", "--kinds", "face", "--region", "532329999999"}, "no grid has code"},
		{[]string{"revoke", "nobody"}, "no source"},
		{[]string{"frobnicate"}, "usage"},
	} {
		if _, err := cmd(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("onemap source %s: err = %v, want it to say %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
	if out, err := cmd("revoke", "video-platform"); err != nil || !strings.Contains(out, "revoked") {
		t.Errorf("source revoke = %q, %v", out, err)
	}
	out, err = cmd("list")
	if err != nil || !regexp.MustCompile(`video-platform\s+face,crowd,status\s+532329101000\s+\d{4}-\d\d-\d\d \d\d:\d\dZ\s+-\s+\d{4}-`).MatchString(out) || strings.Contains(out, "omk_") {
		t.Errorf("source list = %q, %v", out, err)
	}
	var audited int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action IN ('source.add', 'source.revoke', 'source.list')
		AND target LIKE 'sources%' AND client = 'command line'`).Scan(&audited); err != nil || audited != 3 {
		t.Errorf("audited %d (%v), want 3", audited, err)
	}
}
