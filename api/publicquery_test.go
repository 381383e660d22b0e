package api

import (
	"math/rand/v2"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// TestPublicQueryRaw holds the reading of a plain query string to
// the reading through url.Values: every query it accepts, the other reads
// the same (and accepts); the common ones it does accept; every other
// (refused, escaped, repeated, crs=) it leaves to the other, whose 400s
// stay as they were.
func TestPublicQueryRaw(t *testing.T) {
	// check reads raw both ways, for the stations and the shelters, and
	// says whether the stations' was read raw.
	check := func(raw string) bool {
		t.Helper()
		var stations bool
		for _, withKind := range []bool{true, false} {
			got, ok := publicQueryRaw(raw, withKind)
			if withKind {
				stations = ok
			}
			if !ok {
				continue
			}
			u, err := url.ParseQuery(raw)
			if err != nil {
				t.Fatalf("%q: read raw, but url.ParseQuery: %v", raw, err)
			}
			read := publicSheltersQuery
			if withKind {
				read = publicStationsQuery
			}
			want, err := read(u)
			if err != nil {
				t.Fatalf("%q (kind %v): read raw as %+v, but through url.Values: %v", raw, withKind, got, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q (kind %v): read raw as %+v, want %+v", raw, withKind, got, want)
			}
		}
		return stations
	}
	for _, raw := range []string{
		"lon=102.712345&lat=25.0412&limit=10",
		"lon=102.7&lat=25.04",
		"lat=25.04&lon=102.7&limit=50&radius=2000&kind=hospital,police",
		"lon=-180&lat=90&limit=1&radius=50000",
		"lon=102.7&lat=25.04&kind=",
		"lon=102.7&lat=25.04&kind=,a,,b,",
		"lon=102.7&lat=25.04&limit=",
		"lon=102.7&lat=25.04&radius=",
		"lon=1e2&lat=2.5E1",
	} {
		if !check(raw) {
			t.Errorf("%q: not read raw", raw)
		}
	}
	for _, raw := range []string{
		"", "lon=102.7", "lat=25", "lon=&lat=25", "lon=102.7&lat=25&crs=gcj02", "lon=102.7&lat=25&x=1",
		"lon=102.7&lat=25&lon=103", "lon=102.7&lat=25&limit=0", "lon=102.7&lat=25&limit=51", "lon=102.7&lat=25&limit=1.5",
		"lon=102.7&lat=25&radius=0", "lon=102.7&lat=25&radius=50001", "lon=102.7&lat=25&radius=NaN", "lon=NaN&lat=25",
		"lon=Inf&lat=25", "lon=180.1&lat=25", "lon=102.7&lat=-90.5", "lon=102.7&lat=25&kind=a%2Cb", "lon=102.7&lat=25&kind=a+b",
		"lon=102.7;lat=25", "lon=102.7&&lat=25", "lon=102.7&lat=25&kind", "lon=%20102.7&lat=25", "lon=102.7&lat=1e400",
	} {
		if check(raw) {
			t.Errorf("%q: read raw, want left to url.Values", raw)
		}
	}
	if _, ok := publicQueryRaw("lon=102.7&lat=25.04&kind=a", false); ok {
		t.Error("a shelters query with kind= read raw, want left to url.Values (which refuses it)")
	}
	if _, ok := publicQueryRaw("lon=102.7&lat=25.04&limit=5&radius=900", false); !ok {
		t.Error("a plain shelters query not read raw")
	}
	// Random queries of those parts.
	parts := []string{"lon=102.7", "lat=25.04", "lon=", "lat=", "limit=7", "limit=0", "limit=x", "radius=300", "radius=-1",
		"radius=", "kind=a", "kind=a,b", "kind=", "crs=bd09", "lon=0x1p6", "lat=1_0", "limit=+5", "limit=05", "lat=-0",
		"radius=1e3", "radius=.5", "lon=1.", "kind=%41", "x", "", "lon=200", "limit=9223372036854775808"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		n := 1 + rng.IntN(5)
		p := make([]string, n)
		for i := range p {
			p[i] = parts[rng.IntN(len(parts))]
		}
		check(strings.Join(p, "&"))
	}
}

// BenchmarkPublicStationsQuery measures the reading of a plain query: raw
// against through url.Values.
func BenchmarkPublicStationsQuery(b *testing.B) {
	const raw = "lon=102.712345&lat=25.041234&limit=10"
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := publicQueryRaw(raw, true); !ok {
				b.Fatal("not read")
			}
		}
	})
	b.Run("url.Values", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			u, _ := url.ParseQuery(raw)
			if _, err := publicStationsQuery(u); err != nil {
				b.Fatal(err)
			}
		}
	})
}
