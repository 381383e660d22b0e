package onemap_test

import (
	"strconv"
	"testing"

	"github.com/onemapgis/onemap"
)

// FuzzParseCoordinatesDecimal checks, beyond FuzzParseCoordinates
// (coords_test.go), that a point it reads, written back as decimal
// "lon,lat", reads as the same point, and that a refusal of something that
// looks like coordinates is EINVALID.
func FuzzParseCoordinatesDecimal(f *testing.F) {
	for _, s := range []string{"102.4063,25.5302", "25.5302,102.4063", `102°24'23"E 25°31'49"N`, "北纬25°31′49″ 东经102°24′23″",
		"-0,0", "180,90", "1e2,3", "102°60'E 25°N", "１０２，２５", "N E", "25 31 49 N, 102 24 23 E"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, ok, err := onemap.ParseCoordinates(s)
		if err != nil {
			if !ok || onemap.ErrorCode(err) != onemap.EINVALID {
				t.Fatalf("ParseCoordinates(%q): ok %v, %v; want ok and EINVALID", s, ok, err)
			}
			return
		}
		if !ok {
			return
		}
		back := strconv.FormatFloat(p[0], 'f', -1, 64) + "," + strconv.FormatFloat(p[1], 'f', -1, 64)
		q, ok, err := onemap.ParseCoordinates(back)
		if !ok || err != nil || q != p && !(p[0] == 0 && q[0] == 0 && p[1] == q[1]) {
			t.Fatalf("ParseCoordinates(%q) = %v; written back %q it reads %v, %v, %v", s, p, back, q, ok, err)
		}
	})
}
