package onemap

import "github.com/paulmach/orb"

// PublicStation is a service station as the public sees it.
type PublicStation struct {
	ID           int64
	Kind         string // a code of PublicData.Kinds
	Level        string // county, township or village
	Name         string
	Address      string
	Phone        string
	OpeningHours string // OpenStreetMap opening_hours syntax
	Services     []string
	GridID       int64 // 0: none
	Synthetic    bool
	Point        orb.Point // WGS-84
}

// PublicPlace is a township or a village, with a point inside it, for
// people who pick where they are from a list.
type PublicPlace struct {
	ID       int64
	Code     string // 12-digit statistical code
	Name     string
	Level    string    // township or village
	ParentID int64     // the grid above: a village's township, a township's county
	Point    orb.Point // WGS-84, inside the place
}

// PublicKind is a kind of station.
type PublicKind struct {
	Code   string
	Name   string // Chinese
	NameEN string
}

// PublicShelter is a shelter or evacuation site (安置点) as the public sees
// it: its public fields (the view public_shelters), nothing of the hazards.
type PublicShelter struct {
	ID         int64
	Kind       string // a code of the shelter kinds
	KindName   string // Chinese
	KindNameEN string
	Name       string
	Capacity   int64 // people it takes
	Address    string
	GridID     int64 // 0: none
	Synthetic  bool
	Point      orb.Point // WGS-84
}

// PublicData is everything the public index (package public) holds, as the
// store reads it from the database's public views.
type PublicData struct {
	Kinds    []PublicKind
	Stations []PublicStation
	Places   []PublicPlace
	Shelters []PublicShelter
}

// PublicQuery asks the public index for the stations nearest a point.
type PublicQuery struct {
	Point  orb.Point // WGS-84
	Kinds  []string  // codes of kinds to keep; none keeps every kind
	Limit  int       // how many, 1 to PublicMaxLimit
	Radius float64   // metres; 0 is no bound
}

// Limits of a PublicQuery.
const (
	PublicMaxLimit  = 50
	PublicMaxRadius = 100_000.0 // metres
)
