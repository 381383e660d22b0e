package inmem

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFloat32Cut: a distance is greater than float32Cut(b) exactly when it
// is greater than b as a float32, the comparison the public nearest
// search makes of every entry: at random bounds, at float32 values (even
// and odd), and at the distances around each cut.
func TestFloat32Cut(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 32))
	var bounds []float64
	for range 20000 {
		bounds = append(bounds, rng.Float64()*2e7, rng.Float64()*100, float64(float32(rng.Float64()*5000)))
	}
	bounds = append(bounds, 0, 1, 0.5, 1e-3, 12345.678, 2e7, float64(math.Nextafter32(1000, 2000)))
	for _, b := range bounds {
		c := float32Cut(b)
		for _, d := range []float64{c, math.Nextafter(c, math.Inf(1)), math.Nextafter(c, math.Inf(-1)), b,
			math.Nextafter(b, 0), math.Nextafter(b, math.Inf(1)), float64(float32(b))} {
			if got, want := d > c, float32(d) > float32(b); got != want {
				t.Fatalf("bound %v (cut %v): %v > cut is %v, as float32s %v", b, c, d, got, want)
			}
		}
	}
	if c := float32Cut(math.Inf(1)); !math.IsInf(c, 1) {
		t.Fatalf("float32Cut(+Inf) = %v", c)
	}
}
