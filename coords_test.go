package onemap_test

import (
	"math"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
)

func TestParseCoordinates(t *testing.T) {
	for _, tc := range []struct {
		in       string
		lon, lat float64
		ok       bool
		err      string
	}{
		{"102.4083,25.5302", 102.4083, 25.5302, true, ""},
		{" 102.4083 , 25.5302 ", 102.4083, 25.5302, true, ""},
		{"102.4083，25.5302", 102.4083, 25.5302, true, ""},
		{"25.5302,102.4083", 102.4083, 25.5302, true, ""}, // latitude first: swapped
		{`102°24'30"E 25°31'48"N`, 102.408333, 25.53, true, ""},
		{`25°31'48"N, 102°24'30"E`, 102.408333, 25.53, true, ""},
		{`北纬25°31′48″ 东经102°24′30″`, 102.408333, 25.53, true, ""},
		{`102度24分30秒东 25度31分48秒北`, 102.408333, 25.53, true, ""},
		{`102 24 30 E, 25 31 48 N`, 102.408333, 25.53, true, ""},
		{`70°W 33°S`, -70, -33, true, ""},
		{"-70.5,-33.25", -70.5, -33.25, true, ""},
		{"25.53 102.40", 102.40, 25.53, true, ""}, // a space between, latitude first
		{"102.4083\t 25.5302", 102.4083, 25.5302, true, ""},
		{"3 12", 0, 0, false, ""}, // not decimal degrees: words of a search
		{"25.53 102.40 7", 0, 0, false, ""},
		{"200,25", 0, 0, true, "out of range"},
		{`102°75'E 25°N`, 0, 0, true, "under 60"},
		{"狮山镇", 0, 0, false, ""},
		{"532329101", 0, 0, false, ""},
		{"1,2,3", 0, 0, false, ""},
		{"", 0, 0, false, ""},
	} {
		p, ok, err := onemap.ParseCoordinates(tc.in)
		if ok != tc.ok || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseCoordinates(%q) = %v, %v, %v; want ok %v, error %q", tc.in, p, ok, err, tc.ok, tc.err)
			continue
		}
		if ok && err == nil && (math.Abs(p[0]-tc.lon) > 1e-6 || math.Abs(p[1]-tc.lat) > 1e-6) {
			t.Errorf("ParseCoordinates(%q) = %v, want [%v %v]", tc.in, p, tc.lon, tc.lat)
		}
	}
}

func FuzzParseCoordinates(f *testing.F) {
	for _, s := range []string{"102.4,25.5", `102°24'30"E 25°31'48"N`, "北纬25°31′48″ 东经102°24′30″", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, ok, err := onemap.ParseCoordinates(s)
		if ok && err == nil && (p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90) {
			t.Errorf("%q gives %v", s, p)
		}
	})
}
