// Package crs converts coordinates between WGS-84 longitude/latitude, the
// form OneMap stores and serves, and the coordinate systems Chinese data
// arrives in: CGCS2000 geographic, CGCS2000 3° Gauss-Krüger zone 34
// (central meridian 102°E), GCJ-02 (AMap, Tencent) and BD-09 (Baidu).
//
// CGCS2000 is treated as equal to WGS-84. The two frames agree to a few
// centimetres (CGCS2000 is ITRF97 at epoch 2000.0; WGS-84 (G1762) is aligned
// to ITRF2008; the ellipsoids differ only in 1/f, 298.257222101 against
// 298.257223563, which moves a latitude by at most 0.1 mm). The drift of the
// Eurasian plate since 2000 (a few cm a year in Yunnan) is below what a grid
// boundary means, so no datum shift is applied, as in PROJ's own
// EPSG:4490→EPSG:4326 (a null transformation).
//
// Projected coordinates are orb.Point{easting, northing} in metres, whatever
// axis order the EPSG definition lists. Geographic ones are
// orb.Point{longitude, latitude} in degrees.
package crs

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// CRS names a coordinate system OneMap can import from and export to. The
// zero value means "not chosen"; Parse turns a user's words into one.
type CRS string

// The coordinate systems this package converts.
const (
	WGS84    CRS = "EPSG:4326" // WGS-84 longitude/latitude
	CGCS2000 CRS = "EPSG:4490" // CGCS2000 longitude/latitude (taken as WGS-84)
	// GK102 is CGCS2000 / 3-degree Gauss-Kruger CM 102E (EPSG:4543):
	// transverse Mercator on the CGCS2000 ellipsoid, central meridian 102°E,
	// scale 1, false easting 500 000 m. An easting carrying the zone prefix
	// (34 500 000 m) is recognised and accepted too.
	GK102 CRS = "EPSG:4543"
	// GKZone34 is CGCS2000 / 3-degree Gauss-Kruger zone 34 (EPSG:4522): the
	// same projection with the zone number in front of the easting (false
	// easting 34 500 000 m). Eastings without the prefix are accepted too.
	GKZone34 CRS = "EPSG:4522"
	GCJ02    CRS = "GCJ-02" // the Chinese "mars" obfuscation of WGS-84 (AMap, Tencent, Google China)
	BD09     CRS = "BD-09"  // Baidu's further offset of GCJ-02 (bd09ll, not the Mercator bd09mc)
)

// The Gauss-Krüger zone the package supports.
const (
	gkZone          = 34
	gkCentral       = 102.0 // degrees east
	gkFalseEasting  = 500000.0
	gkPrefixEasting = gkZone*1e6 + gkFalseEasting
)

// CGCS2000 ellipsoid (GB 11022-2007 / EPSG:1024).
const (
	cgcsA    = 6378137.0
	cgcsInvF = 298.257222101
)

// Parse returns the CRS a user or a file names: an EPSG code ("EPSG:4326",
// "4326", "urn:ogc:def:crs:EPSG::4490"), a common name ("WGS84", "CGCS2000",
// "gcj02", "GCJ-02", "bd09", "bd09ll"), or an OGC URN/URL for CRS84. Unknown
// names give an error listing what is supported.
func Parse(name string) (CRS, error) {
	s := strings.ToUpper(strings.TrimSpace(name))
	r := strings.NewReplacer("-", "", "_", "", " ", "")
	switch r.Replace(s) {
	case "WGS84", "WGS1984", "CRS84", "OGC:CRS84", "URN:OGC:DEF:CRS:OGC:1.3:CRS84", "URN:OGC:DEF:CRS:OGC::CRS84",
		"HTTP://WWW.OPENGIS.NET/DEF/CRS/OGC/1.3/CRS84":
		return WGS84, nil
	case "CGCS2000", "CGCS":
		return CGCS2000, nil
	case "GCJ02", "GCJ", "MARS", "AMAP", "GAODE":
		return GCJ02, nil
	case "BD09", "BD09LL", "BAIDU":
		return BD09, nil
	}
	code := s
	for _, p := range []string{"URN:OGC:DEF:CRS:EPSG::", "URN:OGC:DEF:CRS:EPSG:", "HTTP://WWW.OPENGIS.NET/DEF/CRS/EPSG/0/", "EPSG::", "EPSG:"} {
		if strings.HasPrefix(code, p) {
			code = code[len(p):]
			break
		}
	}
	n, err := strconv.Atoi(code)
	if err != nil {
		return "", fmt.Errorf("unknown coordinate system %q; use one of %s", name, supported)
	}
	switch n {
	case 4326:
		return WGS84, nil
	case 4490:
		return CGCS2000, nil
	case 4543:
		return GK102, nil
	case 4522:
		return GKZone34, nil
	}
	if n >= 4513 && n <= 4533 {
		return "", fmt.Errorf("EPSG:%d is CGCS2000 3-degree Gauss-Kruger zone %d (central meridian %d°E); only zone %d (EPSG:4522, or EPSG:4543 without the zone prefix) is supported",
			n, n-4513+25, (n-4513+25)*3, gkZone)
	}
	if n >= 4534 && n <= 4554 {
		return "", fmt.Errorf("EPSG:%d is CGCS2000 3-degree Gauss-Kruger CM %d°E; only CM 102°E (EPSG:4543) is supported", n, (n-4534+25)*3)
	}
	return "", fmt.Errorf("unsupported coordinate system EPSG:%d; use one of %s", n, supported)
}

const supported = "EPSG:4326 (WGS-84), EPSG:4490 (CGCS2000), EPSG:4543 (CGCS2000 GK CM 102E), EPSG:4522 (CGCS2000 GK zone 34), GCJ-02, BD-09"

// String returns the canonical name.
func (c CRS) String() string { return string(c) }

// Geographic reports whether c's coordinates are longitude/latitude degrees.
func (c CRS) Geographic() bool { return c != GK102 && c != GKZone34 }

// Valid reports whether c is one of the package's CRS constants.
func (c CRS) Valid() bool {
	switch c {
	case WGS84, CGCS2000, GK102, GKZone34, GCJ02, BD09:
		return true
	}
	return false
}

// PointToWGS84 converts one point in c to WGS-84 longitude/latitude. It
// fails on a point that cannot be in c: a longitude/latitude out of range,
// or a Gauss-Krüger easting or northing outside the zone.
func (c CRS) PointToWGS84(p orb.Point) (orb.Point, error) {
	if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
		return p, fmt.Errorf("coordinate %v is not a number", p)
	}
	switch c {
	case WGS84, CGCS2000:
		return p, checkLonLat(p)
	case GCJ02:
		if err := checkLonLat(p); err != nil {
			return p, err
		}
		return WGS84FromGCJ02(p), nil
	case BD09:
		if err := checkLonLat(p); err != nil {
			return p, err
		}
		return WGS84FromGCJ02(GCJ02FromBD09(p)), nil
	case GK102, GKZone34:
		x := p[0]
		// Detect the zone prefix: a bare easting lies within ±~330 km of
		// 500 000 m inside the zone; a prefixed one near 34 500 000 m.
		if x >= gkZone*1e6 && x < (gkZone+1)*1e6 {
			x -= gkZone * 1e6
		} else if x >= 1e6 {
			return p, fmt.Errorf("easting %.3f m is not in 3-degree Gauss-Kruger zone %d (expected about 500000 m or %d m)", p[0], gkZone, int(gkPrefixEasting))
		}
		if math.Abs(x-gkFalseEasting) > 400000 || p[1] < 0 || p[1] > 9e6 {
			return p, fmt.Errorf("easting %.3f m, northing %.3f m is outside 3-degree Gauss-Kruger zone %d", p[0], p[1], gkZone)
		}
		q := gk().Inverse(orb.Point{x - gkFalseEasting, p[1]})
		q[0] += gkCentral
		return q, nil
	}
	return p, fmt.Errorf("unknown coordinate system %q", string(c))
}

// PointFromWGS84 converts one WGS-84 longitude/latitude point to c. For
// GKZone34 the easting carries the zone prefix; for GK102 it does not.
func (c CRS) PointFromWGS84(p orb.Point) (orb.Point, error) {
	if err := checkLonLat(p); err != nil {
		return p, err
	}
	switch c {
	case WGS84, CGCS2000:
		return p, nil
	case GCJ02:
		return GCJ02FromWGS84(p), nil
	case BD09:
		return BD09FromGCJ02(GCJ02FromWGS84(p)), nil
	case GK102, GKZone34:
		if math.Abs(p[0]-gkCentral) > 4.5 {
			return p, fmt.Errorf("longitude %v is too far from the zone's central meridian %v°E", p[0], gkCentral)
		}
		q := gk().Forward(orb.Point{p[0] - gkCentral, p[1]})
		q[0] += gkFalseEasting
		if c == GKZone34 {
			q[0] += gkZone * 1e6
		}
		return q, nil
	}
	return p, fmt.Errorf("unknown coordinate system %q", string(c))
}

func checkLonLat(p orb.Point) error {
	if math.IsNaN(p[0]) || math.IsNaN(p[1]) || p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 {
		return fmt.Errorf("coordinate %v is not a longitude/latitude in degrees", [2]float64(p))
	}
	return nil
}

// gk returns the transverse Mercator of the Gauss-Krüger zones on the
// CGCS2000 ellipsoid, in metres relative to the central meridian and the
// equator.
func gk() TransverseMercator { return NewTransverseMercator(cgcsA, 1/cgcsInvF, 1) }

// ToWGS84 returns a copy of g converted from c to WGS-84; g is left as it
// was. The zero CRS is taken as WGS-84; for WGS-84 and CGCS2000 the points
// are only checked to be longitudes and latitudes. The error names the
// first point that could not be converted.
func (c CRS) ToWGS84(g orb.Geometry) (orb.Geometry, error) {
	if c == WGS84 || c == CGCS2000 || c == "" {
		return orb.Clone(g), checkGeometry(g, checkLonLat)
	}
	return mapGeometry(orb.Clone(g), c.PointToWGS84)
}

// FromWGS84 returns a copy of g converted from WGS-84 to c.
func (c CRS) FromWGS84(g orb.Geometry) (orb.Geometry, error) {
	return mapGeometry(orb.Clone(g), c.PointFromWGS84)
}

func checkGeometry(g orb.Geometry, check func(orb.Point) error) error {
	_, err := mapGeometry(orb.Clone(g), func(p orb.Point) (orb.Point, error) { return p, check(p) })
	return err
}

// mapGeometry applies f to every point of g in place.
func mapGeometry(g orb.Geometry, f func(orb.Point) (orb.Point, error)) (orb.Geometry, error) {
	pts := func(ps []orb.Point) error {
		for i, p := range ps {
			q, err := f(p)
			if err != nil {
				return err
			}
			ps[i] = q
		}
		return nil
	}
	var err error
	switch g := g.(type) {
	case nil:
		return nil, nil
	case orb.Point:
		return f(g)
	case orb.MultiPoint:
		err = pts(g)
	case orb.LineString:
		err = pts(g)
	case orb.Ring:
		err = pts(g)
	case orb.MultiLineString:
		for _, ls := range g {
			if err = pts(ls); err != nil {
				break
			}
		}
	case orb.Polygon:
		for _, r := range g {
			if err = pts(r); err != nil {
				break
			}
		}
	case orb.MultiPolygon:
		for _, pg := range g {
			for _, r := range pg {
				if err = pts(r); err != nil {
					return nil, err
				}
			}
		}
	case orb.Collection:
		for i, m := range g {
			if g[i], err = mapGeometry(m, f); err != nil {
				break
			}
		}
	default:
		return nil, fmt.Errorf("unsupported geometry type %T", g)
	}
	if err != nil {
		return nil, err
	}
	return g, nil
}
