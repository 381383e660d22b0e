package demo

import "github.com/paulmach/orb"

// Province is the province a demo prefecture lies in: its code (6
// digits), its name and its outline (WGS-84), if the demo has one.
type Province struct {
	Code, Name string
	Outline    orb.MultiPolygon // empty: none (the seed stands the prefecture's in)
}

// Yunnan returns 云南省 (530000), the province of 楚雄州, without an
// outline: the demo's reference data (chuxiong/README.md) has the outlines
// of 楚雄州's ten counties and no outline of the province. Seeding the
// prefecture stands the prefecture's outline (the union of its counties)
// in for it, so that the region tree has its top level (province →
// prefecture → county) and a province's deployment can be shown; a real
// deployment loads the province's official outline instead.
func Yunnan() Province {
	return Province{Code: "530000", Name: "云南省"}
}
