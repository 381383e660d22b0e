package onemap

import (
	"time"

	"github.com/paulmach/orb"
)

// Seed is a whole county to load into an empty database in one bulk write:
// the region and the rows of every layer, each list in the order to write
// it. It is what a demo dataset makes of itself (package demo); the store
// writes it as it is and marks every row synthetic.
type Seed struct {
	// Name names the dataset in logs and errors, e.g. "wuding".
	Name string
	// RegionCode and RegionName are the county's 6-digit code and name.
	RegionCode, RegionName string
	// Outline is the county's boundary, WGS-84 longitude/latitude: the
	// county grid's geometry, and the region's envelope widened.
	Outline orb.MultiPolygon
	// Grids are the county, then its townships, then their villages, then
	// the villages' groups; parents come before their children.
	Grids      []SeedGrid
	RiskPoints []SeedRiskPoint
	Households []SeedHousehold
	Cameras    []SeedCamera
	Stations   []SeedStation
}

// SeedGrid is one grid of the county → township → village → group tree.
// Its boundary is not given: the county's is the seed's Outline, and every
// other grid is the part of its parent nearer to its Site than to the Site
// of any sibling (the parent's Voronoi cell of Site), cut by the store.
type SeedGrid struct {
	Level      string // county, township, village or group
	Code       string // 12 digits, or 15 for a group
	ParentCode string // "" for the county
	Name       string
	Site       orb.Point // unset for the county
	WorkerName string
	// WorkerPhone is the grid worker's phone number.
	WorkerPhone string
	// Households and Population of a group are its own; of a higher grid
	// the sums over its children.
	Households, Population int
}

// SeedRiskPoint is a hazard site.
type SeedRiskPoint struct {
	Kind, Name, Level                 string
	Point                             orb.Point
	ResponsibleName, ResponsiblePhone string
	Description                       string
	LastAssessedOn, NextAssessmentDue time.Time // dates, UTC midnight
	// Grade is the grade of a kind that has grades (dilapidated houses
	// A–D, migration 0019's assessment_grades), or "".
	Grade string
	// AssessNote is the note of the last assessment, which the store keeps
	// (assessed on LastAssessedOn at Level and Grade, next due
	// NextAssessmentDue).
	AssessNote string
}

// SeedHousehold is a risk household and its personal details.
type SeedHousehold struct {
	Kind, Level                       string
	Point                             orb.Point
	ResponsibleName, ResponsiblePhone string
	LastAssessedOn, NextAssessmentDue time.Time // dates, UTC midnight
	HeadName, HeadPhone               string
	Members                           int
	Address, Notes                    string
	// Situations and Categories are what the last assessment ticked (on
	// LastAssessedOn, next due NextAssessmentDue): the county's rules
	// (SeedKinds.Rules) give them Level. AssessNote is its note.
	Situations, Categories []Tick
	AssessNote             string
}

// SeedCamera is a public-video camera and its video-platform link.
type SeedCamera struct {
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

// SeedStation is a service station.
type SeedStation struct {
	Kind, Level, Name string
	Address, Phone    string
	OpeningHours      string // OpenStreetMap opening_hours syntax
	Services          []string
	Point             orb.Point
}

// SeedKinds are the kinds of the layer tables, reference data of the
// database: a seed spreads its rows over the kinds the database knows. The
// active dispute situations and categories of people, and the rule table
// that gives a household's ticks their level (Rules, nil if the database
// has none), are what the households' assessments tick.
type SeedKinds struct {
	RiskPoints, Households, Cameras []SeedKind
	Situations, Categories          []SeedKind
	Rules                           *AssessmentRules
}

// SeedKind is one kind: its code and Chinese name.
type SeedKind struct {
	Code, Name string
}
