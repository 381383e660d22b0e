package api

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// TestAppendCentimetres holds appendCentimetres to what the answers wrote
// before it, appendJSONFloat(math.Round(d*100)/100), and to encoding/json:
// every whole number of centimetres up to 20 km, random distances up to
// half the equator and beyond its range, and the edge cases (encoding/json
// for every edge case and one value in 61 of the others).
func TestAppendCentimetres(t *testing.T) {
	checks := 0
	check := func(d float64) {
		t.Helper()
		want := string(appendJSONFloat(nil, math.Round(d*100)/100))
		if got := string(appendCentimetres(nil, d)); got != want {
			t.Fatalf("distance %v (%b): %s, want %s", d, math.Float64bits(d), got, want)
		}
		checks++
		if r := math.Round(d*100) / 100; checks%61 == 0 && !math.IsInf(r, 0) && !math.IsNaN(r) { // encoding/json now and then: it is slow
			if js, _ := json.Marshal(r); string(js) != want {
				t.Fatalf("distance %v: encoding/json writes %s, appendJSONFloat %s", d, js, want)
			}
		}
	}
	for n := range 2_000_000 {
		check(float64(n) / 100)
		check(float64(n)/100 + 0.004999)
	}
	rng := rand.New(rand.NewPCG(20, 1))
	for range 300_000 {
		check(rng.Float64() * 20_037_509)
		check(rng.Float64() * 100)
		check(math.Float64frombits(rng.Uint64())) // any float at all, NaNs and infinities among them
	}
	for _, d := range []float64{0, math.Copysign(0, -1), -0.001, -0.004, -1.5, 0.004999, 0.005, 0.00499999999, 0.01,
		0.015, 0.025, 1.005, 9_999_999_999.995, 1e10 - 0.004, 1e10, 1e12, 1e15, 1e21, 1e22, math.Inf(1), math.Inf(-1),
		math.NaN(), math.SmallestNonzeroFloat64, math.MaxFloat64} {
		checks = 60 // encoding/json too
		check(d)
	}
}
