package main

import (
	"fmt"
	"testing"
)

// TestTurnOrder checks that the tiles run's rounds take turns: each binary
// first in every other round, and one binary alone in every round.
func TestTurnOrder(t *testing.T) {
	for _, tc := range []struct {
		n, r int
		want string
	}{{2, 0, "[0 1]"}, {2, 1, "[1 0]"}, {2, 2, "[0 1]"}, {2, 5, "[1 0]"}, {1, 0, "[0]"}, {1, 1, "[0]"}} {
		if got := fmt.Sprint(turnOrder(tc.n, tc.r)); got != tc.want {
			t.Errorf("turnOrder(%d, %d) = %s, want %s", tc.n, tc.r, got, tc.want)
		}
	}
	if got := fmt.Sprintf("%.2f", roundRatios([]float64{2, 3, 9}, []float64{4, 3})); got != "[0.50 1.00]" {
		t.Errorf("roundRatios: %s", got)
	}
}
