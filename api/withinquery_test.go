package api

import (
	"net/url"
	"testing"
)

// TestReadWithinQuery holds readWithinQuery, which reads a plain query in
// place, to url.Values, which read every within query before: for plain
// queries and the others (escaped, repeated, unknown or empty names, empty
// pairs, names without values), the same refusal, or for each parameter
// the same Has and Get.
func TestReadWithinQuery(t *testing.T) {
	for _, raw := range []string{
		"lon=102.3&lat=25.6&radius=500&layers=cameras", "layers=cameras,risk_points&radius=500&lat=25.6&lon=102.3",
		"bbox=102.1,25.3,102.2,25.4", "bbox=102.1,25.3,102.2,25.4&crs=gcj02&limit=5&after=12",
		"lon=102.3&lat=25.6&radius=500&", "&&lon=102.3&&lat=25.6&radius=1", "lon=102.3&lat=25.6&radius",
		"lon=102.3&lat=25.6&radius=&layers=", "lon=102%2E3&lat=25.6&radius=500", "lon=102.3&lat=25.6&radius=5e2+",
		"lon=102.3;lat=25.6", "lon=102.3&lon=102.4&lat=25.6&radius=500", "lon=102.3&lat=25.6&radius=500&k=3",
		"layers=cameras&layers=risk_points&lon=1&lat=2&radius=3", "", "crs", "=5", "lon=1&=2", "bad%zz=1&lon=2",
		"LON=102.3&lat=25.6&radius=500", "limit=0&after=0&bbox=1,2,3,4",
	} {
		got, gotErr := readWithinQuery(raw)
		vals, _ := url.ParseQuery(raw)
		wantErr := checkQuery(vals, withinParams...)
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Errorf("%q: error %v, want %v", raw, gotErr, wantErr)
			continue
		}
		if wantErr != nil {
			continue
		}
		for i, name := range withinParams {
			if got.has(i) != vals.Has(name) || got.get(i) != vals.Get(name) {
				t.Errorf("%q: %s has %v get %q, want %v %q", raw, name, got.has(i), got.get(i), vals.Has(name), vals.Get(name))
			}
		}
	}
}
