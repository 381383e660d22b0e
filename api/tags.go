package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
)

// E-bike tags (issue 21 item 4): their positions arrive through the signed
// ingest (handleIngestEvents hands tag events to ingestTags) or over MQTT
// (the MQTT subscriber calls IngestTagEvents); their last positions live in
// memory (inmem.LiveTags), drawn as the live layer "tags" and sent on the
// event stream; their tracks, places at a time and geofences are the
// database's.

// tagStore is what the tag routes and the tag ingest ask of the database
// (postgis.Tags).
type tagStore interface {
	Now() time.Time
	Retention() time.Duration
	ListTags(ctx context.Context) ([]onemap.Tag, error)
	LastPositions(ctx context.Context) ([]onemap.TagPosition, error)
	FindTag(ctx context.Context, code string) (onemap.Tag, error)
	ReadTagOwner(ctx context.Context, t onemap.Tag, masked bool) (onemap.TagOwner, error)
	Track(ctx context.Context, id int64, from, to time.Time, limit int) ([]onemap.TagPosition, bool, error)
	PositionAt(ctx context.Context, id int64, t time.Time) (onemap.TagPosition, error)
	IngestTagsFenced(ctx context.Context, src onemap.Source, events []onemap.IngestEvent,
		cross func([]onemap.TagPosition) []onemap.FenceCrossing) (onemap.TagIngest, error)
	FenceStates(ctx context.Context) ([]onemap.FenceState, error)
	ListGeofences(ctx context.Context) ([]onemap.Geofence, error)
	AddGeofence(ctx context.Context, f onemap.Geofence) (onemap.Geofence, error)
	DeleteGeofence(ctx context.Context, id int64) error
	TagCodes(ctx context.Context, field string, codes []string) ([]int64, error)
}

// tagService holds the tag store and the live index.
type tagService struct {
	store tagStore
	live  *inmem.LiveTags
}

// initTags loads the live index from the store (tags, last positions,
// geofences and their states); a failure is logged and the index starts empty (the tags
// routes still answer from the database; positions fill it).
func (s *Server) initTags(store tagStore) {
	if store == nil {
		return
	}
	s.tags = &tagService{store: store, live: inmem.NewLiveTags(s.gridUnder)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.reloadTags(ctx); err != nil {
		s.log.Error("tags: load the live index", "error", err)
	}
}

func (s *Server) reloadTags(ctx context.Context) error {
	tags, err := s.tags.store.ListTags(ctx)
	if err != nil {
		return err
	}
	last, err := s.tags.store.LastPositions(ctx)
	if err != nil {
		return err
	}
	fences, err := s.tags.store.ListGeofences(ctx)
	if err != nil {
		return err
	}
	states, err := s.tags.store.FenceStates(ctx)
	if err != nil {
		return err
	}
	s.tags.live.Load(tags, last, fences, states)
	return nil
}

// addTagRoutes lists the tag routes.
func (s *Server) addTagRoutes(r *gin.Engine) {
	g := r.Group("/api/tags", s.needTags)
	g.GET("/:code", s.handleTagGet)
	g.GET("/:code/track", s.handleTagTrack)
	g.GET("/:code/at", s.handleTagAt)
	g.GET("/:code/owner", s.handleTagOwner)
	f := r.Group("/api/geofences", s.needTags)
	f.GET("", s.handleGeofencesList)
	f.POST("", s.handleGeofenceAdd)
	f.DELETE("/:id", s.handleGeofenceDelete)
}

// needTags refuses a caller whose role is not shown tags (401 for the
// anonymous, 403 for an account), and answers 503 without a store.
func (s *Server) needTags(c *gin.Context) {
	if !s.view(c).SeesTags() {
		caller := callerOf(c)
		if caller.Name == "" {
			writeError(c, s.log, onemap.Errorf(onemap.EUNAUTHORIZED, "sign in first"))
		} else {
			writeError(c, s.log, onemap.Errorf(onemap.EFORBIDDEN, "tags are not for the %s role", caller.Role))
		}
		return
	}
	if s.tags == nil {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAVAILABLE, "tags need the database"))
	}
}

// tagSees returns whether the view sees a tag: every tag for a role not
// bound to a grid, the tags registered in its part of the county for one
// that is.
func (s *Server) tagSees(v *onemap.View) func(onemap.Tag) bool {
	if !v.SeesTags() {
		return func(onemap.Tag) bool { return false }
	}
	if !v.Scoped() || v.Grid() == 0 {
		return func(onemap.Tag) bool { return true }
	}
	top := v.Grid()
	return func(t onemap.Tag) bool { return s.gridUnder(t.GridID, top) }
}

// tagOf finds the tag of the path's code that the caller sees (ENOTFOUND
// for one it does not: no hint that it exists).
func (s *Server) tagOf(c *gin.Context) (onemap.Tag, error) {
	code := c.Param("code")
	if !onemap.ValidTagCode(code) {
		return onemap.Tag{}, onemap.FieldErrorf("code", onemap.EINVALID, "tag %.40q: want a tag's code (TAG-000001)", code)
	}
	t, err := s.tags.store.FindTag(c.Request.Context(), code)
	if err != nil {
		return t, err
	}
	if !s.tagSees(s.view(c))(t) {
		return onemap.Tag{}, onemap.Errorf(onemap.ENOTFOUND, "no tag %s in your part of the county", code)
	}
	return t, nil
}

// tagJSON is a tag with its last position.
type tagJSON struct {
	Code      string      `json:"code"`
	Kind      string      `json:"kind"`
	GridID    int64       `json:"grid_id,omitempty"`
	Home      [2]float64  `json:"home"`
	Synthetic bool        `json:"synthetic"`
	Position  *[2]float64 `json:"position,omitempty"` // WGS-84 [lon, lat]: the last position, if any
	At        *time.Time  `json:"at,omitempty"`
}

// handleTagGet answers GET /api/tags/{code}: "where is tag X now", from the
// live index.
func (s *Server) handleTagGet(c *gin.Context) {
	t, err := s.tagOf(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	out := tagJSON{Code: t.Code, Kind: t.Kind, GridID: t.GridID, Home: [2]float64{t.Home[0], t.Home[1]}, Synthetic: t.Synthetic}
	if _, p, has, ok := s.tags.live.Get(t.Code); ok && has {
		at := p.At
		out.Position, out.At = &[2]float64{p.Point[0], p.Point[1]}, &at
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

// parseTagTime reads a time parameter: RFC 3339, or a time of the day
// (HH:MM, China time) on the day of now, or before now if that is later
// ("where was it at 02:00" means the last 02:00).
func parseTagTime(name, v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if d, err := time.Parse("15:04", v); err == nil {
		c := now.In(chinaTime)
		t := time.Date(c.Year(), c.Month(), c.Day(), d.Hour(), d.Minute(), 0, 0, chinaTime)
		if t.After(now) {
			t = t.AddDate(0, 0, -1)
		}
		return t, nil
	}
	return time.Time{}, onemap.FieldErrorf(name, onemap.EINVALID, "%s %.40q: want an RFC 3339 time (2026-12-06T02:00:00+08:00) or HH:MM (China time, the last such)", name, v)
}

// handleTagTrack answers GET /api/tags/{code}/track?from=&to=: the tag's
// positions in [from, to) (default: the last 24 hours; at most
// onemap.TrackMaxSpan), oldest first, as a GeoJSON Feature with a
// LineString and the times of its points (properties.times), at most
// onemap.TrackMaxPoints ("truncated": true when there were more).
func (s *Server) handleTagTrack(c *gin.Context) {
	q := c.Request.URL.Query()
	if err := checkQuery(q, "from", "to"); err != nil {
		writeError(c, s.log, err)
		return
	}
	now := s.tags.store.Now()
	from, to := now.Add(-24*time.Hour), now
	var err error
	if v := q.Get("from"); v != "" {
		if from, err = parseTagTime("from", v, now); err != nil {
			writeError(c, s.log, err)
			return
		}
	}
	if v := q.Get("to"); v != "" {
		if to, err = parseTagTime("to", v, now); err != nil {
			writeError(c, s.log, err)
			return
		}
	}
	if !to.After(from) || to.Sub(from) > onemap.TrackMaxSpan {
		writeError(c, s.log, onemap.FieldErrorf("to", onemap.EINVALID, "a period with to after from, of at most %s", onemap.TrackMaxSpan))
		return
	}
	t, err := s.tagOf(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	ps, more, err := s.tags.store.Track(c.Request.Context(), t.ID, from, to, onemap.TrackMaxPoints)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	line := make(orb.LineString, len(ps))
	times := make([]time.Time, len(ps))
	for i, p := range ps {
		line[i], times[i] = p.Point, p.At
	}
	f := geojson.NewFeature(line)
	f.Properties = geojson.Properties{"code": t.Code, "from": from.UTC(), "to": to.UTC(), "count": len(ps), "times": times, "truncated": more}
	c.Header("Cache-Control", "no-store")
	c.Render(http.StatusOK, geojsonRender{v: f})
}

// handleTagAt answers GET /api/tags/{code}/at?t=: where the tag was at t
// (its last position at or before it, within the retention period).
func (s *Server) handleTagAt(c *gin.Context) {
	q := c.Request.URL.Query()
	if err := checkQuery(q, "t"); err != nil {
		writeError(c, s.log, err)
		return
	}
	if q.Get("t") == "" {
		writeError(c, s.log, onemap.FieldErrorf("t", onemap.EINVALID, "t is required: an RFC 3339 time or HH:MM"))
		return
	}
	at, err := parseTagTime("t", q.Get("t"), s.tags.store.Now())
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	t, err := s.tagOf(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	p, err := s.tags.store.PositionAt(c.Request.Context(), t.ID, at)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"code": t.Code, "t": at.UTC(), "at": p.At, "position": [2]float64{p.Point[0], p.Point[1]}})
}

// handleTagOwner answers GET /api/tags/{code}/owner: the owner of the
// tag's vehicle, as the policy lets the role see it (the commander as
// stored, the operator masked), every read in the audit trail.
func (s *Server) handleTagOwner(c *gin.Context) {
	access := s.view(c).TagOwners()
	if access == onemap.FieldDeny {
		writeError(c, s.log, onemap.Errorf(onemap.EFORBIDDEN, "tags' owners are not for the %s role", roleOf(c)))
		return
	}
	t, err := s.tagOf(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	masked := access == onemap.FieldMask
	o, err := s.tags.store.ReadTagOwner(c.Request.Context(), t, masked)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	if masked {
		o.Name, o.Phone, o.Plate = onemap.Mask(o.Name), onemap.Mask(o.Phone), onemap.Mask(o.Plate)
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"code": t.Code, "name": o.Name, "phone": o.Phone, "plate": o.Plate, "masked": masked})
}

// geofenceJSON is a geofence as the routes show and take it.
type geofenceJSON struct {
	ID       int64            `json:"id,omitempty"`
	Name     string           `json:"name"`
	Trigger  string           `json:"trigger"`          // enter or leave
	Window   *[2]string       `json:"window,omitempty"` // ["22:00", "06:00"], China time
	GridID   int64            `json:"grid_id,omitempty"`
	Tags     []int64          `json:"tag_ids,omitempty"`
	Codes    []string         `json:"tags,omitempty"` // taken: the tags' codes
	Severity int              `json:"severity,omitempty"`
	Geometry json.RawMessage  `json:"geometry"`
	Created  *time.Time       `json:"created_at,omitempty"`
	By       string           `json:"created_by,omitempty"`
	Area     orb.MultiPolygon `json:"-"`
}

func hhmm(m int) string {
	return strconv.Itoa(m/60/10) + strconv.Itoa(m/60%10) + ":" + strconv.Itoa(m%60/10) + strconv.Itoa(m%10)
}

func geofenceOut(f onemap.Geofence) geofenceJSON {
	g, _ := json.Marshal(geojson.NewGeometry(f.Area))
	out := geofenceJSON{ID: f.ID, Name: f.Name, Trigger: f.Trigger, GridID: f.GridID, Tags: f.TagIDs, Severity: f.Severity,
		Geometry: g, By: f.CreatedBy}
	at := f.CreatedAt
	out.Created = &at
	if f.Window != nil {
		out.Window = &[2]string{hhmm(f.Window.From), hhmm(f.Window.To)}
	}
	return out
}

// handleGeofencesList answers GET /api/geofences: the geofences the caller
// sees (every one for a role not bound to a grid).
func (s *Server) handleGeofencesList(c *gin.Context) {
	fs, err := s.tags.store.ListGeofences(c.Request.Context())
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	// A role bound to a grid sees the fences of its part of the county:
	// those of a grid in it, or of a grid it lies in.
	v := s.view(c)
	out := make([]geofenceJSON, 0, len(fs))
	for _, f := range fs {
		if v.Scoped() && v.Grid() != 0 && (f.GridID == 0 || !s.gridUnder(f.GridID, v.Grid()) && !s.gridUnder(v.Grid(), f.GridID)) {
			continue
		}
		out = append(out, geofenceOut(f))
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"geofences": out})
}

// needCommander refuses a write by any role but the commander's.
func (s *Server) needCommander(c *gin.Context) bool {
	if roleOf(c) != onemap.RoleCommander {
		writeError(c, s.log, onemap.Errorf(onemap.EFORBIDDEN, "only the commander sets geofences"))
		return false
	}
	return true
}

// handleGeofenceAdd answers POST /api/geofences (the commander): a
// geofence {"name", "trigger": "enter"|"leave", "window": ["22:00",
// "06:00"], "grid_id" and/or "tags": ["TAG-000001", …], "severity",
// "geometry": a GeoJSON Polygon or MultiPolygon, WGS-84}. It applies at
// once to the live index (each tag's inside or outside taken from where
// it is now).
func (s *Server) handleGeofenceAdd(c *gin.Context) {
	if !s.needCommander(c) {
		return
	}
	var b geofenceJSON
	if err := decodeJSON(c, &b, jsonBody{Limit: 4 << 20, Strict: true,
		Want: `{"name", "trigger", "window": ["22:00", "06:00"], "grid_id", "tags": ["TAG-000001"], "severity", "geometry"}`}); err != nil {
		writeError(c, s.log, err)
		return
	}
	if b.ID != 0 || b.Tags != nil || b.Created != nil || b.By != "" {
		writeError(c, s.log, onemap.Errorf(onemap.EINVALID, "body: id, tag_ids, created_at and created_by are the server's"))
		return
	}
	f := onemap.Geofence{Name: b.Name, Trigger: b.Trigger, GridID: b.GridID, Severity: b.Severity}
	if len(bytes.TrimSpace(b.Geometry)) > 0 {
		g, err := geojson.UnmarshalGeometry(b.Geometry)
		if err != nil {
			writeError(c, s.log, onemap.FieldErrorf("geometry", onemap.EINVALID, "geometry: not GeoJSON: %v", err))
			return
		}
		switch a := g.Geometry().(type) {
		case orb.Polygon:
			f.Area = orb.MultiPolygon{a}
		case orb.MultiPolygon:
			f.Area = a
		default:
			writeError(c, s.log, onemap.FieldErrorf("geometry", onemap.EINVALID, "geometry: a %s; want a Polygon or MultiPolygon", g.Geometry().GeoJSONType()))
			return
		}
	}
	if b.Window != nil {
		var w onemap.DayWindow
		for i, v := range b.Window {
			d, err := time.Parse("15:04", v)
			if err != nil {
				writeError(c, s.log, onemap.FieldErrorf("window", onemap.EINVALID, "window %.20q: want HH:MM, China time", v))
				return
			}
			if i == 0 {
				w.From = d.Hour()*60 + d.Minute()
			} else {
				w.To = d.Hour()*60 + d.Minute()
			}
		}
		f.Window = &w
	}
	if err := onemap.CheckGeofence(&f); err != nil && onemap.ErrorField(err) != "tags" {
		writeError(c, s.log, err)
		return
	}
	if len(b.Codes) > 0 {
		if len(b.Codes) > onemap.GeofenceMaxTags {
			writeError(c, s.log, onemap.FieldErrorf("tags", onemap.EINVALID, "at most %d tags", onemap.GeofenceMaxTags))
			return
		}
		ids, err := s.tags.store.TagCodes(c.Request.Context(), "tags", b.Codes)
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		f.TagIDs = ids
	}
	out, err := s.tags.store.AddGeofence(c.Request.Context(), f)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	s.refreshFences(c.Request.Context())
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, geofenceOut(out))
}

// handleGeofenceDelete answers DELETE /api/geofences/{id} (the commander).
func (s *Server) handleGeofenceDelete(c *gin.Context) {
	if !s.needCommander(c) {
		return
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(c, s.log, onemap.FieldErrorf("id", onemap.EINVALID, "geofence id %.40q: want a positive integer", c.Param("id")))
		return
	}
	if err := s.tags.store.DeleteGeofence(c.Request.Context(), id); err != nil {
		writeError(c, s.log, err)
		return
	}
	s.refreshFences(c.Request.Context())
	c.Status(http.StatusNoContent)
}

// refreshFences reloads the geofences into the live index.
func (s *Server) refreshFences(ctx context.Context) {
	fs, err := s.tags.store.ListGeofences(ctx)
	if err != nil {
		s.log.Error("tags: reload geofences", "error", err)
		return
	}
	s.tags.live.SetFences(fs)
}

// tagSource is the tags a caller sees as records of onemap.TagMapLayer:
// what the tile encoder reads.
type tagSource struct {
	live *inmem.LiveTags
	keep func(onemap.Tag) bool
}

// Search implements tiles.Source.
func (src tagSource) Search(layer string, b orb.Bound, fn func(*onemap.Record) bool) {
	if layer != onemap.LayerTags {
		return
	}
	var recs []*onemap.Record
	src.live.Search(b, func(t onemap.Tag, p onemap.TagPosition, has bool) bool {
		if !src.keep(t) {
			return true
		}
		var at any
		if has {
			at = p.At.UTC().Format(time.RFC3339)
		}
		r, err := onemap.NewRecord(t.ID, 1, p.Point, []any{t.Code, t.Kind, at, t.GridID})
		if err == nil {
			recs = append(recs, r)
		}
		return true
	})
	// Outside the index's lock: the encoder's work does not hold up the
	// positions coming in.
	for _, r := range recs {
		if !fn(r) {
			return
		}
	}
}

// handleTagTile answers /tiles/tags/{z}/{x}/{y}.mvt: the tags' last
// positions the caller sees (onemap.TagMapLayer), for operators and
// commanders (the public gets 401, other roles 403). Cut from the live
// index on every request and never cached: the tags move.
func (s *Server) handleTagTile(c *gin.Context, t maptile.Tile) {
	s.needTags(c)
	if c.IsAborted() {
		return
	}
	src := tagSource{live: s.tags.live, keep: s.tagSees(s.view(c))}
	mvt, err := tiles.Encode(src, t, []onemap.TileLayer{onemap.TagTileLayer()})
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	if len(mvt) == 0 {
		c.Status(http.StatusNoContent)
		return
	}
	c.Data(http.StatusOK, mvtType, mvt)
}

// ingestTags applies a batch of tag events of src: the store writes them
// (positions, the tags' own alarms, quarantine) with the geofence
// crossings the live index foretells for the positions taken and their
// alarms, in one transaction (so a crossing is neither lost with a failed
// write nor raised twice: postgis.Tags.IngestTagsFenced); then the live
// index moves the tags, and the moves and alarms go to the event streams.
func (s *Server) ingestTags(ctx context.Context, src onemap.Source, events []onemap.IngestEvent) ([]onemap.IngestResult, error) {
	if s.tags == nil {
		return nil, onemap.Errorf(onemap.EUNAVAILABLE, "tags need the database")
	}
	got, err := s.tags.store.IngestTagsFenced(ctx, src, events, s.tags.live.Crossings)
	if err != nil {
		return nil, err
	}
	moved, _ := s.tags.live.Apply(got.Positions) // the crossings are written
	s.events.publishTags(moved)
	s.events.publishAlarms(got.Alarms)
	return got.Results, nil
}

// TagFollower is implemented by the handler NewServer returns: what other
// servers write of tags, as the database notifies it (postgis.Tags
// ListenTags).
type TagFollower interface {
	// MoveTags moves the tags to positions another server took, on the
	// live layer, "where is it now" and the event streams. No geofence
	// alarm is raised here: the server that took them wrote the
	// crossings; this index's states follow.
	MoveTags(ps []onemap.TagPosition)
	// ReloadTags reads the tags, their last positions, the geofences and
	// their states again: after the geofences changed on another server,
	// or when notifications may have been lost.
	ReloadTags(ctx context.Context) error
}

// MoveTags implements TagFollower.
func (h *streamHandler) MoveTags(ps []onemap.TagPosition) {
	s := h.server
	if s.tags == nil {
		return
	}
	moved, _ := s.tags.live.Apply(ps)
	s.events.publishTags(moved)
}

// ReloadTags implements TagFollower.
func (h *streamHandler) ReloadTags(ctx context.Context) error {
	if h.server.tags == nil {
		return nil
	}
	return h.server.reloadTags(ctx)
}

// TagIngester is implemented by the handler NewServer returns:
// IngestTagJSON applies a message of tag events of src as the signed
// ingest takes them ({"events": [...]}, or one event alone), the MQTT
// subscriber's way in. It returns each event's result, in the order sent.
type TagIngester interface {
	IngestTagJSON(ctx context.Context, src onemap.Source, body []byte) ([]onemap.IngestResult, error)
}

// IngestTagJSON implements TagIngester.
func (h *streamHandler) IngestTagJSON(ctx context.Context, src onemap.Source, body []byte) ([]onemap.IngestResult, error) {
	s := h.server
	if s.tags == nil {
		return nil, onemap.Errorf(onemap.EUNAVAILABLE, "tags need the database")
	}
	var b struct {
		Events []eventBody `json:"events"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if bytes.Contains(body, []byte(`"events"`)) {
		if err := dec.Decode(&b); err != nil {
			return nil, onemap.Errorf(onemap.EINVALID, "message: want {\"events\": [...]} or one event: %v", err)
		}
	} else {
		var one eventBody
		if err := dec.Decode(&one); err != nil {
			return nil, onemap.Errorf(onemap.EINVALID, "message: want {\"events\": [...]} or one event: %v", err)
		}
		b.Events = []eventBody{one}
	}
	if len(b.Events) == 0 || len(b.Events) > onemap.IngestMaxBatch {
		return nil, onemap.FieldErrorf("events", onemap.EINVALID, "a batch of 1 to %d events is required (got %d)", onemap.IngestMaxBatch, len(b.Events))
	}
	in := make([]onemap.IngestEvent, len(b.Events))
	bad := make([]error, len(b.Events))
	for i, e := range b.Events {
		in[i], bad[i] = e.event()
	}
	ctx = onemap.NewContext(ctx, onemap.Caller{Name: src.Actor(), Role: "source", Client: "mqtt"})
	return s.ingestTagBatch(ctx, src, in, bad)
}

// ingestTagBatch checks events (kind allowed, tag-bound, well formed) and
// applies the valid ones; a kind the source may not send refuses the batch
// (EFORBIDDEN).
func (s *Server) ingestTagBatch(ctx context.Context, src onemap.Source, in []onemap.IngestEvent, bad []error) ([]onemap.IngestResult, error) {
	now := s.tags.store.Now()
	results := make([]onemap.IngestResult, len(in))
	var take []int
	var events []onemap.IngestEvent
	for i, e := range in {
		if slices.Contains(onemap.EventKinds(), e.Kind) && !src.Allows(e.Kind) {
			return nil, onemap.FieldErrorf("kind", onemap.EFORBIDDEN, "source %s may not send %s events (it sends %s)", src.Name, e.Kind, strings.Join(src.Kinds, ", "))
		}
		err := bad[i]
		if err == nil {
			err = onemap.CheckIngestEvent(&e, now)
		}
		if err == nil && !e.TagBound() {
			err = onemap.FieldErrorf("tag", onemap.EINVALID, "only tags' events are taken here")
		}
		if err != nil {
			results[i] = onemap.IngestResult{ID: e.ID, Outcome: onemap.IngestRefused, Field: onemap.ErrorField(err), Reason: onemap.ErrorMessage(err)}
			continue
		}
		events, take = append(events, e), append(take, i)
	}
	if len(events) == 0 {
		return results, nil
	}
	got, err := s.ingestTags(ctx, src, events)
	if err != nil {
		return nil, err
	}
	for j, r := range got {
		results[take[j]] = r
	}
	return results, nil
}

// publishTags hands the tags moved to every stream, which shows each to
// the roles that see it. A stream too slow to take a batch misses it (the
// tags' next positions supersede it) but stays open.
func (h *eventHub) publishTags(moved []inmem.TagMove) {
	if len(moved) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	for sub := range h.subs {
		select {
		case sub.tags <- moved:
		default:
		}
	}
}

// tagMoveJSON is a tag's new position on the event stream.
type tagMoveJSON struct {
	Code     string     `json:"code"`
	Kind     string     `json:"kind"`
	GridID   int64      `json:"grid_id,omitempty"`
	At       time.Time  `json:"at"`
	Position [2]float64 `json:"position"`
}

// tagEvents writes one "tag" event (no id: it does not move Last-Event-ID)
// with the tags of a batch the view sees: {"tags": [{code, kind, grid_id,
// at, position}]}.
func (s *Server) tagEvents(buf *bytes.Buffer, view *onemap.View, moved []inmem.TagMove) {
	sees := s.tagSees(view)
	var out []tagMoveJSON
	for _, m := range moved {
		if sees(m.Tag) {
			out = append(out, tagMoveJSON{Code: m.Tag.Code, Kind: m.Tag.Kind, GridID: m.Tag.GridID, At: m.Pos.At,
				Position: [2]float64{m.Pos.Point[0], m.Pos.Point[1]}})
		}
	}
	if len(out) == 0 {
		return
	}
	data, err := json.Marshal(map[string]any{"tags": out})
	if err != nil {
		s.log.Error("event: encode tags", "error", err)
		return
	}
	buf.WriteString("event: tag\ndata: ")
	buf.Write(data)
	buf.WriteString("\n\n")
}
