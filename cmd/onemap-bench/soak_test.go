package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

func TestSoakArgs(t *testing.T) {
	tests := []struct {
		args []string
		want []string
		ok   bool
	}{
		{[]string{"soak"}, []string{}, true},
		{[]string{"soak", "--duration", "2m"}, []string{"--duration", "2m"}, true},
		{[]string{"--onemap", "bin/onemap", "soak", "--duration", "2m"}, []string{"--onemap", "bin/onemap", "--duration", "2m"}, true},
		{[]string{"--onemap=bin/onemap", "soak"}, []string{"--onemap=bin/onemap"}, true},
		{nil, nil, false},
		{[]string{"--skip-province"}, nil, false},
		{[]string{"--onemap", "bin/onemap", "public"}, nil, false},
		{[]string{"public", "soak"}, nil, false},
		{[]string{"--onemap=x", "extra", "soak"}, nil, false},
	}
	for _, tt := range tests {
		got, ok := soakArgs(tt.args)
		if ok != tt.ok || ok && !slices.Equal(got, tt.want) {
			t.Errorf("soakArgs(%q) = %q, %v; want %q, %v", tt.args, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseSoakConfig(t *testing.T) {
	env := func(string) string { return "postgres://u:p@127.0.0.1:1/postgres" }
	c, _, err := parseSoakConfig(nil, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Duration != 10*time.Minute || c.Interval != time.Minute || c.TileRate != 150 || c.QueryRate != 60 || c.WithinRate != 20 ||
		c.PublicRate != 200 || c.EditRate != 2 || c.Onemap != "bin/onemap" || c.AdminURL == "" {
		t.Errorf("defaults %+v", c)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--duration", "1s"}, "--duration"},
		{[]string{"--duration", "1m", "--interval", "2m"}, "--interval"},
		{[]string{"--tile-rate", "-1"}, "rates"},
		{[]string{"--edit-grids", "0"}, "--edit-grids"},
		{[]string{"extra"}, "unexpected"},
	} {
		if _, _, err := parseSoakConfig(tt.args, env, io.Discard); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseSoakConfig(%q) = %v, want an error about %s", tt.args, err, tt.want)
		}
	}
	if _, _, err := parseSoakConfig(nil, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("no database URL: no error")
	}
}

func TestParseMetrics(t *testing.T) {
	text := `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 23
go_memstats_heap_inuse_bytes 6.5536e+07
go_memstats_next_gc_bytes 9e+07
onemap_replica_features{layer="grids"} 1234
process_resident_memory_bytes 1.2582912e+08
onemap_replica_lag_changes 0 1700000000000
go_goroutines_other 9
`
	got := parseMetrics([]byte(text), serverMetrics...)
	want := map[string]float64{"go_goroutines": 23, "go_memstats_heap_inuse_bytes": 65536000,
		"process_resident_memory_bytes": 125829120, "onemap_replica_lag_changes": 0, "go_memstats_next_gc_bytes": 9e7}
	if len(got) != len(want) {
		t.Fatalf("parseMetrics = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestTally(t *testing.T) {
	var tl tally
	for i := range 100 {
		tl.add(event{At: time.Duration(i) * time.Second, Latency: time.Duration(i+1) * time.Millisecond}, nil)
	}
	tl.add(event{At: 10 * time.Second}, errConflict)
	tl.add(event{At: 10 * time.Second}, fmt.Errorf("wrapped: %w", errConflict))
	tl.add(event{At: 50 * time.Second}, errors.New("GET /x: status 500"))
	all := tl.window(0, math.MaxInt64)
	if all.Requests != 100 || all.Errors != 1 || all.Conflicts != 2 || all.P50 != 50*time.Millisecond || all.P99 != 99*time.Millisecond {
		t.Errorf("whole run %+v", all)
	}
	w := tl.window(10*time.Second, 20*time.Second) // events 10..19
	if w.Requests != 10 || w.Errors != 0 || w.Conflicts != 2 || w.P50 != 15*time.Millisecond || w.P99 != 20*time.Millisecond {
		t.Errorf("[10s, 20s) %+v", w)
	}
	if len(tl.firstErrs) != 1 || !strings.Contains(tl.firstErrs[0], "500") {
		t.Errorf("first errors %q", tl.firstErrs)
	}
}

func TestThirds(t *testing.T) {
	first, last := thirds(10*time.Minute, time.Minute)
	if first != [2]time.Duration{time.Minute, 200 * time.Second} || last[0] != 400*time.Second {
		t.Errorf("10 min: %v %v", first, last)
	}
	first, _ = thirds(30*time.Second, 10*time.Second)
	if first != [2]time.Duration{5 * time.Second, 10 * time.Second} {
		t.Errorf("30 s: %v", first)
	}
}

// steadyInput is a synthetic ten-minute soak that passes every verdict.
func steadyInput() soakInput {
	in := soakInput{Duration: 10 * time.Minute, Interval: time.Minute, Acked: 1200, Confirmed: 1200, Edited: 4, Current: 4, CaughtUp: true}
	for m := 1; m <= 10; m++ {
		in.Rows = append(in.Rows, soakRow{End: time.Duration(m) * time.Minute, Scraped: true,
			RSS: 120 << 20, Heap: 60 << 20, Goal: 90 << 20, Goroutines: 20})
	}
	for _, name := range []string{"tiles", "edit"} {
		in.Kinds = append(in.Kinds, soakKindResult{Name: name,
			Total: kindStats{Requests: 1000, Conflicts: 3},
			First: kindStats{Requests: 300, P99: 10 * time.Millisecond},
			Last:  kindStats{Requests: 300, P99: 12 * time.Millisecond}})
	}
	return in
}

// failed returns the verdicts that failed, by their first words.
func failed(checks []soakCheck) []string {
	var out []string
	for _, c := range checks {
		if !c.OK {
			out = append(out, strings.Join(strings.Fields(c.Text)[:2], " "))
		}
	}
	return out
}

func TestSoakVerdicts(t *testing.T) {
	if f := failed(soakVerdicts(steadyInput())); len(f) > 0 {
		t.Fatalf("a steady run fails %q", f)
	}
	tests := []struct {
		name   string
		change func(*soakInput)
		want   []string
	}{
		{"an error", func(in *soakInput) { in.Kinds[0].Total.Errors = 1; in.Kinds[0].FirstErrors = []string{"status 503"} },
			[]string{"errors: 1"}},
		{"a failed scrape", func(in *soakInput) { in.ScrapeErrors = 1 }, []string{"errors: 1"}},
		{"RSS grows", func(in *soakInput) { in.Rows[8].RSS = 151 << 20 }, []string{"RSS: at"}},
		{"RSS within the bound", func(in *soakInput) { in.Rows[9].RSS = 149 << 20; in.Rows[0].RSS = 500 << 20 }, nil},
		{"the heap's goal grows", func(in *soakInput) { in.Rows[9].Goal = 113 << 20 }, []string{"heap: GC"}},
		{"the heap in use varies within the GC cycle", func(in *soakInput) { in.Rows[9].Heap = 85 << 20 }, nil},
		{"goroutines leak", func(in *soakInput) { in.Rows[9].Goroutines = 71 }, []string{"goroutines: 71"}},
		{"goroutines within the slack", func(in *soakInput) { in.Rows[9].Goroutines = 70 }, nil},
		{"a latency grows", func(in *soakInput) { in.Kinds[1].Last.P99 = 21 * time.Millisecond }, []string{"p99 edit"}},
		{"a latency doubles exactly", func(in *soakInput) { in.Kinds[0].Last.P99 = 20 * time.Millisecond }, nil},
		{"no answers in a third", func(in *soakInput) { in.Kinds[0].First.Requests = 0 }, []string{"p99 tiles"}},
		{"an edit missing", func(in *soakInput) { in.Confirmed = 1199 }, []string{"edits: 1199"}},
		{"an unacknowledged write", func(in *soakInput) { in.Current = 3 }, []string{"edits: 1200"}},
		{"no edit acknowledged", func(in *soakInput) { in.Acked, in.Confirmed = 0, 0 }, []string{"edits: 0"}},
		{"the replica behind", func(in *soakInput) { in.CaughtUp, in.Lag = false, 3 }, []string{"replica: lag"}},
		{"a bad exit", func(in *soakInput) { in.StopErr = errors.New("exited with status 1") }, []string{"shutdown: exited"}},
		{"no rows", func(in *soakInput) { in.Rows = in.Rows[:1] }, []string{"memory and"}},
		{"rows without metrics are skipped", func(in *soakInput) { in.Rows[9].Scraped, in.Rows[9].RSS = false, 0 }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := steadyInput()
			tt.change(&in)
			if got := failed(soakVerdicts(in)); !slices.Equal(got, tt.want) {
				t.Errorf("failed verdicts %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("without edits", func(t *testing.T) {
		in := steadyInput()
		in.Kinds, in.Acked, in.Confirmed = in.Kinds[:1], 0, 0
		for _, c := range soakVerdicts(in) {
			if strings.HasPrefix(c.Text, "edits") {
				t.Errorf("a verdict on edits without edits: %s", c.Text)
			}
		}
	})
}

func TestWithinRequests(t *testing.T) {
	county := orb.Bound{Min: orb.Point{102.0, 25.3}, Max: orb.Point{102.6, 25.9}}
	a, b := withinRequests(county, 1, 30), withinRequests(county, 1, 30)
	for i := range a {
		if a[i].Path != b[i].Path || string(a[i].Body) != string(b[i].Body) {
			t.Fatalf("request %d differs between two calls with one seed", i)
		}
		switch i % 3 {
		case 0, 1:
			if a[i].Body != nil || !strings.HasPrefix(a[i].Path, "/api/within?") {
				t.Errorf("request %d: %+v, want a GET", i, a[i])
			}
		case 2:
			var body struct {
				Geometry struct {
					Type        string         `json:"type"`
					Coordinates [][][2]float64 `json:"coordinates"`
				} `json:"geometry"`
			}
			if err := json.Unmarshal(a[i].Body, &body); err != nil {
				t.Fatal(err)
			}
			ring := body.Geometry.Coordinates[0]
			if body.Geometry.Type != "Polygon" || len(ring) != 5 || ring[0] != ring[4] {
				t.Errorf("request %d: %s, want a closed quadrilateral", i, a[i].Body)
			}
		}
	}
}
