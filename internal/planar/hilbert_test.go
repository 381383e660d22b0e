package planar

import (
	"math/rand/v2"
	"testing"
)

// TestHilbert: at every order up to 7 the curve visits each cell once,
// starts at (0, 0), ends at (2^k−1, 0), and steps from a cell to a
// neighbour; Hilbert16 is Hilbert(16) (at random cells, the square's
// corners and edges); the curve of order 16 agrees with the textbook
// construction at random cells.
func TestHilbert(t *testing.T) {
	for k := uint(0); k <= 7; k++ {
		n := uint64(1) << k
		at := make([][2]uint64, n*n)
		seen := make([]bool, n*n)
		for x := range n {
			for y := range n {
				d := Hilbert(k, x, y)
				if d >= n*n || seen[d] {
					t.Fatalf("order %d: (%d, %d) at %d, outside or taken", k, x, y, d)
				}
				seen[d], at[d] = true, [2]uint64{x, y}
			}
		}
		if at[0] != [2]uint64{0, 0} || at[n*n-1] != [2]uint64{n - 1, 0} {
			t.Fatalf("order %d: starts at %v, ends at %v", k, at[0], at[n*n-1])
		}
		for d := 1; d < len(at); d++ {
			a, b := at[d-1], at[d]
			if dist := max(a[0], b[0]) - min(a[0], b[0]) + max(a[1], b[1]) - min(a[1], b[1]); dist != 1 {
				t.Fatalf("order %d: from %v to %v at %d", k, a, b, d)
			}
		}
	}
	xy2d := func(x, y uint32) uint32 { // the textbook's
		var d uint32
		for s := uint32(1 << 15); s > 0; s /= 2 {
			var rx, ry uint32
			if x&s > 0 {
				rx = 1
			}
			if y&s > 0 {
				ry = 1
			}
			d += s * s * ((3 * rx) ^ ry)
			if ry == 0 {
				if rx == 1 {
					x, y = s-1-x&(s-1), s-1-y&(s-1)
				}
				x, y = y, x
			}
		}
		return d
	}
	rng := rand.New(rand.NewPCG(5, 6))
	cells := [][2]uint32{{0, 0}, {0xFFFF, 0}, {0, 0xFFFF}, {0xFFFF, 0xFFFF}, {0x8000, 0x7FFF}, {1, 0xFFFF}}
	for range 20000 {
		cells = append(cells, [2]uint32{rng.Uint32() & 0xFFFF, rng.Uint32() & 0xFFFF})
	}
	for _, c := range cells {
		x, y := c[0], c[1]
		want := xy2d(x, y)
		if got := Hilbert16(x, y); got != want {
			t.Fatalf("Hilbert16(%d, %d) = %d, want %d", x, y, got, want)
		}
		if got := Hilbert(16, uint64(x), uint64(y)); got != uint64(want) {
			t.Fatalf("Hilbert(16, %d, %d) = %d, want %d", x, y, got, want)
		}
	}
}

func BenchmarkHilbert16(b *testing.B) {
	var s uint32
	for i := 0; i < b.N; i++ {
		s += Hilbert16(uint32(i)&0xFFFF, uint32(i>>16)&0xFFFF)
	}
	_ = s
}
