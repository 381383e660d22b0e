package api

import (
	"net/url"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
)

// nearbyQuerySeeds are queries of /api/nearby, plain and otherwise: the
// ones readQuery reads in place and the ones it leaves to url.Values.
var nearbyQuerySeeds = []string{
	"",
	"lon=102.3&lat=25.5",
	"lon=102.3&lat=25.5&layers=cameras&k=10",
	"lon=102.3&lat=25.5&layers=cameras&k=10&fields=name,status",
	"lon=102.3&lat=25.5&layers=cameras,hospitals&k=3&radius=500&kind=a,b&level=x&status=ok&crs=gcj02",
	"lon=102.3&&lat=25.5&",      // empty pairs
	"lon&lat=",                  // names without values
	"lon=102.3&lat=25.5&lat=26", // a repeat
	"lon=102.3&lat=25.5&fields=name&fields=status", // fields= twice
	"lon=102.3&lat=25.5&colour=red",                // not a parameter of the route
	"lon=102.3&lat=25.5&=x",                        // an empty name
	"l%6Fn=102.3&lat=25.5",                         // an escaped name
	"lon=102%2E3&lat=25.5",                         // an escaped value
	"lon=102.3&lat=25.5&layers=cameras+",           // a '+'
	"lon=102.3;lat=25.5",                           // a ';', refused by url.ParseQuery
	"lon=102.3&lat=25.5&k=%zz",                     // a bad escape, left out by url.ParseQuery
	"lon=1=2&lat=25.5",
	"LON=102.3&lat=25.5",
}

// checkNearbyQuery holds nearbyQuery(raw) to what the route read before it
// had its own reader: url.ParseQuery's values (Get, fields= joined), Has,
// and checkQuery's refusal.
func checkNearbyQuery(t *testing.T, raw string) {
	q, has, err := nearbyQuery(raw)
	old, _ := url.ParseQuery(raw)
	oldErr := checkQuery(old, nearbyParams...)
	if (err != nil) != (oldErr != nil) {
		t.Fatalf("%q: error %v, url.Values gives %v", raw, err, oldErr)
	}
	if err != nil {
		if onemap.ErrorCode(err) != onemap.EINVALID {
			t.Fatalf("%q: %v, want EINVALID", raw, err)
		}
		unknown := 0
		for k := range old {
			if !strings.Contains(" lon lat crs layers k radius kind level status fields ", " "+k+" ") || k == "" {
				unknown++
			}
		}
		if unknown == 1 && err.Error() != oldErr.Error() { // more than one: either is named
			t.Fatalf("%q: %v, url.Values gives %v", raw, err, oldErr)
		}
		return
	}
	for i, name := range nearbyParams {
		want := old.Get(name)
		if name == "fields" {
			want = strings.Join(old["fields"], ",")
		}
		if q[i] != want || (has&(1<<i) != 0) != old.Has(name) {
			t.Fatalf("%q: %s = %q (given %v), url.Values gives %q (given %v)", raw, name, q[i], has&(1<<i) != 0, want, old.Has(name))
		}
	}
}

func TestNearbyQuery(t *testing.T) {
	for _, raw := range nearbyQuerySeeds {
		checkNearbyQuery(t, raw)
	}
	// The plain query of a map client is read without allocating.
	if n := testing.AllocsPerRun(100, func() {
		nearbyQuery("lon=102.3&lat=25.5&layers=cameras&k=10&fields=name,status")
	}); n != 0 {
		t.Errorf("a plain query allocates %v times, want 0", n)
	}
}

func FuzzNearbyQuery(f *testing.F) {
	for _, s := range nearbyQuerySeeds {
		f.Add(s)
	}
	f.Fuzz(checkNearbyQuery)
}
