package onemap

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// dmsPart matches one coordinate in degrees, optional minutes and seconds,
// and an optional hemisphere: 102°24'30.5"E, 25度31分48秒北, 102.4083°, 25 31 48 N.
var dmsPart = regexp.MustCompile(`^\s*([+-]?\d+(?:\.\d+)?)\s*[°度dD]?\s*(?:(\d+(?:\.\d+)?)\s*['′’分mM]?\s*)?(?:(\d+(?:\.\d+)?)\s*(?:["″”秒sS]|'')?\s*)?([NSEWnsew东西南北])?\s*$`)

// ParseCoordinates reads a point typed by a person: "lon,lat" in decimal
// degrees (102.4083,25.5302), or two coordinates in degrees, minutes and
// seconds, each with an optional hemisphere (102°24'30"E 25°31'48"N,
// 北纬25°31′48″ 东经102°24′30″). Coordinates with hemispheres may come in
// either order; without, the first is the longitude, unless it cannot be
// (more than 90 degrees as the second) and the two are swapped. It reports
// whether s looks like coordinates at all; if it does but they are out of
// range, the error says why.
func ParseCoordinates(s string) (orb.Point, bool, error) {
	s = strings.TrimSpace(s)
	for _, prefix := range []string{"东经", "西经", "北纬", "南纬"} {
		// 北纬25°… → 25°…北, so that the hemisphere follows the number.
		for {
			i := strings.Index(s, prefix)
			if i < 0 {
				break
			}
			rest := s[i+len(prefix):]
			end := strings.IndexAny(rest, ",，;； ")
			if end < 0 {
				end = len(rest)
			}
			s = s[:i] + rest[:end] + prefix[:3] + rest[end:]
		}
	}
	parts := splitCoordinates(s)
	if len(parts) != 2 {
		return orb.Point{}, false, nil
	}
	var (
		vals [2]float64
		hemi [2]string
	)
	for i, p := range parts {
		m := dmsPart.FindStringSubmatch(p)
		if m == nil {
			return orb.Point{}, false, nil
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		neg := v < 0 || strings.HasPrefix(m[1], "-")
		if neg {
			v = -v
		}
		for j, div := range []float64{60, 3600} {
			if m[2+j] == "" {
				continue
			}
			f, _ := strconv.ParseFloat(m[2+j], 64)
			if f >= 60 {
				return orb.Point{}, true, Errorf(EINVALID, "coordinates %q: %v minutes or seconds (want under 60)", s, f)
			}
			v += f / div
		}
		switch strings.ToUpper(m[4]) {
		case "S", "W", "南", "西":
			neg = !neg
		}
		if neg {
			v = -v
		}
		vals[i] = v
		switch strings.ToUpper(m[4]) {
		case "N", "S", "北", "南":
			hemi[i] = "lat"
		case "E", "W", "东", "西":
			hemi[i] = "lon"
		}
	}
	lon, lat := vals[0], vals[1]
	switch {
	case hemi[0] == "lat" || hemi[1] == "lon":
		lon, lat = vals[1], vals[0]
	case hemi[0] == "" && hemi[1] == "" && abs(vals[0]) <= 90 && abs(vals[1]) > 90:
		lon, lat = vals[1], vals[0]
	}
	if lon < -180 || lon > 180 || lat < -90 || lat > 90 {
		return orb.Point{}, true, Errorf(EINVALID, "coordinates %q: longitude %v, latitude %v out of range", s, lon, lat)
	}
	return orb.Point{lon, lat}, true, nil
}

// decimalDegrees matches a coordinate in decimal degrees with a fraction:
// 25.53, -102.4.
var decimalDegrees = regexp.MustCompile(`^[+-]?\d+\.\d+$`)

// splitCoordinates splits two coordinates at a comma (or Chinese comma,
// semicolon), or between two decimal numbers with only spaces between
// (25.53 102.40, as copied from many apps), or else between a hemisphere
// letter and the next number.
func splitCoordinates(s string) []string {
	if parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == ';' || r == '；' }); len(parts) == 2 {
		return parts
	}
	if parts := strings.Fields(s); len(parts) == 2 && decimalDegrees.MatchString(parts[0]) && decimalDegrees.MatchString(parts[1]) {
		return parts
	}
	for i, r := range s {
		if strings.ContainsRune("NSEWnsew东西南北", r) {
			end := i + len(string(r))
			if rest := strings.TrimSpace(s[end:]); rest != "" {
				return []string{s[:end], rest}
			}
		}
	}
	return nil
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}
