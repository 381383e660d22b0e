package api

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

// parseBound parses "minLon,minLat,maxLon,maxLat" in WGS-84.
func parseBound(name, s string) (orb.Bound, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return orb.Bound{}, onemap.Errorf(onemap.EINVALID, "%s: want minLon,minLat,maxLon,maxLat, got %q", name, s)
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return orb.Bound{}, onemap.Errorf(onemap.EINVALID, "%s: value %d (%q) is not a number", name, i+1, p)
		}
		v[i] = f
	}
	switch {
	case v[0] < -180 || v[0] > 180 || v[2] < -180 || v[2] > 180:
		return orb.Bound{}, onemap.Errorf(onemap.EINVALID, "%s: longitudes must lie in [-180, 180]", name)
	case v[1] < -90 || v[1] > 90 || v[3] < -90 || v[3] > 90:
		return orb.Bound{}, onemap.Errorf(onemap.EINVALID, "%s: latitudes must lie in [-90, 90]", name)
	case v[0] > v[2] || v[1] > v[3]:
		return orb.Bound{}, onemap.Errorf(onemap.EINVALID, "%s: minimum must not exceed maximum", name)
	}
	return orb.Bound{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}, nil
}

// parseInt parses an integer query parameter within [min, max]; "" is def.
func parseInt(name, s string, def, min, max int64) (int64, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, onemap.Errorf(onemap.EINVALID, "%s: %q is not an integer", name, s)
	}
	if n < min || n > max {
		return 0, onemap.Errorf(onemap.EINVALID, "%s: %d is outside [%d, %d]", name, n, min, max)
	}
	return n, nil
}

// checkQuery refuses query parameters a route does not know.
func checkQuery(query map[string][]string, known ...string) error {
	for k := range query {
		ok := false
		for _, n := range known {
			ok = ok || k == n
		}
		if !ok {
			return onemap.Errorf(onemap.EINVALID, "unknown query parameter %q (this route takes %s)", k, strings.Join(known, ", "))
		}
	}
	return nil
}

// readQuery reads a raw query string (the part after ?) into vals, the
// value of names[i] into vals[i], and returns which names it holds (bit i
// for names[i]), without the map, slices and strings url.ParseQuery makes.
// It reads only the plain queries a client sends: every parameter one of
// names, each at most once, and nothing escaped ('%' or '+') or refused
// (';'). Of such a query its values are those url.ParseQuery gives (an
// empty pair is skipped, a name without '=' has the value ""). For any
// other query ok is false, and the caller reads it with url.ParseQuery, so
// that its answer, or its refusal, stays that of url.Values. At most 64
// names.
func readQuery(raw string, names []string, vals []string) (has uint64, ok bool) {
	if strings.ContainsAny(raw, "%+;") {
		return 0, false
	}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		key, val, _ := strings.Cut(pair, "=")
		i := slices.Index(names, key)
		if i < 0 || has&(1<<i) != 0 {
			return 0, false
		}
		has |= 1 << i
		vals[i] = val
	}
	return has, true
}
