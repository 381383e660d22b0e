package crs

import (
	"math"

	"github.com/paulmach/orb"
)

// GCJ-02 constants: the Krasovsky 1940 ellipsoid the obfuscation is
// written on. The algorithm is the one leaked in the Android/WM "eviltransform"
// code and published in every open implementation (googollee/eviltransform,
// wandergis/coordtransform); these constants are common to all of them.
const (
	gcjA  = 6378245.0
	gcjEE = 0.00669342162296594323
	// bdXPi is π·3000/180, Baidu's angle factor.
	bdXPi = math.Pi * 3000.0 / 180.0
)

// OutOfChina reports whether p (WGS-84 or GCJ-02) lies outside the rough
// box where GCJ-02 applies; there GCJ-02 equals WGS-84, as every map
// provider treats it.
func OutOfChina(p orb.Point) bool {
	return p[0] < 72.004 || p[0] > 137.8347 || p[1] < 0.8293 || p[1] > 55.8271
}

func gcjDelta(p orb.Point) orb.Point {
	x, y := p[0]-105.0, p[1]-35.0
	dLat := -100.0 + 2.0*x + 3.0*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	dLat += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	dLat += (20.0*math.Sin(y*math.Pi) + 40.0*math.Sin(y/3.0*math.Pi)) * 2.0 / 3.0
	dLat += (160.0*math.Sin(y/12.0*math.Pi) + 320*math.Sin(y*math.Pi/30.0)) * 2.0 / 3.0
	dLon := 300.0 + x + 2.0*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	dLon += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	dLon += (20.0*math.Sin(x*math.Pi) + 40.0*math.Sin(x/3.0*math.Pi)) * 2.0 / 3.0
	dLon += (150.0*math.Sin(x/12.0*math.Pi) + 300.0*math.Sin(x/30.0*math.Pi)) * 2.0 / 3.0

	radLat := p[1] / 180.0 * math.Pi
	magic := math.Sin(radLat)
	magic = 1 - gcjEE*magic*magic
	sqrtMagic := math.Sqrt(magic)
	dLat = (dLat * 180.0) / ((gcjA * (1 - gcjEE)) / (magic * sqrtMagic) * math.Pi)
	dLon = (dLon * 180.0) / (gcjA / sqrtMagic * math.Cos(radLat) * math.Pi)
	return orb.Point{dLon, dLat}
}

// GCJ02FromWGS84 obfuscates a WGS-84 point to GCJ-02. Outside China the
// point is returned as it is.
func GCJ02FromWGS84(p orb.Point) orb.Point {
	if OutOfChina(p) {
		return p
	}
	d := gcjDelta(p)
	return orb.Point{p[0] + d[0], p[1] + d[1]}
}

// WGS84FromGCJ02 inverts GCJ02FromWGS84 by fixed-point iteration: starting
// from the GCJ-02 point, it moves the guess by the residual of the forward
// transform until that residual is below 1e-9° (0.1 mm). The offset varies
// slowly (its derivative is below 1e-4), so each step gains four digits and
// two to four steps suffice.
func WGS84FromGCJ02(p orb.Point) orb.Point {
	if OutOfChina(p) {
		return p
	}
	w := p
	for range 30 {
		g := GCJ02FromWGS84(w)
		dx, dy := g[0]-p[0], g[1]-p[1]
		w[0] -= dx
		w[1] -= dy
		if math.Abs(dx) < 1e-9 && math.Abs(dy) < 1e-9 {
			break
		}
	}
	return w
}

// BD09FromGCJ02 converts a GCJ-02 point to Baidu's BD-09 (bd09ll).
func BD09FromGCJ02(p orb.Point) orb.Point {
	x, y := p[0], p[1]
	z := math.Sqrt(x*x+y*y) + 0.00002*math.Sin(y*bdXPi)
	theta := math.Atan2(y, x) + 0.000003*math.Cos(x*bdXPi)
	return orb.Point{z*math.Cos(theta) + 0.0065, z*math.Sin(theta) + 0.006}
}

// GCJ02FromBD09 inverts BD09FromGCJ02. The usual closed form (subtract the
// offsets, then the perturbations evaluated at the BD-09 point) is off by up
// to a few centimetres; a few fixed-point steps on the forward transform
// bring that below 1e-9°.
func GCJ02FromBD09(p orb.Point) orb.Point {
	x, y := p[0]-0.0065, p[1]-0.006
	z := math.Sqrt(x*x+y*y) - 0.00002*math.Sin(y*bdXPi)
	theta := math.Atan2(y, x) - 0.000003*math.Cos(x*bdXPi)
	g := orb.Point{z * math.Cos(theta), z * math.Sin(theta)}
	for range 10 {
		b := BD09FromGCJ02(g)
		dx, dy := b[0]-p[0], b[1]-p[1]
		g[0] -= dx
		g[1] -= dy
		if math.Abs(dx) < 1e-10 && math.Abs(dy) < 1e-10 {
			break
		}
	}
	return g
}
