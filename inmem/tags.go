package inmem

import (
	"slices"
	"sync"
	"time"

	"github.com/onemapgis/onemap"
	kernel "github.com/onemapgis/onemap/internal/planar"
	"github.com/paulmach/orb"
)

// LiveTags holds every tag's last position and, per geofence that watches
// the tag, whether the tag is inside it: what the tags' live layer draws
// and what the geofences are checked against, without the database.
//
// Concurrency: it is safe for concurrent use, under one RWMutex rather than
// the copy-on-write snapshots of Replica. The tags move all the time
// (10,000 positions a second at the floor): copying 100,000 entries per
// batch would cost far more than readers waiting for a batch's short
// write lock. Readers (tiles, lookups) take the read lock for a linear
// scan of the packed points, 1.6 MB at 100,000 tags (BenchmarkLiveTags_tile
// times it; a grid of cells would pay off only well beyond that).
type LiveTags struct {
	mu      sync.RWMutex
	entries []tagEntry
	pts     []orb.Point // entries[i].pos.Point, packed for the scans of Search
	byID    map[int64]int32
	byCode  map[string]int32
	fences  []onemap.Geofence
	bounds  []orb.Bound
	under   func(grid, top int64) bool
}

// tagEntry is one tag: its last position (none yet: its home, Has false)
// and the fences that watch it.
type tagEntry struct {
	tag    onemap.Tag
	pos    onemap.TagPosition
	has    bool
	fences []fenceState
}

type fenceState struct {
	fence int32 // index in fences
	in    bool
}

// TagMove is a tag's new last position.
type TagMove struct {
	Tag onemap.Tag
	Pos onemap.TagPosition
}

// NewLiveTags returns an empty index; under reports whether a grid lies in
// or below another (a fence of a grid watches the tags registered there).
func NewLiveTags(under func(grid, top int64) bool) *LiveTags {
	return &LiveTags{byID: map[int64]int32{}, byCode: map[string]int32{}, under: under}
}

// Load replaces every tag, last position and geofence. states are the
// geofence states the database keeps (onemap.FenceState): a tag's state for
// a fence is the stored one where there is one, else taken from where the
// tag is now (no alarm).
func (x *LiveTags) Load(tags []onemap.Tag, last []onemap.TagPosition, fences []onemap.Geofence, states []onemap.FenceState) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.entries = make([]tagEntry, len(tags))
	x.pts = make([]orb.Point, len(tags))
	x.byID = make(map[int64]int32, len(tags))
	x.byCode = make(map[string]int32, len(tags))
	for i, t := range tags {
		x.entries[i] = tagEntry{tag: t, pos: onemap.TagPosition{TagID: t.ID, Point: t.Home}}
		x.byID[t.ID] = int32(i)
		x.byCode[t.Code] = int32(i)
	}
	for _, p := range last {
		if i, ok := x.byID[p.TagID]; ok {
			x.entries[i].pos, x.entries[i].has = p, true
		}
	}
	for i := range x.entries {
		x.pts[i] = x.entries[i].pos.Point
	}
	known := make(map[[2]int64]bool, len(states))
	for _, st := range states {
		known[[2]int64{st.FenceID, st.TagID}] = st.In
	}
	x.setFences(fences, known)
}

// SetFences replaces the geofences: a tag keeps its inside or outside of
// a fence it had already; for a new fence it is taken from where the tag
// is now (no alarm).
func (x *LiveTags) SetFences(fences []onemap.Geofence) {
	x.mu.Lock()
	defer x.mu.Unlock()
	known := map[[2]int64]bool{}
	for i := range x.entries {
		e := &x.entries[i]
		for _, st := range e.fences {
			known[[2]int64{x.fences[st.fence].ID, e.tag.ID}] = st.in
		}
	}
	x.setFences(fences, known)
}

// setFences sets the fences; known holds the states to keep, by fence and
// tag id. The lock is held.
func (x *LiveTags) setFences(fences []onemap.Geofence, known map[[2]int64]bool) {
	x.fences = fences
	x.bounds = make([]orb.Bound, len(fences))
	for i, f := range fences {
		x.bounds[i] = f.Area.Bound()
	}
	for i := range x.entries {
		e := &x.entries[i]
		e.fences = e.fences[:0]
		for j := range fences {
			if fences[j].Applies(e.tag.ID, e.tag.GridID, x.under) {
				in, ok := known[[2]int64{fences[j].ID, e.tag.ID}]
				if !ok {
					in = x.inside(j, e.pos.Point)
				}
				e.fences = append(e.fences, fenceState{fence: int32(j), in: in})
			}
		}
	}
}

func (x *LiveTags) inside(fence int, p orb.Point) bool {
	return x.bounds[fence].Contains(p) && kernel.MultiPolygonContains(x.fences[fence].Area, p)
}

// cross moves tag e's fence states fs to position p and appends the
// crossings it makes to out: a fence's area entered or left, with the
// alarm if that trips the fence (onemap.Geofence.Crossed) at p's time.
func (x *LiveTags) cross(t onemap.Tag, fs []fenceState, p onemap.TagPosition, out []onemap.FenceCrossing) []onemap.FenceCrossing {
	for k := range fs {
		st := &fs[k]
		f := &x.fences[st.fence]
		in := x.inside(int(st.fence), p.Point)
		if in == st.in {
			continue
		}
		c := onemap.FenceCrossing{FenceState: onemap.FenceState{FenceID: f.ID, TagID: t.ID, In: in, At: p.At}}
		if f.Crossed(st.in, in, p.At) {
			what := map[bool]string{true: "进入", false: "离开"}[in]
			c.Alarm = &onemap.TagAlarm{TagID: t.ID, FenceID: f.ID, At: p.At, Point: p.Point, Severity: f.Severity,
				Description: "电子标签" + t.Code + what + "电子围栏「" + f.Name + "」"}
		}
		out = append(out, c)
		st.in = in
	}
	return out
}

// Crossings returns the geofence crossings that positions taken (in any
// order) would make, without moving anything: what Apply would return as
// crossings. The ingest writes them with the positions, in one
// transaction, and applies the positions once that has committed.
func (x *LiveTags) Crossings(ps []onemap.TagPosition) []onemap.FenceCrossing {
	x.mu.RLock()
	defer x.mu.RUnlock()
	type sim struct {
		at     time.Time
		has    bool
		fences []fenceState
	}
	var sims map[int32]*sim
	var out []onemap.FenceCrossing
	for _, p := range ps {
		i, ok := x.byID[p.TagID]
		if !ok {
			continue
		}
		e := &x.entries[i]
		if len(e.fences) == 0 {
			continue
		}
		sm := sims[i]
		if sm == nil {
			if sims == nil {
				sims = map[int32]*sim{}
			}
			sm = &sim{at: e.pos.At, has: e.has, fences: slices.Clone(e.fences)}
			sims[i] = sm
		}
		if sm.has && !p.At.After(sm.at) {
			continue
		}
		sm.at, sm.has = p.At, true
		out = x.cross(e.tag, sm.fences, p, out)
	}
	return out
}

// Apply moves the tags to positions taken (in any order; a position older
// than a tag's last moves nothing and trips nothing), and returns the tags
// moved and the geofence crossings their moves make (with the alarm of
// each that trips its fence, onemap.Geofence.Crossed, at the position's
// time).
func (x *LiveTags) Apply(ps []onemap.TagPosition) ([]TagMove, []onemap.FenceCrossing) {
	x.mu.Lock()
	defer x.mu.Unlock()
	var moved []TagMove
	var crossed []onemap.FenceCrossing
	for _, p := range ps {
		i, ok := x.byID[p.TagID]
		if !ok {
			continue
		}
		e := &x.entries[i]
		if e.has && !p.At.After(e.pos.At) {
			continue
		}
		e.pos, e.has = p, true
		x.pts[i] = p.Point
		moved = append(moved, TagMove{Tag: e.tag, Pos: p})
		crossed = x.cross(e.tag, e.fences, p, crossed)
	}
	return moved, crossed
}

// Get returns the tag of code and its last position (ok false: no such
// tag; has false: no position yet, the position is its home).
func (x *LiveTags) Get(code string) (t onemap.Tag, p onemap.TagPosition, has, ok bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	i, ok := x.byCode[code]
	if !ok {
		return t, p, false, false
	}
	e := x.entries[i]
	return e.tag, e.pos, e.has, true
}

// Search calls fn with each tag whose last position (or home) lies in b,
// until fn returns false. fn must not call x.
func (x *LiveTags) Search(b orb.Bound, fn func(t onemap.Tag, p onemap.TagPosition, has bool) bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for i, p := range x.pts {
		if p[0] < b.Min[0] || p[0] > b.Max[0] || p[1] < b.Min[1] || p[1] > b.Max[1] {
			continue
		}
		if e := &x.entries[i]; !fn(e.tag, e.pos, e.has) {
			return
		}
	}
}

// Len returns how many tags it holds.
func (x *LiveTags) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.entries)
}
