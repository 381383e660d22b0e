package main

import (
	"testing"
	"time"
)

func TestParseProcStatus(t *testing.T) {
	status := "Name:\tonemap\nVmPeak:\t 2000000 kB\nVmHWM:\t  1536000 kB\nVmRSS:\t  1024000 kB\nThreads:\t9\n"
	rss, peak, err := parseProcStatus([]byte(status))
	if err != nil {
		t.Fatal(err)
	}
	if rss != 1024000<<10 || peak != 1536000<<10 {
		t.Errorf("rss %d, peak %d", rss, peak)
	}
	if _, _, err := parseProcStatus([]byte("Name:\tx\n")); err == nil {
		t.Error("no error without VmRSS and VmHWM")
	}
}

func TestReplicaLoad(t *testing.T) {
	log := `time=2026-01-01T00:00:00.000Z level=INFO msg="applied migrations"
time=2026-01-01T00:00:01.000Z level=INFO msg="loaded the replica" seq=100000 took=28.123s grids=0 cameras=2000000
time=2026-01-01T00:00:01.000Z level=INFO msg=serving url=http://127.0.0.1:1234
`
	d, ok := replicaLoad(log)
	if !ok || d != 28123*time.Millisecond {
		t.Errorf("replicaLoad = %v, %v; want 28.123s", d, ok)
	}
	if _, ok := replicaLoad("msg=serving\n"); ok {
		t.Error("found a load time in a log without one")
	}
}

func TestParseServerTiming(t *testing.T) {
	tests := []struct {
		header string
		render float64
		cached bool
	}{
		{`render;desc="replica";dur=12.345`, 12.345, false},
		{`cache;desc="hit"`, -1, true},
		{``, -1, false},
		{`db;dur=3, render;dur=0.5`, 0.5, false},
	}
	for _, tt := range tests {
		render, cached := parseServerTiming([]byte(tt.header))
		if render != tt.render || cached != tt.cached {
			t.Errorf("parseServerTiming(%q) = %v, %v; want %v, %v", tt.header, render, cached, tt.render, tt.cached)
		}
	}
}

func TestParseCPUInfo(t *testing.T) {
	info := "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) Processor\n"
	model, n := parseCPUInfo([]byte(info))
	if model != "Intel(R) Xeon(R) Processor" || n != 2 {
		t.Errorf("parseCPUInfo = %q, %d", model, n)
	}
}

func TestRedact(t *testing.T) {
	in := `-database-url (default "postgres://postgres:s3cr/et@127.0.0.1:54329/onemap?sslmode=disable") postgresql://u:p@h/db`
	want := `-database-url (default "postgres://postgres:***@127.0.0.1:54329/onemap?sslmode=disable") postgresql://u:***@h/db`
	if got := redact(in); got != want {
		t.Errorf("redact =\n%s\nwant\n%s", got, want)
	}
}

func TestParseProcStat(t *testing.T) {
	stat := "4242 (postgres: a (b)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 30 0 0 20 0 1 0 100 1000 100\n"
	comm, cpu, err := parseProcStat([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if comm != "postgres: a (b)" || cpu != 2800*time.Millisecond {
		t.Errorf("parseProcStat = %q, %v; want postgres: a (b), 2.8s", comm, cpu)
	}
}

func TestParseMachineStat(t *testing.T) {
	stat := "cpu  100 5 50 1000 20 1 2 3 0 0\ncpu0 50 2 25 500 10 0 1 1 0 0\n"
	busy, err := parseMachineStat([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if want := 155 * 10 * time.Millisecond; busy != want {
		t.Errorf("busy %v, want %v", busy, want)
	}
}
