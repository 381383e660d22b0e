package main

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name   string
		sorted []int
		p      float64
		want   int
	}{
		{"empty", nil, 50, 0},
		{"one/p50", []int{7}, 50, 7},
		{"one/p99", []int{7}, 99, 7},
		{"hundred/p50", hundred, 50, 50},
		{"hundred/p99", hundred, 99, 99}, // 0.99·100 in floating point is above 99
		{"hundred/p100", hundred, 100, 100},
		{"hundred/p1", hundred, 1, 1},
		{"hundred/p0.5", hundred, 0.5, 1},
		{"four/p50", []int{1, 2, 3, 4}, 50, 2},
		{"four/p51", []int{1, 2, 3, 4}, 51, 3},
		{"four/p99", []int{1, 2, 3, 4}, 99, 4},
		{"ten/p99", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 99, 10},
		{"ten/p90", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(%v, %v) = %d, want %d", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestPercentile_p99of1000(t *testing.T) {
	// Of 1,000 latencies, p99 is the 990th smallest: ten are above it.
	lat := make([]time.Duration, 1000)
	for i := range lat {
		lat[i] = time.Duration(1000-i) * time.Millisecond
	}
	s := sortedCopy(lat)
	if got := percentile(s, 99); got != 990*time.Millisecond {
		t.Errorf("p99 = %v, want 990ms", got)
	}
	if got := percentile(s, 50); got != 500*time.Millisecond {
		t.Errorf("p50 = %v, want 500ms", got)
	}
	if lat[0] != 1000*time.Millisecond {
		t.Error("sortedCopy changed its input")
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 2000000: "2,000,000", -12345: "-12,345"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
