package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// A --baseline that is no executable fails before any database is made.
func TestRunPoints_baselineChecked(t *testing.T) {
	env := func(string) string { return "postgres://u:p@127.0.0.1:1/postgres" }
	dir := t.TempDir()
	for _, path := range []string{dir + "/absent", dir} {
		err := runPoints(context.Background(), []string{"--baseline", path}, env, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--baseline "+path+": not an executable file") {
			t.Errorf("--baseline %s: %v", path, err)
		}
	}
}

func TestFormatRatios(t *testing.T) {
	if got := formatRatios([]float64{1, 0.875, 2.004}); got != "1.00 0.88 2.00" {
		t.Errorf("formatRatios = %q", got)
	}
}

func TestRoundsMedian(t *testing.T) {
	for _, tt := range []struct {
		v    []float64
		want float64
	}{{[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}, {[]float64{0.9}, 0.9}, {[]float64{1.2, 0.8}, 1}} {
		if got := roundsMedian(tt.v); got != tt.want {
			t.Errorf("roundsMedian(%v) = %v, want %v", tt.v, got, tt.want)
		}
	}
}
