package tiles

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestValueIndex checks the index against a map over layers of random
// sizes, values repeating, across many generations.
func TestValueIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var x valueIndex
	for layer := range 300 {
		x.reset()
		want := map[string]uint32{}
		var order []string
		distinct := 1 + rng.IntN(3000)
		for range rng.IntN(6000) {
			v := strconv.Itoa(rng.IntN(distinct))
			if rng.IntN(10) == 0 {
				v = "" // the empty string is a value too
			}
			n, added := x.add(v)
			w, seen := want[v]
			if !seen {
				w = uint32(len(order))
				want[v] = w
				order = append(order, v)
			}
			if n != w || added == seen {
				t.Fatalf("layer %d: add(%q) = %d, %v; want %d, %v", layer, v, n, added, w, !seen)
			}
		}
		if len(x.values) != len(order) {
			t.Fatalf("layer %d: %d values, want %d", layer, len(x.values), len(order))
		}
		for i, v := range order {
			if x.values[i] != v {
				t.Fatalf("layer %d: value %d is %q, want %q", layer, i, x.values[i], v)
			}
		}
	}
	// A wrapped generation empties the table.
	x.gen = ^uint32(0)
	x.reset()
	if n, added := x.add("0"); n != 0 || !added {
		t.Errorf("after the generation wrapped: add = %d, %v; want 0, true", n, added)
	}
}
