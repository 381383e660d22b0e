package demo

import (
	"fmt"
	"strings"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

// Grid levels, from the top.
const (
	LevelCounty   = "county"
	LevelTownship = "township"
	LevelVillage  = "village"
	LevelGroup    = "group"
)

// Plan is what Synthesize makes of a dataset: the rows to write, each list
// in the order to write it. Every row is synthetic, wholly or in part. The
// rows are the seed's own (onemap.Seed's lists); a grid also keeps where its
// offices stand.
type Plan struct {
	// Grids are the county, then its townships, then their villages, then
	// the villages' groups; parents come before their children.
	Grids      []Grid
	RiskPoints []onemap.SeedRiskPoint
	Households []onemap.SeedHousehold
	Cameras    []onemap.SeedCamera
	Stations   []onemap.SeedStation
}

// Grid is one grid of the county → township → village → group tree, as the
// seed writes it (onemap.SeedGrid: its boundary is not in the plan, the
// writer cuts it; Locator finds the grids of a point by the same rule).
type Grid struct {
	onemap.SeedGrid
	// Centre is a point inside the grid where its offices stand.
	Centre orb.Point
}

// Station kinds Synthesize writes; the stations table must know them.
const (
	StationGovernance = "governance_centre"
	StationHall       = "service_hall"
	StationService    = "service_station"
	StationMediation  = "mediation"
	StationPolice     = "police"
	StationClinic     = "clinic"
	StationHospital   = "hospital"
	StationLegalAid   = "legal_aid"
)

// StationCounts returns how many stations of each kind and level
// Synthesize makes for the dataset, keyed "kind/level".
func (d *Dataset) StationCounts() map[string]int {
	nt, nv := len(d.Townships), d.Villages()
	county, town := d.professionalMediation()
	return map[string]int{
		StationGovernance + "/county": 1, StationGovernance + "/township": nt, StationGovernance + "/village": nv,
		StationMediation + "/county": 1 + county, StationMediation + "/township": nt + town, StationMediation + "/village": nv,
		StationHall + "/county": 1, StationHall + "/township": nt,
		StationService + "/village":   nv,
		StationPolice + "/village":    nv,
		StationClinic + "/village":    nv,
		StationHospital + "/township": nt,
		StationLegalAid + "/county":   1, StationLegalAid + "/township": nt, StationLegalAid + "/village": nv,
	}
}

// professionalMediation splits the mediation committees beyond one per
// county, township and village (the professional ones, 行业性专业性调解委员会)
// between the county and the townships: about a third at the county.
func (d *Dataset) professionalMediation() (county, township int) {
	extra := d.Counts.MediationCommittees - 1 - len(d.Townships) - d.Villages()
	county = min(extra*4/11, len(strings.Fields(countyMediationTopics)))
	return county, extra - county
}

// String returns the level, code and name of the grid.
func (g Grid) String() string { return fmt.Sprintf("%s %s %s", g.Level, g.Code, g.Name) }
