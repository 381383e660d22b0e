package main

import (
	"math"
	"slices"
	"time"
)

// percentile returns the p-th percentile (0 < p <= 100) of sorted values by
// the nearest-rank method: the smallest value that at least p per cent of
// the values are at or below. It returns zero for no values.
func percentile[T int | int64 | float64 | time.Duration](sorted []T, p float64) T {
	if len(sorted) == 0 {
		return 0
	}
	// p·n before the division: 0.99·100 is 99.00000000000001 in floating
	// point, and its ceiling would skip a rank.
	rank := int(math.Ceil(p * float64(len(sorted)) / 100))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// sortedCopy returns the values in ascending order, leaving vs as it was.
func sortedCopy[T int | int64 | float64 | time.Duration](vs []T) []T {
	s := slices.Clone(vs)
	slices.Sort(s)
	return s
}

// ms formats a duration in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
