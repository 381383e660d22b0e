package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	env := func(string) string { return "postgres://u:p@127.0.0.1:1/postgres" }
	c, err := parseConfig(nil, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Requests != 3000 || c.Concurrency != 8 || c.Points != 2_000_000 || c.Seed != 1 || c.Onemap != "bin/onemap" ||
		c.AdminURL != "postgres://u:p@127.0.0.1:1/postgres" || c.WaitQuiet != 5*time.Minute {
		t.Errorf("defaults %+v", c)
	}
	c, err = parseConfig([]string{"--points", "1000", "--skip-county", "--seed", "7", "--requests", "50"}, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Points != 1000 || !c.SkipCounty || c.Seed != 7 || c.Requests != 50 {
		t.Errorf("flags not read: %+v", c)
	}
	for _, tt := range []struct {
		args []string
		env  func(string) string
		want string
	}{
		{nil, func(string) string { return "" }, "no database server"},
		{[]string{"--requests", "0"}, env, "--requests"},
		{[]string{"--concurrency", "0"}, env, "--concurrency"},
		{[]string{"--points", "0"}, env, "--points"},
		{[]string{"extra"}, env, "unexpected arguments"},
	} {
		if _, err := parseConfig(tt.args, tt.env, io.Discard); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseConfig(%q) = %v, want an error about %s", tt.args, err, tt.want)
		}
	}
}

func TestParseConfig_helpHidesPassword(t *testing.T) {
	var out strings.Builder
	parseConfig([]string{"--help"}, func(string) string { return "postgres://u:s3cret@127.0.0.1:1/postgres" }, &out)
	if strings.Contains(out.String(), "s3cret") {
		t.Errorf("--help shows the password:\n%s", out.String())
	}
}
