package demo

import (
	"fmt"
	"strings"
	"time"

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
// in the order to write it. Every row is synthetic, wholly or in part.
type Plan struct {
	// Grids are the county, then its townships, then their villages, then
	// the villages' groups; parents come before their children.
	Grids      []Grid
	RiskPoints []RiskPoint
	Households []Household
	Cameras    []Camera
	Stations   []Station
}

// Grid is one grid of the county → township → village → group tree. Its
// boundary is not in the plan: the county's is the dataset's outline, and
// every other grid is the part of its parent nearer to its Site than to the
// Site of any sibling (the parent's Voronoi cell of Site). The writer cuts
// them; Locator finds the grids of a point by the same rule.
type Grid struct {
	Level      string
	Code       string // 12 digits, or 15 for a group
	ParentCode string // "" for the county
	Name       string
	Site       orb.Point // unset for the county
	// Centre is a point inside the grid where its offices stand.
	Centre      orb.Point
	WorkerName  string
	WorkerPhone string
	// Households and Population of a group are its own; of a higher grid
	// the sums over its children.
	Households, Population int
}

// RiskPoint is a hazard site.
type RiskPoint struct {
	Kind, Name, Level                 string
	Point                             orb.Point
	ResponsibleName, ResponsiblePhone string
	Description                       string
	LastAssessedOn, NextAssessmentDue time.Time // dates, UTC midnight
	// Grade is the grade of a kind that has grades (dilapidated houses
	// A–D, migration 0019's assessment_grades), or "".
	Grade string
	// AssessNote is the note of the last assessment (on LastAssessedOn,
	// at Level and Grade).
	AssessNote string
}

// Household is a risk household and its personal details.
type Household struct {
	Kind, Level                       string
	Point                             orb.Point
	ResponsibleName, ResponsiblePhone string
	LastAssessedOn, NextAssessmentDue time.Time
	HeadName, HeadPhone               string
	Members                           int
	Address, Notes                    string
	// Situations and Categories are what the last assessment ticked (on
	// LastAssessedOn): the county's rules (Kinds.Rules) give them Level.
	// AssessNote is its note.
	Situations, Categories []onemap.Tick
	AssessNote             string
}

// Camera is a public-video camera and its video-platform link.
type Camera struct {
	// DeviceCode is the 20-digit GB/T 28181 code: 8-digit centre code (the
	// county code and a 2-digit township number), 2-digit industry code,
	// 3-digit type (131 camera, 132 IP camera), 1-digit network and a
	// 6-digit serial.
	DeviceCode   string
	Name         string
	Kind, Status string
	// Heading (degrees clockwise from north) and FOV (degrees) are nil for
	// kinds that turn (PTZ domes).
	Heading, FOV *float32
	Point        orb.Point
	Platform     string
	StreamURL    string
	Channel      string
}

// Station is a service station.
type Station struct {
	Kind, Level, Name string
	Address, Phone    string
	OpeningHours      string // OpenStreetMap opening_hours syntax
	Services          []string
	Point             orb.Point
}

// Kinds are the kinds of the layer tables. They are reference data of the
// database, not of the dataset; Synthesize spreads the rows over the kinds it
// is given, weighting the ones it knows.
//
// Situations and Categories are the county's active dispute situations and
// categories of people, and Rules its rule table (migration 0019): with
// them every household's last assessment ticks what gives it its level,
// and every risk point's level agrees with its grade. Without Rules the
// levels are drawn and nothing is ticked.
type Kinds struct {
	RiskPoints, Households, Cameras []Kind
	Situations, Categories          []Kind
	Rules                           *onemap.AssessmentRules
}

// Kind is one kind: its code and Chinese name.
type Kind struct {
	Code, Name string
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
