package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// eventsPath is the route of the live event stream. The request timeout and
// the gzip wrapper leave it alone: it streams for as long as the client
// stays.
const eventsPath = "/api/events"

// Limits of the live event stream.
const (
	eventBuffer    = 64               // batches of changes waiting for one client before it is dropped
	eventRecent    = 4096             // changes kept for clients that resume (Last-Event-ID)
	eventHeartbeat = 15 * time.Second // a comment on a quiet stream, so proxies keep it open
	eventWrite     = 30 * time.Second // longest one write to a client may take
	eventRetry     = 2000             // ms a browser waits before it reconnects
	// eventMaxAge ends a stream after a while: the browser reconnects at
	// once and resumes (spreading streams over servers again).
	eventMaxAge = 5 * time.Minute
	// eventSessionPoll is how often a stream under a session asks whether
	// its session still holds. The answer comes from the session cache
	// until its entry is sessionCacheTTL old (on the server's clock), then
	// from the database: a sign-out, role change or disabled account
	// elsewhere ends the stream within sessionCacheTTL and this; a sign-out
	// on this server ends it at once.
	eventSessionPoll = time.Second
	// eventSessionCheck bounds one such question to the database.
	eventSessionCheck = 5 * time.Second
)

// StreamCloser is implemented by the handler NewServer returns: CloseStreams
// ends every open event stream, so that a graceful shutdown does not wait on
// them (http.Server.RegisterOnShutdown). A client reconnects elsewhere and
// resumes where it was.
type StreamCloser interface {
	CloseStreams()
}

// eventHub fans the batches of changes the replica applies out to the open
// event streams. Each stream has a bounded buffer; a stream that falls that
// far behind is dropped (its client reconnects and resumes), so a slow
// client never holds up the server. The hub keeps the latest changes for
// streams that resume after a reconnect.
type eventHub struct {
	mu     sync.Mutex
	subs   map[*eventSub]struct{}
	recent []onemap.Change // changes above base, in sequence order
	base   int64           // sequence number up to which the hub has no changes
	closed bool
	// shown is the version of each alarm the hub has handed out, so that
	// an alarm published here and then again by the database's
	// notification (AlarmPublisher) is shown once.
	shown map[int64]int
}

// AlarmPublisher is implemented by the handler NewServer returns:
// PublishAlarms shows alarms written on any server (postgis.Live's
// ListenAlarms) on this server's event streams. An alarm at a version
// shown already is not shown again.
type AlarmPublisher interface {
	PublishAlarms(alarms []*onemap.Alarm)
}

// PublishAlarms implements AlarmPublisher.
func (h *streamHandler) PublishAlarms(alarms []*onemap.Alarm) { h.hub.publishAlarms(alarms) }

// eventSub is one open stream.
type eventSub struct {
	ch chan []onemap.Change // closed when the stream is dropped or the hub closes
	// alarms carries the alarms raised or changed on this server (alarms
	// are not in the change feed); closed with ch.
	alarms chan []*onemap.Alarm
	// tags carries the tags moved on this server (tags.go); a batch a
	// stream is too slow to take is skipped for it, not the stream dropped
	// (the next position supersedes it). Closed with ch.
	tags chan []inmem.TagMove
}

// drop closes a stream's channels; the hub's lock is held.
func (h *eventHub) drop(sub *eventSub) {
	delete(h.subs, sub)
	close(sub.ch)
	close(sub.alarms)
	close(sub.tags)
}

// publishAlarms hands alarms raised or changed to every stream, which
// shows each to the roles shown alarms. A stream too slow to take them is
// dropped, as for changes.
func (h *eventHub) publishAlarms(alarms []*onemap.Alarm) {
	if len(alarms) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	var fresh []*onemap.Alarm
	for _, a := range alarms {
		if h.shown[a.ID] < a.Version {
			fresh = append(fresh, a)
		}
	}
	if len(fresh) == 0 {
		return
	}
	if len(h.shown) >= 100000 {
		clear(h.shown) // bounded; at worst an alarm is shown twice
	}
	for _, a := range fresh {
		h.shown[a.ID] = a.Version
	}
	for sub := range h.subs {
		select {
		case sub.alarms <- fresh:
		default:
			h.drop(sub)
		}
	}
}

// newEventHub returns a hub whose history starts after sequence number
// base (the replica's when the server starts).
func newEventHub(base int64) *eventHub {
	return &eventHub{subs: map[*eventSub]struct{}{}, base: base, shown: map[int64]int{}}
}

// publish hands a batch of applied changes to every stream.
func (h *eventHub) publish(changes []onemap.Change) {
	if len(changes) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.recent = append(h.recent, changes...)
	if n := len(h.recent) - eventRecent; n > 0 {
		h.base = h.recent[n-1].Seq
		h.recent = append([]onemap.Change(nil), h.recent[n:]...)
	}
	for sub := range h.subs {
		select {
		case sub.ch <- changes:
		default: // too slow: drop it rather than wait
			h.drop(sub)
		}
	}
}

// subscribe opens a stream that resumes after sequence number after (0:
// from now on). It returns the changes to replay first, whether they are
// complete (false when the hub no longer holds every change since after, so
// the client must reload what it shows), and the sequence number the hub
// has reached. It returns a nil sub once the hub is closed.
func (h *eventHub) subscribe(after int64) (sub *eventSub, replay []onemap.Change, complete bool, head int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, nil, false, 0
	}
	sub = &eventSub{ch: make(chan []onemap.Change, eventBuffer), alarms: make(chan []*onemap.Alarm, eventBuffer),
		tags: make(chan []inmem.TagMove, eventBuffer)}
	h.subs[sub] = struct{}{}
	head = h.base
	if n := len(h.recent); n > 0 {
		head = h.recent[n-1].Seq
	}
	if after <= 0 {
		return sub, nil, true, head
	}
	for i, c := range h.recent {
		if c.Seq > after {
			replay = append([]onemap.Change(nil), h.recent[i:]...)
			break
		}
	}
	return sub, replay, after >= h.base, head
}

// unsubscribe closes a stream, if the hub has not dropped it already.
func (h *eventHub) unsubscribe(sub *eventSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[sub]; ok {
		h.drop(sub)
	}
}

// close ends every stream and refuses new ones.
func (h *eventHub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for sub := range h.subs {
		h.drop(sub)
	}
}

// changeEventJSON is the data of one "change" event.
type changeEventJSON struct {
	Seq        int64          `json:"seq"`
	Layer      string         `json:"layer"`
	ID         int64          `json:"id"`
	Op         string         `json:"op"`
	Version    int            `json:"version,omitempty"`
	Bbox       []float64      `json:"bbox,omitempty"`     // where the feature is (for a delete: where it was)
	OldBbox    []float64      `json:"old_bbox,omitempty"` // where it was, when that differs
	Properties map[string]any `json:"properties"`         // as the role may see them; null for a delete
}

func bboxJSON(b *orb.Bound) []float64 {
	if b == nil {
		return nil
	}
	return []float64{b.Min.Lon(), b.Min.Lat(), b.Max.Lon(), b.Max.Lat()}
}

// changeEvent returns the event the view gets for a change, or false when
// it gets none: a layer it may not read, or a feature its rule hides.
func (s *Server) changeEvent(v *onemap.View, c onemap.Change) (changeEventJSON, bool) {
	l, err := s.catalog.Layer(c.Layer)
	if err != nil || !v.CanRead(l.ID) {
		return changeEventJSON{}, false
	}
	e := changeEventJSON{Seq: c.Seq, Layer: l.ID, ID: c.ID, Op: c.Op}
	if c.Record != nil {
		f := s.recordFeature(v, &l, c.Record)
		if !visible(v.Rule(l.ID), f) {
			return changeEventJSON{}, false
		}
		e.Version, e.Properties = f.Version, f.Properties
	}
	switch {
	case c.NewBound != nil:
		e.Bbox = bboxJSON(c.NewBound)
		if c.OldBound != nil && !c.OldBound.Equal(*c.NewBound) {
			e.OldBbox = bboxJSON(c.OldBound)
		}
	case c.OldBound != nil:
		e.Bbox = bboxJSON(c.OldBound)
	}
	return e, true
}

// addEventRoutes adds the live event stream.
func (s *Server) addEventRoutes(r *gin.Engine) {
	r.GET(eventsPath, s.handleEvents)
}

// handleEvents answers /api/events with Server-Sent Events: a "change"
// event for every insert, update or delete of a feature the caller may see,
// its id the change's sequence number, its data the layer, id, op, version,
// bbox (and old_bbox when the feature moved) and the properties projected
// for the caller's role as every other output projects them; a case
// reported or stepped is a change of layer "cases" for the callers who see
// it (caseEvent). A layer the
// role may not read sends nothing; a viewer gets only the changes of its
// part of the county. A client that reconnects with
// Last-Event-ID (or ?after=) gets what it missed; when that is no longer
// known it gets a "reset" event and should reload what it shows. A comment
// every 15 s keeps a quiet stream open and carries the sequence number the
// stream has reached. An "alarm" event (no id: it does not move
// Last-Event-ID) carries each alarm raised or changed on this server, as
// GET /api/alarms/{id} shows it, to the roles shown alarms (a client that
// reconnects reloads GET /api/alarms). A stream under a session ends when the session does
// (sign-out, role change, disabled account: see eventSessionPoll), and any
// stream after eventMaxAge; the browser reconnects and resumes under the
// role the caller has then.
func (s *Server) handleEvents(c *gin.Context) {
	q := c.Request.URL.Query()
	for k := range q {
		if k != "after" {
			writeError(c, s.log, onemap.Errorf(onemap.EINVALID, "unknown query parameter %q (want after)", k))
			return
		}
	}
	resume := c.GetHeader("Last-Event-ID")
	if resume == "" {
		resume = q.Get("after")
	}
	var after int64
	if resume != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(resume), 10, 64)
		if err != nil || n < 0 {
			writeError(c, s.log, onemap.Errorf(onemap.EINVALID, "Last-Event-ID/after %q is not a sequence number", resume))
			return
		}
		after = n
	}
	caller, view := callerOf(c), s.view(c)
	// A viewer gets the changes of its part of the county only: a feature
	// there now, or (a delete) there before the batch.
	var scope *inmem.Snapshot
	if view.Scoped() {
		scope = s.snapshotOf(view.Grid())
	}
	sub, replay, complete, head := s.events.subscribe(after)
	if sub == nil {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAVAILABLE, "the server is shutting down"))
		return
	}
	if !complete {
		replay, complete = s.resumeFromFeed(c.Request.Context(), after, head, replay) // eventresume.go
	}
	defer s.events.unsubscribe(sub)
	// A stream under a session lives as long as the session holds, for the
	// same account, role and grid.
	var ended <-chan struct{}
	var recheck <-chan time.Time
	token, signedIn := c.Get(sessionKey)
	if signedIn {
		var stop func()
		ended, stop = s.sessions.watch(token.(string), caller.Name)
		defer stop()
		poll := time.NewTicker(eventSessionPoll)
		defer poll.Stop()
		recheck = poll.C
	}
	sessionHolds := func() bool {
		// Bounded: the stream has no request timeout, and a database that
		// does not answer must not hold its heartbeats up for long.
		ctx, cancel := context.WithTimeout(c.Request.Context(), eventSessionCheck)
		defer cancel()
		got, err := s.lookupSession(ctx, token.(string))
		switch onemap.ErrorCode(err) {
		case "":
			a := got.Account
			return a.Name == caller.Name && a.Role == caller.Role && a.GridID == caller.GridID
		case onemap.EUNAUTHORIZED:
			return false
		}
		return true // the database is away: the session is not known to have ended
	}

	w := c.Writer
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)

	last := after // the sequence number the stream has reached
	var buf bytes.Buffer
	send := func() bool {
		if buf.Len() == 0 {
			return true
		}
		// Each write gets its own deadline: the server's WriteTimeout
		// would otherwise end the stream, and a stuck client would hold
		// this goroutine for good.
		_ = rc.SetWriteDeadline(time.Now().Add(eventWrite))
		_, err := w.Write(buf.Bytes())
		buf.Reset()
		if err == nil {
			err = rc.Flush()
		}
		return err == nil
	}
	batch := func(changes []onemap.Change) {
		before := scope
		if scope != nil {
			scope = s.snapshotOf(view.Grid())
		}
		for _, ch := range changes {
			if ch.Seq <= last {
				continue
			}
			last = ch.Seq
			if ch.Layer == onemap.LayerCases {
				if e, ok := s.caseEvent(view, ch); ok {
					writeEvent(&buf, ch.Seq, e, s)
				}
				continue
			}
			if scope != nil {
				in := scope
				if ch.Record == nil {
					in = before
				}
				if _, ok := in.Get(ch.Layer, ch.ID); !ok {
					continue
				}
			}
			e, ok := s.changeEvent(view, ch)
			if !ok {
				continue
			}
			writeEvent(&buf, ch.Seq, e, s)
		}
	}

	buf.WriteString("retry: " + strconv.Itoa(eventRetry) + "\n\n")
	if after == 0 && head > 0 {
		// A new stream starts from now: its client resumes from here if
		// the connection drops before the first change.
		last = head
		buf.WriteString("id: " + strconv.FormatInt(head, 10) + "\n\n")
	}
	if !complete {
		buf.WriteString("event: reset\ndata: {}\n\n")
	}
	batch(replay)
	if !send() {
		return
	}
	beat := time.NewTicker(eventHeartbeat)
	defer beat.Stop()
	expire := time.NewTimer(eventMaxAge)
	defer expire.Stop()
	for {
		select {
		case <-c.Request.Context().Done():
			return
		case <-expire.C:
			return // the client reconnects with Last-Event-ID
		case <-ended:
			return // signed out on this server
		case <-recheck:
			if !sessionHolds() {
				return
			}
			continue
		case changes, ok := <-sub.ch:
			if !ok {
				return // dropped, or the server is shutting down: the client reconnects
			}
			batch(changes)
		case alarms, ok := <-sub.alarms:
			if !ok {
				return
			}
			s.alarmEvents(&buf, view, alarms)
		case moved, ok := <-sub.tags:
			if !ok {
				return
			}
			s.tagEvents(&buf, view, moved)
		case <-beat.C:
			// An id with no data moves the client's Last-Event-ID on
			// without an event, past changes it was not shown.
			buf.WriteString(": heartbeat\n")
			if last > 0 {
				buf.WriteString("id: " + strconv.FormatInt(last, 10) + "\n")
			}
			buf.WriteString("\n")
		}
		if !send() {
			return
		}
	}
}

// writeEvent appends a "change" event to buf.
func writeEvent(buf *bytes.Buffer, seq int64, e changeEventJSON, s *Server) {
	data, err := json.Marshal(e)
	if err != nil {
		s.log.Error("event: encode", "error", err)
		return
	}
	buf.WriteString("id: " + strconv.FormatInt(seq, 10) + "\nevent: change\ndata: ")
	buf.Write(data)
	buf.WriteString("\n\n")
}

// streamHandler is what NewServer returns: the event stream goes past the
// gzip wrapper (which would hold its events back), and so do vector tiles
// (gzipped already: the wrapper would only copy them), everything else
// through it.
type streamHandler struct {
	server     *Server
	compressed http.Handler
	plain      http.Handler
	hub        *eventHub
}

func (h *streamHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == eventsPath || isTilePath(r.URL.Path) {
		h.plain.ServeHTTP(w, r)
		return
	}
	h.compressed.ServeHTTP(w, r)
}

// CloseStreams ends every open event stream.
func (h *streamHandler) CloseStreams() { h.hub.close() }

// alarmEvents writes an "alarm" event for each alarm the view is shown.
func (s *Server) alarmEvents(buf *bytes.Buffer, view *onemap.View, alarms []*onemap.Alarm) {
	for _, a := range alarms {
		if !s.alarmVisible(view, a) {
			continue
		}
		data, err := json.Marshal(alarmOut(view, a))
		if err != nil {
			s.log.Error("event: encode alarm", "error", err)
			continue
		}
		buf.WriteString("event: alarm\ndata: ")
		buf.Write(data)
		buf.WriteString("\n\n")
	}
}
