package crs

import (
	"math"

	"github.com/paulmach/orb"
)

// TransverseMercator is the ellipsoidal transverse Mercator projection by
// Krüger's series to sixth order in the third flattening n, as given by
// C. F. F. Karney, "Transverse Mercator with an accuracy of a few
// nanometers", J. Geodesy 85 (2011) 475–485, eqs. (7)–(11), (35), (36), and
// as PROJ implements it in src/projections/tmerc.cpp (the default,
// "exact" algorithm, formerly etmerc, after Poder and Engsager). Within a few
// thousand kilometres of the central meridian it is accurate to well under a
// millimetre, far more than a 3° zone needs.
//
// Points are relative to the central meridian and the equator: Forward takes
// {longitude − central meridian, latitude} in degrees and returns
// {easting, northing} in metres without false easting or northing.
type TransverseMercator struct {
	e      float64    // first eccentricity
	kA     float64    // k0 times the rectifying radius A
	alpha  [6]float64 // α1…α6, forward series
	beta   [6]float64 // β1…β6, inverse series
	kappa2 float64    // 1 − e²
}

// NewTransverseMercator returns the projection for an ellipsoid of semi-major
// axis a (metres) and flattening f, with scale k0 on the central meridian.
func NewTransverseMercator(a, f, k0 float64) TransverseMercator {
	n := f / (2 - f)
	n2 := n * n
	n3, n4, n5, n6 := n2*n, n2*n2, n2*n2*n, n2*n2*n2
	tm := TransverseMercator{
		e:      math.Sqrt(f * (2 - f)),
		kA:     k0 * a / (1 + n) * (1 + n2/4 + n4/64 + n6/256),
		kappa2: 1 - f*(2-f),
	}
	tm.alpha = [6]float64{
		n/2 - 2*n2/3 + 5*n3/16 + 41*n4/180 - 127*n5/288 + 7891*n6/37800,
		13*n2/48 - 3*n3/5 + 557*n4/1440 + 281*n5/630 - 1983433*n6/1935360,
		61*n3/240 - 103*n4/140 + 15061*n5/26880 + 167603*n6/181440,
		49561*n4/161280 - 179*n5/168 + 6601661*n6/7257600,
		34729*n5/80640 - 3418889*n6/1995840,
		212378941 * n6 / 319334400,
	}
	tm.beta = [6]float64{
		n/2 - 2*n2/3 + 37*n3/96 - n4/360 - 81*n5/512 + 96199*n6/604800,
		n2/48 + n3/15 - 437*n4/1440 + 46*n5/105 - 1118711*n6/3870720,
		17*n3/480 - 37*n4/840 - 209*n5/4480 + 5569*n6/90720,
		4397*n4/161280 - 11*n5/504 - 830251*n6/7257600,
		4583*n5/161280 - 108847*n6/3991680,
		20648693 * n6 / 638668800,
	}
	return tm
}

// conformal returns τ′ = tan χ, the tangent of the conformal latitude, for
// τ = tan φ (Karney 2011, eq. 7–9).
func (tm TransverseMercator) conformal(tau float64) float64 {
	s := math.Sqrt(1 + tau*tau)
	sigma := math.Sinh(tm.e * math.Atanh(tm.e*tau/s))
	return tau*math.Sqrt(1+sigma*sigma) - sigma*s
}

// Forward projects p = {Δlongitude, latitude} in degrees to {x, y} metres.
func (tm TransverseMercator) Forward(p orb.Point) orb.Point {
	lam := p[0] * math.Pi / 180
	phi := p[1] * math.Pi / 180
	taup := tm.conformal(math.Tan(phi))
	cl := math.Cos(lam)
	xip := math.Atan2(taup, cl)
	etap := math.Asinh(math.Sin(lam) / math.Hypot(taup, cl))
	xi, eta := xip, etap
	for j, a := range tm.alpha {
		k := 2 * float64(j+1)
		xi += a * math.Sin(k*xip) * math.Cosh(k*etap)
		eta += a * math.Cos(k*xip) * math.Sinh(k*etap)
	}
	return orb.Point{tm.kA * eta, tm.kA * xi}
}

// Inverse returns {Δlongitude, latitude} in degrees for {x, y} metres.
func (tm TransverseMercator) Inverse(p orb.Point) orb.Point {
	xi := p[1] / tm.kA
	eta := p[0] / tm.kA
	xip, etap := xi, eta
	for j, b := range tm.beta {
		k := 2 * float64(j+1)
		xip -= b * math.Sin(k*xi) * math.Cosh(k*eta)
		etap -= b * math.Cos(k*xi) * math.Sinh(k*eta)
	}
	sh := math.Sinh(etap)
	cx := math.Cos(xip)
	taup := math.Sin(xip) / math.Hypot(sh, cx)
	lam := math.Atan2(sh, cx)
	// Solve conformal(τ) = τ′ for τ by Newton's method (Karney 2011,
	// eqs. 19–21); it converges in two or three steps.
	tau := taup / tm.kappa2
	for range 8 {
		tp := tm.conformal(tau)
		d := (taup - tp) / math.Sqrt(1+tp*tp) * (1 + tm.kappa2*tau*tau) / (tm.kappa2 * math.Sqrt(1+tau*tau))
		tau += d
		if math.Abs(d) < 1e-14*math.Max(1, math.Abs(tau)) {
			break
		}
	}
	return orb.Point{lam * 180 / math.Pi, math.Atan(tau) * 180 / math.Pi}
}
