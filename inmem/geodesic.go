package inmem

import (
	"math"

	"github.com/paulmach/orb"
)

// WGS-84 ellipsoid.
const (
	wgs84A = 6378137.0
	wgs84F = 1 / 298.257223563
	wgs84B = wgs84A * (1 - wgs84F)
)

// The shortest a degree of latitude is (at the equator, 110,574 m) and a
// degree of longitude at the equator (111,320 m), rounded down: bounds from
// below for turning distances into degrees and back.
const (
	minLatDegree = 110_500.0
	minLonDegree = 111_300.0
)

// Distance returns the geodesic distance in metres between two lon/lat
// points on the WGS-84 ellipsoid, by Vincenty's inverse formula (accurate to
// well under a millimetre; PostGIS's geography distance, which the tests
// compare with, uses GeographicLib's). No Go geodesic library is available
// from this project's module proxy; should one be (tidwall/geodesic, a port
// of GeographicLib), it should replace this. For nearly antipodal points,
// where Vincenty's iteration may not converge, it falls back to the great
// circle on a sphere of the ellipsoid's mean radius.
func Distance(p, q orb.Point) float64 {
	return distancesFrom(p).to(q)
}

// geodesicFrom measures distances from one point, its reduced latitude's
// sine and cosine worked out once: the nearest search and the radius
// queries measure many points from the same one.
type geodesicFrom struct {
	p            orb.Point
	sinU1, cosU1 float64
}

func distancesFrom(p orb.Point) geodesicFrom {
	sinU1, cosU1 := reduced(p[1])
	return geodesicFrom{p: p, sinU1: sinU1, cosU1: cosU1}
}

// reduced returns the sine and cosine of the reduced (parametric) latitude
// U of a geodetic latitude φ in degrees, tan U = (1 − f) tan φ, from φ's
// own sine and cosine: one Sincos and a square root, where
// atan((1 − f) tan φ) and its Sincos cost three calls.
func reduced(lat float64) (sinU, cosU float64) {
	sinP, cosP := math.Sincos(lat * (math.Pi / 180))
	s := (1 - wgs84F) * sinP
	h := math.Sqrt(s*s + cosP*cosP)
	return s / h, cosP / h
}

// to returns the geodesic distance in metres from g's point to q, by
// Vincenty's iteration on the auxiliary sphere. The iteration starts from
// the longitude on the auxiliary sphere that a short line has (Bowring's
// λ₀ = L / w, w = √(1 − e² cos² of the mean reduced latitude), as in
// Karney's Algorithms for geodesics, 2013, §5) rather than from L itself:
// at a county's distances it converges in one or two steps fewer, to the
// same tolerance (1e-12 rad, a few micrometres).
func (g geodesicFrom) to(q orb.Point) float64 {
	p, sinU1, cosU1 := g.p, g.sinU1, g.cosU1
	if p == q {
		return 0
	}
	const rad = math.Pi / 180
	L := (q[0] - p[0]) * rad
	sinU2, cosU2 := reduced(q[1])
	// cos of the mean reduced latitude, squared: (1 + cos(U1+U2)) / 2.
	const e2 = wgs84F * (2 - wgs84F)
	cosMean2 := (1 + cosU1*cosU2 - sinU1*sinU2) / 2
	lambda := L / math.Sqrt(1-e2*cosMean2)
	for range 200 {
		sinL, cosL := math.Sincos(lambda)
		x, y := cosU2*sinL, cosU1*sinU2-sinU1*cosU2*cosL
		sinSigma := math.Sqrt(x*x + y*y)
		if sinSigma == 0 {
			return 0 // coincident
		}
		cosSigma := sinU1*sinU2 + cosU1*cosU2*cosL
		sigma := math.Atan2(sinSigma, cosSigma)
		sinAlpha := cosU1 * cosU2 * sinL / sinSigma
		cos2Alpha := 1 - sinAlpha*sinAlpha
		cos2SigmaM := 0.0
		if cos2Alpha != 0 {
			cos2SigmaM = cosSigma - 2*sinU1*sinU2/cos2Alpha
		}
		C := wgs84F / 16 * cos2Alpha * (4 + wgs84F*(4-3*cos2Alpha))
		prev := lambda
		lambda = L + (1-C)*wgs84F*sinAlpha*(sigma+C*sinSigma*(cos2SigmaM+C*cosSigma*(-1+2*cos2SigmaM*cos2SigmaM)))
		if math.Abs(lambda-prev) < 1e-12 {
			u2 := cos2Alpha * (wgs84A*wgs84A - wgs84B*wgs84B) / (wgs84B * wgs84B)
			A := 1 + u2/16384*(4096+u2*(-768+u2*(320-175*u2)))
			B := u2 / 1024 * (256 + u2*(-128+u2*(74-47*u2)))
			dSigma := B * sinSigma * (cos2SigmaM + B/4*(cosSigma*(-1+2*cos2SigmaM*cos2SigmaM)-
				B/6*cos2SigmaM*(-3+4*sinSigma*sinSigma)*(-3+4*cos2SigmaM*cos2SigmaM)))
			return wgs84B * A * (sigma - dSigma)
		}
	}
	// Nearly antipodal: the great circle on the mean sphere.
	const meanRadius = (2*wgs84A + wgs84B) / 3
	sinDLat, sinDLon := math.Sin((q[1]-p[1])*rad/2), math.Sin((q[0]-p[0])*rad/2)
	h := sinDLat*sinDLat + math.Cos(p[1]*rad)*math.Cos(q[1]*rad)*sinDLon*sinDLon
	return 2 * meanRadius * math.Asin(math.Min(1, math.Sqrt(h)))
}

// circleBound returns a lon/lat box that holds every point within r metres
// of p (never less: it errs wide). Near a pole, or for a radius past a
// quarter of the globe, it is the whole band of latitudes or the world.
func circleBound(p orb.Point, r float64) orb.Bound {
	// A degree of longitude at latitude φ is at least minLonDegree·cos φ
	// (the ellipsoid's is longer).
	dLat := r / minLatDegree * 1.01
	minLat, maxLat := math.Max(-90, p[1]-dLat), math.Min(90, p[1]+dLat)
	far := math.Max(math.Abs(minLat), math.Abs(maxLat))
	if far >= 89.9 || dLat >= 45 {
		return orb.Bound{Min: orb.Point{-180, minLat}, Max: orb.Point{180, maxLat}}
	}
	dLon := r / (minLonDegree * math.Cos(far*math.Pi/180)) * 1.01
	if dLon >= 180 {
		return orb.Bound{Min: orb.Point{-180, minLat}, Max: orb.Point{180, maxLat}}
	}
	return orb.Bound{Min: orb.Point{p[0] - dLon, minLat}, Max: orb.Point{p[0] + dLon, maxLat}}
}
