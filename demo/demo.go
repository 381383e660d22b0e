// Package demo holds OneMap's demo datasets. A dataset is one county: the
// real names and statistical codes of its townships and villages and its
// approximate outline, taken from public sources and kept with their
// provenance, plus a few figures the county publishes (how many village
// groups, cameras and mediation committees it has). Everything else is
// synthetic and made from a fixed seed: township, village and group
// boundaries, grid workers, households and population, risk points, risk
// households, cameras and service stations.
//
// Wuding returns the reference county. Synthesize turns a Dataset into a Plan,
// the rows to write; package postgis writes them (and cuts the boundaries
// from the plan's Voronoi sites). Another county is another dataset
// directory read by Load, not a change of code. Nothing here touches a
// database.
package demo

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
)

// files holds the embedded datasets, one directory each.
//
//go:embed wuding
var files embed.FS

// Dataset is one demo county: its real divisions and outline, and the seed
// and target figures from which the synthetic data are made.
type Dataset struct {
	// Name names the dataset, e.g. "wuding".
	Name string
	// Source says where the real names, codes and outline come from.
	Source string
	// County is the county's 6-digit code and name.
	County Division
	// Townships are the county's townships (乡镇) in the order of their codes.
	Townships []Township
	// Outline is the county's boundary, WGS-84 longitude/latitude.
	Outline orb.MultiPolygon
	// Seat is the seat of the county government, inside Outline.
	Seat orb.Point
	// SeatTownship is the code of the township that holds Seat.
	SeatTownship string
	// Seed seeds every random choice; the same dataset and seed give the
	// same rows.
	Seed uint64
	// AsOf is the day the synthetic data describe: risk assessments fall in
	// the quarter before it.
	AsOf time.Time
	// PhoneAreaCode is the long-distance prefix of local telephone numbers,
	// e.g. "0878"; PhonePrefix is how local numbers start, e.g. "87", and
	// PhoneDigits how many digits they have, e.g. 7.
	PhoneAreaCode, PhonePrefix string
	PhoneDigits                int
	// Counts are the target figures.
	Counts Counts
	// plan is the plan SeedRows last made, for HistoryRows.
	plan *Plan
}

// Division is a county-level division: its statistical code and name.
type Division struct {
	Code string // 6 digits
	Name string
}

// Township is a township-level division (镇, 乡, 民族乡).
type Township struct {
	Code string // 9 digits
	Name string
	Kind string // "town" (镇) or "township" (乡)
	// Site, if set, is a hand-placed position of the township's seat, used
	// as its Voronoi site so that the synthetic layout resembles the real
	// one. Townships without one get a site from k-means.
	Site *orb.Point
	// Villages are the township's village and community committees.
	Villages []Village
}

// Village is a village (村民委员会) or community (社区居民委员会).
type Village struct {
	Code      string // 12 digits
	Name      string // the committee's full name
	ShortName string // the name of the place, e.g. 东岳社区
	Kind      string // "village" or "community"
}

// Counts are the figures the synthetic data are made to.
type Counts struct {
	Groups              int // village-group (村民小组) grids
	Cameras             int
	RiskPoints          int
	Households          int // risk households
	Population          int // people living in the county, spread over the groups
	MediationCommittees int // 调解委员会, of every level
}

// GridCode returns the 12-digit grid code of a statistical code of 6, 9 or
// 12 digits: the code right-padded with zeros.
func GridCode(code string) string {
	if len(code) >= 12 {
		return code
	}
	return code + strings.Repeat("0", 12-len(code))
}

// Wuding returns the dataset of Wuding County (武定县, Chuxiong, Yunnan,
// 532329), the reference county. See wuding/README.md for its sources.
func Wuding() (*Dataset, error) {
	sub, err := fs.Sub(files, "wuding")
	if err != nil {
		return nil, err
	}
	return Load(sub)
}

// manifest is the dataset.json at the root of a dataset directory.
type manifest struct {
	Name          string                `json:"name"`
	Divisions     string                `json:"divisions"`
	Outline       string                `json:"outline"`
	Seed          uint64                `json:"seed"`
	AsOf          string                `json:"as_of"`
	PhoneAreaCode string                `json:"phone_area_code"`
	PhonePrefix   string                `json:"phone_prefix"`
	PhoneDigits   int                   `json:"phone_digits"`
	Seat          [2]float64            `json:"seat"`
	SeatTownship  string                `json:"seat_township"`
	TownshipSites map[string][2]float64 `json:"township_sites"`
	Counts        struct {
		Groups              int `json:"groups"`
		Cameras             int `json:"cameras"`
		RiskPoints          int `json:"risk_points"`
		Households          int `json:"households"`
		Population          int `json:"population"`
		MediationCommittees int `json:"mediation_committees"`
	} `json:"counts"`
}

// divisionsFile is the divisions file: county → townships → villages.
type divisionsFile struct {
	Source string `json:"source"`
	County struct {
		Code string `json:"code"`
		Name string `json:"name"`
	} `json:"county"`
	Townships []struct {
		Code     string `json:"code"`
		Name     string `json:"name"`
		Kind     string `json:"kind"`
		Villages []struct {
			Code      string `json:"code"`
			Name      string `json:"name"`
			ShortName string `json:"short_name"`
			Kind      string `json:"kind"`
		} `json:"villages"`
	} `json:"townships"`
}

// Load reads a dataset directory: dataset.json, which names the divisions
// file (JSON: county → townships → villages with their codes) and the
// outline (GeoJSON, WGS-84, one Polygon or MultiPolygon feature), and
// carries the seed, the target counts and the layout hints. It checks that
// the codes nest and the figures add up.
func Load(fsys fs.FS) (*Dataset, error) {
	var m manifest
	if err := readJSON(fsys, "dataset.json", &m); err != nil {
		return nil, err
	}
	var div divisionsFile
	if err := readJSON(fsys, m.Divisions, &div); err != nil {
		return nil, err
	}
	outline, err := readOutline(fsys, m.Outline)
	if err != nil {
		return nil, err
	}
	asOf, err := time.Parse(time.DateOnly, m.AsOf)
	if err != nil {
		return nil, fmt.Errorf("demo: dataset.json: as_of: %w", err)
	}
	d := &Dataset{
		Name:          m.Name,
		Source:        fmt.Sprintf("names and codes: %s; outline: %s (approximate)", div.Source, m.Outline),
		County:        Division{Code: div.County.Code, Name: div.County.Name},
		Outline:       outline,
		Seat:          orb.Point(m.Seat),
		SeatTownship:  m.SeatTownship,
		Seed:          m.Seed,
		AsOf:          asOf,
		PhoneAreaCode: m.PhoneAreaCode,
		PhonePrefix:   m.PhonePrefix,
		PhoneDigits:   m.PhoneDigits,
		Counts: Counts{
			Groups:              m.Counts.Groups,
			Cameras:             m.Counts.Cameras,
			RiskPoints:          m.Counts.RiskPoints,
			Households:          m.Counts.Households,
			Population:          m.Counts.Population,
			MediationCommittees: m.Counts.MediationCommittees,
		},
	}
	for _, t := range div.Townships {
		tw := Township{Code: t.Code, Name: t.Name, Kind: t.Kind}
		if s, ok := m.TownshipSites[t.Code]; ok {
			p := orb.Point(s)
			tw.Site = &p
		}
		for _, v := range t.Villages {
			tw.Villages = append(tw.Villages, Village{Code: v.Code, Name: v.Name, ShortName: v.ShortName, Kind: v.Kind})
		}
		d.Townships = append(d.Townships, tw)
	}
	for code := range m.TownshipSites {
		if d.township(code) == nil {
			return nil, fmt.Errorf("demo: dataset.json: township_sites: no township %s", code)
		}
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return d, nil
}

// township returns the township with the code, or nil.
func (d *Dataset) township(code string) *Township {
	for i := range d.Townships {
		if d.Townships[i].Code == code {
			return &d.Townships[i]
		}
	}
	return nil
}

// Villages returns the number of villages of every township.
func (d *Dataset) Villages() int {
	n := 0
	for _, t := range d.Townships {
		n += len(t.Villages)
	}
	return n
}

// Validate checks that the codes are well formed and nest, that names are
// present, that the seat and the township sites lie inside the outline, and
// that the target counts are possible.
func (d *Dataset) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("demo: dataset %s: "+format, append([]any{d.Name}, args...)...)
	}
	if !digits(d.County.Code, 6) || d.County.Code[0] < '1' || d.County.Code[0] > '8' || d.County.Name == "" {
		return bad("county code %q must be 6 digits starting with a province code (11-82) and the name non-empty", d.County.Code)
	}
	if len(d.Townships) == 0 {
		return bad("no townships")
	}
	if len(d.Outline) == 0 {
		return bad("no outline")
	}
	if !planar.MultiPolygonContains(d.Outline, d.Seat) {
		return bad("the county seat %v lies outside the outline", d.Seat)
	}
	if d.township(d.SeatTownship) == nil {
		return bad("seat township %q is not one of the townships", d.SeatTownship)
	}
	if len(d.PhoneAreaCode) < 3 || !digits(d.PhoneAreaCode, len(d.PhoneAreaCode)) ||
		(d.PhonePrefix != "" && !digits(d.PhonePrefix, len(d.PhonePrefix))) ||
		d.PhoneDigits < 7 || d.PhoneDigits > 8 || len(d.PhonePrefix) > d.PhoneDigits-3 {
		return bad("phone area code %q, prefix %q and %d digits do not make telephone numbers", d.PhoneAreaCode, d.PhonePrefix, d.PhoneDigits)
	}
	seen := map[string]bool{}
	for _, t := range d.Townships {
		if !digits(t.Code, 9) || !strings.HasPrefix(t.Code, d.County.Code) || t.Name == "" {
			return bad("township %q %s: the code must be 9 digits under the county's", t.Code, t.Name)
		}
		if seen[t.Code] {
			return bad("township %s appears twice", t.Code)
		}
		seen[t.Code] = true
		if t.Site != nil && !planar.MultiPolygonContains(d.Outline, *t.Site) {
			return bad("the site of %s %v lies outside the outline", t.Name, *t.Site)
		}
		if len(t.Villages) == 0 {
			return bad("township %s has no villages", t.Name)
		}
		for _, v := range t.Villages {
			if !digits(v.Code, 12) || !strings.HasPrefix(v.Code, t.Code) || v.Name == "" || v.ShortName == "" {
				return bad("village %q %s: the code must be 12 digits under %s's and the names non-empty", v.Code, v.Name, t.Name)
			}
			if v.Kind != "village" && v.Kind != "community" {
				return bad("village %s: kind %q is neither village nor community", v.Code, v.Kind)
			}
			if seen[v.Code] {
				return bad("village %s appears twice", v.Code)
			}
			seen[v.Code] = true
		}
	}
	c := d.Counts
	nv := d.Villages()
	switch {
	case c.Groups < 2*nv || c.Groups > 40*nv:
		return bad("%d groups cannot be spread over %d villages (2 to 40 each)", c.Groups, nv)
	case c.Cameras < 0 || c.Cameras > 200000:
		return bad("cameras: %d is out of range", c.Cameras)
	case c.RiskPoints < 0 || c.RiskPoints > 100000, c.Households < 0 || c.Households > 100000:
		return bad("risk points and households must be between 0 and 100,000")
	case c.Population < 10*c.Groups:
		return bad("population %d is too small for %d groups", c.Population, c.Groups)
	case c.MediationCommittees < 1+len(d.Townships)+nv:
		return bad("%d mediation committees are fewer than one per county, township and village", c.MediationCommittees)
	}
	return nil
}

func digits(s string, n int) bool {
	if len(s) != n || n == 0 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func readJSON(fsys fs.FS, name string, v any) error {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("demo: %s: %w", name, err)
	}
	return nil
}

// readOutline reads a GeoJSON file holding one (Multi)Polygon feature.
func readOutline(fsys fs.FS, name string) (orb.MultiPolygon, error) {
	b, err := fs.ReadFile(fsys, path.Clean(name))
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		return nil, fmt.Errorf("demo: %s: %w", name, err)
	}
	if len(fc.Features) != 1 {
		return nil, fmt.Errorf("demo: %s: want one feature, got %d", name, len(fc.Features))
	}
	switch g := fc.Features[0].Geometry.(type) {
	case orb.Polygon:
		return orb.MultiPolygon{g}, nil
	case orb.MultiPolygon:
		return g, nil
	default:
		return nil, fmt.Errorf("demo: %s: want a Polygon or MultiPolygon, got %s", name, g.GeoJSONType())
	}
}
