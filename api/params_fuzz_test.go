package api

import (
	"encoding/json"
	"net/url"
	"strconv"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

// Fuzz targets of the parsers of query parameters and request bodies. Each
// checks that no input panics, that a refusal is EINVALID (a 400 with a
// message, never a 500), and that what is accepted is within the limits
// the parser promises. Seeds are in testdata/fuzz/<target>/.

func FuzzParseBound(f *testing.F) {
	for _, s := range []string{"102.3,25.4,102.5,25.6", "-180,-90,180,90", "1,2,3", "a,b,c,d", "1e308,0,1e309,0", " 1 , 2 , 3 , 4 ", "NaN,0,1,1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := parseBound("bbox", s)
		if err != nil {
			if onemap.ErrorCode(err) != onemap.EINVALID || onemap.ErrorMessage(err) == "" {
				t.Fatalf("parseBound(%q): %v, want EINVALID with a message", s, err)
			}
			return
		}
		if b.Min[0] < -180 || b.Max[0] > 180 || b.Min[1] < -90 || b.Max[1] > 90 || b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1] {
			t.Fatalf("parseBound(%q) accepted %v", s, b)
		}
		// What it accepts, written back, reads the same.
		again, err := parseBound("bbox", formatBound(b))
		if err != nil || again != b {
			t.Fatalf("parseBound(%q) = %v; written back %q it reads %v, %v", s, b, formatBound(b), again, err)
		}
	})
}

func formatBound(b orb.Bound) string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return f(b.Min[0]) + "," + f(b.Min[1]) + "," + f(b.Max[0]) + "," + f(b.Max[1])
}

func FuzzParseInt(f *testing.F) {
	for _, s := range []string{"", "1", "10000", "10001", "-1", "0x10", "9223372036854775808", "1e3"} {
		f.Add(s, int64(1), int64(10000))
	}
	f.Fuzz(func(t *testing.T, s string, lo, hi int64) {
		if lo > hi {
			return
		}
		n, err := parseInt("limit", s, lo, lo, hi)
		if err != nil {
			if onemap.ErrorCode(err) != onemap.EINVALID {
				t.Fatalf("parseInt(%q): %v, want EINVALID", s, err)
			}
			return
		}
		if n < lo || n > hi {
			t.Fatalf("parseInt(%q, [%d, %d]) = %d", s, lo, hi, n)
		}
	})
}

// FuzzQueryParams drives the parsers of the query routes' parameters (a
// point, a radius, a query string as a whole) as a request's query string.
func FuzzQueryParams(f *testing.F) {
	for _, s := range []string{"lon=102.4&lat=25.5", "lon=102.4&lat=25.5&radius=1000", "lon=x&lat=1", "lat=91&lon=0",
		"radius=-1", "radius=1e400", "bbox=1,2,3,4&layers=stations,cameras&limit=5", "%zz=1", "lon=1&lon=2&lat=3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return // gin refuses it the same way: the query is empty
		}
		if p, err := parsePoint(q); err == nil {
			if p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 {
				t.Fatalf("parsePoint(%q) = %v", raw, p)
			}
		} else if onemap.ErrorCode(err) != onemap.EINVALID {
			t.Fatalf("parsePoint(%q): %v, want EINVALID", raw, err)
		}
		if r, err := parseRadius(q.Get("radius"), 1000); err == nil {
			if r <= 0 || r > maxRadius {
				t.Fatalf("parseRadius(%q) = %v", q.Get("radius"), r)
			}
		} else if onemap.ErrorCode(err) != onemap.EINVALID {
			t.Fatalf("parseRadius(%q): %v, want EINVALID", q.Get("radius"), err)
		}
		if err := checkQuery(q, "lon", "lat", "radius"); err != nil && onemap.ErrorCode(err) != onemap.EINVALID {
			t.Fatalf("checkQuery(%q): %v", raw, err)
		}
	})
}

// FuzzParseArea drives the reader of a drawn area (the body of POST
// /api/within): what it accepts is a closed, bounded area in degrees.
func FuzzParseArea(f *testing.F) {
	for _, s := range []string{
		`{"type":"Polygon","coordinates":[[[102.3,25.4],[102.5,25.4],[102.5,25.6],[102.3,25.4]]]}`,
		`{"type":"MultiPolygon","coordinates":[[[[102.3,25.4],[102.5,25.4],[102.5,25.6],[102.3,25.4]]],[[[103,26],[103.1,26],[103.1,26.1],[103,26]]]]}`,
		`{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}`,
		`{"type":"Point","coordinates":[1,2]}`,
		`{"type":"Polygon","coordinates":[]}`,
		`{"type":"Polygon","coordinates":[[[1,2]]]}`,
		`null`, `[]`, `{"type":"Polygon","coordinates":[[[1e999,0],[0,0],[0,1],[1e999,0]]]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		mp, err := parseArea(json.RawMessage(raw))
		if err != nil {
			if onemap.ErrorCode(err) != onemap.EINVALID {
				t.Fatalf("parseArea(%q): %v, want EINVALID", raw, err)
			}
			return
		}
		n := 0
		for _, p := range mp {
			if len(p) == 0 {
				t.Fatalf("parseArea(%q) accepted a polygon without rings", raw)
			}
			for _, r := range p {
				n += len(r)
				if len(r) < 4 || r[0] != r[len(r)-1] {
					t.Fatalf("parseArea(%q) accepted an open ring %v", raw, r)
				}
				for _, v := range r {
					if !(v[0] >= -180 && v[0] <= 180 && v[1] >= -90 && v[1] <= 90) {
						t.Fatalf("parseArea(%q) accepted %v", raw, v)
					}
				}
			}
		}
		if n > maxAreaVertices {
			t.Fatalf("parseArea(%q) accepted %d positions", raw, n)
		}
	})
}
