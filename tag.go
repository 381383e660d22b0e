package onemap

import (
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"
)

// E-bike tags (电动车防盗电子标签): anti-theft tags on e-bikes and
// motorcycles. The IoT platform sends their positions, in batches, through
// the signed ingest (events of kind EventTagPosition) or over MQTT; the
// last position of each tag is kept in memory and drawn as the live
// vector-tile layer LayerTags; every position is kept for a period
// (TagRetentionDefault) for tracks; geofences raise tag alarms when a tag
// enters or leaves their area. A tag's owner is personal data: kept apart
// (TagOwner), masked by the policy (View.TagOwners), every read audited.

// LayerTags names the tags' live layer: the vector-tile layer and tileset
// of the tags' last positions and the layer of their live events. Like
// LayerCases it is no layer of the Catalog: tags are no features.
const LayerTags = "tags"

// EventTagPosition is the event kind of a tag's position: its code, time
// and place (WGS-84, or a CRS the event names).
const EventTagPosition = "tag_position"

// TagRetentionDefault is how long positions are kept: a job removes older
// ones (whole days of them).
const TagRetentionDefault = 30 * 24 * time.Hour

// Tag kinds.
const (
	TagEBike      = "ebike"
	TagMotorcycle = "motorcycle"
	TagOther      = "other"
)

// Tag is one tag.
type Tag struct {
	ID        int64
	Code      string // TAG-000001: as the IoT platform names it
	Kind      string // TagEBike, TagMotorcycle, TagOther
	GridID    int64  // the grid it is registered in (0: none)
	Home      orb.Point
	Synthetic bool // made up by the demo
}

// TagOwner is who a tag's vehicle belongs to: personal data.
type TagOwner struct {
	Name  string
	Phone string
	Plate string
}

// TagPosition is where a tag was at a moment, WGS-84.
type TagPosition struct {
	TagID int64
	At    time.Time
	Point orb.Point
}

var tagCodeRE = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_-]{1,39}$`)

// ValidTagCode reports whether s has the form of a tag's code: 2 to 40 of
// A-Z, 0-9, _ and -.
func ValidTagCode(s string) bool { return tagCodeRE.MatchString(s) }

// DemoTagCode is the code of the demo's i-th tag (1-based): TAG-000001.
func DemoTagCode(i int) string {
	const digits = "0123456789"
	b := []byte("TAG-000000")
	for j := len(b) - 1; j >= 4 && i > 0; j-- {
		b[j] = digits[i%10]
		i /= 10
	}
	return string(b)
}

// SeesTags reports whether the view's role is shown tags (their layer,
// tracks and positions): operators and commanders.
func (v *View) SeesTags() bool { return v.role == RoleOperator || v.role == RoleCommander }

// TagOwners is how the view's role sees tags' owners: the commander as
// stored, the operator masked (张*, 138****1234), every other role not at
// all. Every answer that shows an owner is audited (AuditTagOwnerRead).
func (v *View) TagOwners() FieldAccess {
	switch v.role {
	case RoleCommander:
		return FieldAllow
	case RoleOperator:
		return FieldMask
	}
	return FieldDeny
}

// Geofence triggers.
const (
	FenceEnter = "enter"
	FenceLeave = "leave"
)

// DayWindow is a part of the day in China time (UTC+8), minutes after
// midnight; From after To runs over midnight (22:00–06:00 is 1320–360).
type DayWindow struct {
	From, To int
}

// chinaZone is China Standard Time (no daylight saving time).
var chinaZone = time.FixedZone("CST", 8*3600)

// Contains reports whether t falls in the window: From inclusive, To
// exclusive.
func (w DayWindow) Contains(t time.Time) bool {
	c := t.In(chinaZone)
	m := c.Hour()*60 + c.Minute()
	if w.From <= w.To {
		return m >= w.From && m < w.To
	}
	return m >= w.From || m < w.To
}

// Geofence is an area with a rule: a tag of the fence (TagIDs, or every tag
// registered in Grid or a grid below it) entering or leaving it (Trigger),
// within Window if one is set, raises a tag alarm of Severity.
type Geofence struct {
	ID        int64
	Name      string
	Area      orb.MultiPolygon // WGS-84
	Trigger   string           // FenceEnter or FenceLeave
	Window    *DayWindow       // nil: at any time
	GridID    int64            // 0: none
	TagIDs    []int64          // the tags named (with GridID's, if both)
	Severity  int              // 1 (most severe) to 4
	CreatedAt time.Time
	CreatedBy string
}

// Geofence limits.
const (
	GeofenceMaxName   = 100
	GeofenceMaxTags   = 10000
	GeofenceMaxPoints = 100000
)

// CheckGeofence refuses a geofence that is not well formed (EINVALID
// naming the field) and fills a missing severity (2).
func CheckGeofence(f *Geofence) error {
	f.Name = strings.TrimSpace(f.Name)
	if f.Name == "" || utf8.RuneCountInString(f.Name) > GeofenceMaxName {
		return FieldErrorf("name", EINVALID, "a name of 1 to %d characters is required", GeofenceMaxName)
	}
	if f.Trigger != FenceEnter && f.Trigger != FenceLeave {
		return FieldErrorf("trigger", EINVALID, "trigger %.40q: want enter or leave", f.Trigger)
	}
	if len(f.Area) == 0 {
		return FieldErrorf("geometry", EINVALID, "a Polygon or MultiPolygon is required")
	}
	n := 0
	for _, p := range f.Area {
		for _, r := range p {
			if len(r) < 4 || !r.Closed() {
				return FieldErrorf("geometry", EINVALID, "each ring needs at least 4 points, the last the first")
			}
			n += len(r)
			for _, pt := range r {
				if pt[0] < -180 || pt[0] > 180 || pt[1] < -90 || pt[1] > 90 {
					return FieldErrorf("geometry", EINVALID, "point %v: want WGS-84 longitude and latitude", pt)
				}
			}
		}
	}
	if n > GeofenceMaxPoints {
		return FieldErrorf("geometry", EINVALID, "at most %d points", GeofenceMaxPoints)
	}
	if w := f.Window; w != nil && (w.From < 0 || w.From > 1439 || w.To < 0 || w.To > 1439 || w.From == w.To) {
		return FieldErrorf("window", EINVALID, "a window of two different times of the day, HH:MM (22:00 to 06:00)")
	}
	if f.GridID == 0 && len(f.TagIDs) == 0 {
		return FieldErrorf("tags", EINVALID, "name the tags of the fence: a grid (all its tags) or a list of tag codes")
	}
	if len(f.TagIDs) > GeofenceMaxTags {
		return FieldErrorf("tags", EINVALID, "at most %d tags", GeofenceMaxTags)
	}
	if f.Severity == 0 {
		f.Severity = DefaultSeverity(EventTagAlarm)
	}
	if f.Severity < 1 || f.Severity > 4 {
		return FieldErrorf("severity", EINVALID, "severity %d: want 1 (most severe) to 4", f.Severity)
	}
	return nil
}

// Crossed reports whether a tag that was inside the area (wasIn) and is
// now (isIn) at time at trips the fence.
func (f *Geofence) Crossed(wasIn, isIn bool, at time.Time) bool {
	if wasIn == isIn {
		return false
	}
	if (f.Trigger == FenceEnter) != isIn {
		return false
	}
	return f.Window == nil || f.Window.Contains(at)
}

// Applies reports whether the fence watches a tag registered in grid
// (under reports whether one grid lies in or below another).
func (f *Geofence) Applies(tag int64, grid int64, under func(grid, top int64) bool) bool {
	if slices.Contains(f.TagIDs, tag) {
		return true
	}
	return f.GridID != 0 && grid != 0 && under(grid, f.GridID)
}

// TagAlarm is an alarm of a tag to raise: the tag's own (its event id set)
// or a geofence's.
type TagAlarm struct {
	EventID     string // the source's event id; "" for a geofence's
	TagID       int64
	FenceID     int64 // 0: the tag's own alarm
	At          time.Time
	Point       orb.Point
	Severity    int
	Description string
}

// TagIngest is what became of a batch of tag events: each event's result
// (in the order sent), the positions taken, and the alarms raised.
type TagIngest struct {
	Results   []IngestResult
	Positions []TagPosition // taken now (not duplicates), in the order sent
	Alarms    []*Alarm
}

// TagMapLayer describes the tags' last positions as a point layer of
// vector tiles (LayerTags): each tag's code, kind, grid, the time of its
// last position (empty: none yet, drawn at its home) and its kind of
// place. Nothing of it is stored: the records are made per tile from the
// live index.
func TagMapLayer() Layer {
	return Layer{
		ID: LayerTags, Title: "电子标签", TitleEN: "E-bike tags", Geometry: GeometryPoint, MinZoom: 0, MaxZoom: 22, ClusterBelow: 12,
		Sensitive: true,
		Fields: []Field{
			{Name: "code", Type: FieldString, Class: ClassInternal, Title: "标签号", TitleEN: "Code"},
			{Name: "kind", Type: FieldString, Class: ClassInternal, Title: "类型", TitleEN: "Kind", Enum: []string{TagEBike, TagMotorcycle, TagOther}},
			{Name: "at", Type: FieldTime, Class: ClassInternal, Title: "定位时间", TitleEN: "Last position at"},
			{Name: "grid_id", Type: FieldInteger, Class: ClassInternal, Title: "登记网格", TitleEN: "Grid"},
		},
	}
}

// TagTileLayer is TagMapLayer as vector tiles carry it: every field.
func TagTileLayer() TileLayer {
	l := TagMapLayer()
	tl := TileLayer{Layer: l, MinZoom: l.MinZoom, MaxZoom: l.MaxZoom, ClusterBelow: l.ClusterBelow}
	for _, f := range l.Fields {
		tl.Fields = append(tl.Fields, f.Name)
	}
	return tl
}

// Track limits: a track spans at most TrackMaxSpan and returns at most
// TrackMaxPoints positions.
const (
	TrackMaxSpan   = 31 * 24 * time.Hour
	TrackMaxPoints = 20000
)

// Audit actions of tags.
const (
	AuditTagOwnerRead   = "tag.owner.read" // an answer that showed a tag's owner
	AuditGeofenceAdd    = "geofence.add"
	AuditGeofenceDelete = "geofence.delete"
	AuditTagRetention   = "tag.retention" // a day of positions dropped
)
