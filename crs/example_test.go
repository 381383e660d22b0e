package crs_test

import (
	"fmt"

	"github.com/onemapgis/onemap/crs"
	"github.com/paulmach/orb"
)

func ExampleCRS_ToWGS84() {
	// A grid corner surveyed in CGCS2000 / 3-degree Gauss-Kruger zone 34,
	// easting with the zone prefix.
	c, err := crs.Parse("EPSG:4522")
	if err != nil {
		fmt.Println(err)
		return
	}
	g, err := c.ToWGS84(orb.Polygon{{{34540607.3594, 2824827.6028}, {34560020.3562, 2888051.7096}, {34525071.7082, 2854701.0862}, {34540607.3594, 2824827.6028}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range g.(orb.Polygon)[0][:3] {
		fmt.Printf("%.6f, %.6f\n", p[0], p[1])
	}
	// Output:
	// 102.404000, 25.530000
	// 102.600000, 26.100000
	// 102.250000, 25.800000
}

func ExampleWGS84FromGCJ02() {
	// A point read off AMap (GCJ-02) back to WGS-84.
	p := crs.WGS84FromGCJ02(orb.Point{116.41024449916938, 39.91640428150164})
	fmt.Printf("%.6f, %.6f\n", p[0], p[1])
	// Output: 116.404000, 39.915000
}
