package main

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
)

// TestCaseReadsEnd: the cases mode's reads end at a China midnight (not
// the UTC one, 08:00 China time), and those up to now start at the day or
// the month that ends then.
func TestCaseReadsEnd(t *testing.T) {
	cst := onemap.ChinaTime()
	for _, c := range []struct{ last, want time.Time }{
		{time.Date(2026, 12, 6, 23, 26, 45, 0, time.UTC), time.Date(2026, 12, 8, 0, 0, 0, 0, cst)},
		{time.Date(2026, 12, 6, 15, 59, 59, 0, time.UTC), time.Date(2026, 12, 7, 0, 0, 0, 0, cst)},
		{time.Date(2026, 12, 7, 0, 0, 0, 0, cst), time.Date(2026, 12, 8, 0, 0, 0, 0, cst)},
	} {
		if got := chinaMidnightAfter(c.last); !got.Equal(c.want) {
			t.Errorf("chinaMidnightAfter(%v) = %v, want %v", c.last, got, c.want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, now := range []time.Time{time.Date(2026, 12, 8, 0, 0, 0, 0, cst), time.Date(2026, 12, 1, 0, 0, 0, 0, cst)} {
		day, month := now.AddDate(0, 0, -1), time.Date(2026, 11, 1, 0, 0, 0, 0, cst)
		if now.Day() != 1 {
			month = time.Date(2026, 12, 1, 0, 0, 0, 0, cst)
		}
		seen := map[int64]bool{}
		for range 50 {
			from := untilNow(now, rng)
			if !from.Equal(day) && !from.Equal(month) {
				t.Fatalf("untilNow(%v) = %v, want %v or %v", now, from, day, month)
			}
			seen[from.Unix()] = true
		}
		if now.Day() != 1 && len(seen) != 2 {
			t.Errorf("untilNow(%v) gave only %v", now, seen)
		}
	}
}
