package api

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/crs"
	"github.com/paulmach/orb"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// ingestStore is what the machine routes under /api/ingest/ ask of the
// database (postgis.Live), and the clock of the replay window.
type ingestStore interface {
	Now() time.Time
	FindSource(ctx context.Context, name string) (onemap.Source, []byte, error)
	UseSignature(ctx context.Context, sourceID int64, sig []byte) (bool, error)
	Ingest(ctx context.Context, src onemap.Source, events []onemap.IngestEvent) ([]onemap.IngestResult, []*onemap.Alarm, error)
	ListQuarantine(ctx context.Context, before int64, limit int) ([]onemap.QuarantinedEvent, error)
}

// ingestBodyLimit bounds an ingest request's body: a batch of
// onemap.IngestMaxBatch events of some 1 KiB each.
const ingestBodyLimit = 1 << 20

// sourceKey is where signed keeps the source of a signed request.
const sourceKey = "onemap.source"

// addIngestRoutes lists the machine routes, each behind the signature
// check, and the admin's view of the quarantine.
func (s *Server) addIngestRoutes(r *gin.Engine) {
	g := r.Group("/api/ingest")
	g.POST("/events", s.signed, s.handleIngestEvents)
	g.POST("/gb28181", s.signed, s.handleIngestGB28181)
	g.GET("/quarantine", s.handleQuarantine)
}

// signed admits a request signed by a live source that may still send
// (onemap.CanonicalRequest): 401 for an unsigned request, an unknown
// source, a timestamp outside the window, a wrong signature or one used
// before; 403 for a revoked source. The body is read here (at most
// ingestBodyLimit) and handed on.
func (s *Server) signed(c *gin.Context) {
	if s.ingest == nil {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAVAILABLE, "ingest needs the database"))
		return
	}
	name, ts, sig := c.GetHeader(onemap.HeaderSource), c.GetHeader(onemap.HeaderTimestamp), c.GetHeader(onemap.HeaderSignature)
	if name == "" || ts == "" || sig == "" {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAUTHORIZED, "unsigned request: send %s, %s and %s (see the README's Live sources)",
			onemap.HeaderSource, onemap.HeaderTimestamp, onemap.HeaderSignature))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, ingestBodyLimit))
	if err != nil {
		var me *http.MaxBytesError
		if errors.As(err, &me) {
			writeError(c, s.log, &onemap.Error{Code: errTooLarge, Message: fmt.Sprintf("body: more than %d bytes; send smaller batches", me.Limit)})
			return
		}
		writeError(c, s.log, onemap.Errorf(onemap.EINVALID, "body: %v", err))
		return
	}
	ctx := c.Request.Context()
	if _, err := onemap.CheckTimestamp(ts, s.ingest.Now()); err != nil {
		writeError(c, s.log, err)
		return
	}
	src, verifier, err := s.ingest.FindSource(ctx, name)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	canonical := onemap.CanonicalRequest(name, c.Request.Method, c.Request.URL.RequestURI(), ts, body)
	if !onemap.CheckSignature(verifier, canonical, sig) {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAUTHORIZED, "wrong signature: sign the canonical request with the source's signing key"))
		return
	}
	if src.Revoked() {
		writeError(c, s.log, onemap.Errorf(onemap.EFORBIDDEN, "source %s was revoked on %s", src.Name, src.RevokedAt.Format(time.RFC3339)))
		return
	}
	raw, _ := hex.DecodeString(sig) // checked above
	fresh, err := s.ingest.UseSignature(ctx, src.ID, raw)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	if !fresh {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAUTHORIZED, "this signature was used already (a replay): sign every request afresh"))
		return
	}
	c.Set(sourceKey, src)
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	c.Request = c.Request.WithContext(onemap.NewContext(ctx, onemap.Caller{Name: src.Actor(), Role: "source", Client: clientOf(c)}))
}

// eventBody is one event of a batch as a source sends it.
type eventBody struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Device      string `json:"device"`
	At          string `json:"at"`
	Severity    int    `json:"severity"`
	Description string `json:"description"`
	Watchlist   string `json:"watchlist"`
	Snapshot    string `json:"snapshot"`
	Status      string `json:"status"`
	// A tag's event (tag_position, a tag's tag_alarm): its code and where
	// it was, WGS-84 unless crs names another geographic system (CGCS2000,
	// GCJ-02, BD-09).
	Tag string   `json:"tag"`
	Lon *float64 `json:"lon"`
	Lat *float64 `json:"lat"`
	CRS string   `json:"crs"`
}

// event returns the event as the store takes it (not yet checked:
// onemap.CheckIngestEvent), or a refusal of its time or place naming the
// field.
func (in eventBody) event() (onemap.IngestEvent, error) {
	e := onemap.IngestEvent{ID: in.ID, Kind: in.Kind, Device: strings.TrimSpace(in.Device), Severity: in.Severity,
		Description: strings.TrimSpace(in.Description), Watchlist: strings.TrimSpace(in.Watchlist), Snapshot: strings.TrimSpace(in.Snapshot),
		Status: in.Status, Tag: strings.TrimSpace(in.Tag)}
	var err error
	if in.At == "" {
		return e, onemap.FieldErrorf("at", onemap.EINVALID, "the event's time (at) is required")
	} else if e.At, err = time.Parse(time.RFC3339, in.At); err != nil {
		return e, onemap.FieldErrorf("at", onemap.EINVALID, "at %.40q: want an RFC 3339 time (2026-12-06T10:00:00+08:00)", in.At)
	}
	switch {
	case in.Lon == nil && in.Lat == nil:
		if in.CRS != "" {
			return e, onemap.FieldErrorf("crs", onemap.EINVALID, "crs without lon and lat")
		}
	case in.Lon == nil || in.Lat == nil:
		return e, onemap.FieldErrorf(map[bool]string{true: "lon", false: "lat"}[in.Lon == nil], onemap.EINVALID, "a position needs both lon and lat")
	default:
		e.Point, e.HasPoint = orb.Point{*in.Lon, *in.Lat}, true
		if in.CRS != "" {
			c, err := crs.Parse(in.CRS)
			if err != nil || !c.Geographic() {
				return e, onemap.FieldErrorf("crs", onemap.EINVALID, "crs %.40q: want a geographic system (EPSG:4326, CGCS2000, GCJ-02, BD-09)", in.CRS)
			}
			if e.Point, err = c.PointToWGS84(e.Point); err != nil {
				return e, onemap.FieldErrorf("lon", onemap.EINVALID, "lon, lat: %v", err)
			}
		}
	}
	return e, nil
}

// ingestResultJSON is what became of one event.
type ingestResultJSON struct {
	ID           string `json:"id"`
	Result       string `json:"result"` // taken, duplicate, quarantined or refused
	AlarmID      int64  `json:"alarm_id,omitempty"`
	Count        int    `json:"count,omitempty"` // the alarm's count after the event
	CameraID     int64  `json:"camera_id,omitempty"`
	QuarantineID int64  `json:"quarantine_id,omitempty"`
	Field        string `json:"field,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

// handleIngestEvents answers POST /api/ingest/events: a batch of events
// ({"events": [...]}, README: Live sources), each taken, a duplicate of
// one taken before, quarantined (an unknown device) or refused (with the
// field and why). An event of a kind the source may not send, or about a
// camera outside its region, refuses the whole batch (403) and nothing is
// written.
func (s *Server) handleIngestEvents(c *gin.Context) {
	src := c.MustGet(sourceKey).(onemap.Source)
	var b struct {
		Events []eventBody `json:"events"`
	}
	if err := decodeJSON(c, &b, jsonBody{Limit: ingestBodyLimit, Strict: true,
		Want: `{"events": [{"id", "kind", "device", "tag", "at", "lon", "lat", "crs", "severity", "description", "watchlist", "snapshot", "status"}]}`}); err != nil {
		writeError(c, s.log, err)
		return
	}
	if len(b.Events) == 0 || len(b.Events) > onemap.IngestMaxBatch {
		writeError(c, s.log, onemap.FieldErrorf("events", onemap.EINVALID, "a batch of 1 to %d events is required (got %d)", onemap.IngestMaxBatch, len(b.Events)))
		return
	}
	now := s.ingest.Now()
	events := make([]onemap.IngestEvent, 0, len(b.Events))
	results := make([]ingestResultJSON, len(b.Events))
	var take []int // the index in the batch of each event taken to the store
	for i, in := range b.Events {
		e, err := in.event()
		if slices.Contains(onemap.EventKinds(), e.Kind) && !src.Allows(e.Kind) {
			writeError(c, s.log, onemap.FieldErrorf("kind", onemap.EFORBIDDEN, "event %d (%.40q): source %s may not send %s events (it sends %s): nothing of the batch was taken",
				i+1, in.ID, src.Name, e.Kind, strings.Join(src.Kinds, ", ")))
			return
		}
		if err == nil {
			err = onemap.CheckIngestEvent(&e, now)
		}
		if err != nil {
			results[i] = ingestResultJSON{ID: in.ID, Result: onemap.IngestRefused, Field: onemap.ErrorField(err), Reason: onemap.ErrorMessage(err)}
			continue
		}
		events = append(events, e)
		take = append(take, i)
	}
	tagged := 0
	for _, e := range events {
		if e.TagBound() {
			tagged++
		}
	}
	switch {
	case tagged > 0 && tagged < len(events):
		writeError(c, s.log, onemap.FieldErrorf("events", onemap.EINVALID, "a batch holds tags' events or cameras' events, not both: send them apart (nothing of the batch was taken)"))
		return
	case tagged > 0:
		got, err := s.ingestTags(c.Request.Context(), src, events)
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		for j, r := range got {
			results[take[j]] = resultOut(r)
		}
	case len(events) > 0:
		got, alarms, err := s.ingest.Ingest(c.Request.Context(), src, events)
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		for j, r := range got {
			results[take[j]] = resultOut(r)
		}
		s.events.publishAlarms(alarms)
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"source": src.Name, "results": results})
}

func resultOut(r onemap.IngestResult) ingestResultJSON {
	return ingestResultJSON{ID: r.ID, Result: r.Outcome, AlarmID: r.AlarmID, Count: r.Count, CameraID: r.CameraID,
		QuarantineID: r.QuarantineID, Field: r.Field, Reason: r.Reason}
}

// handleIngestGB28181 answers POST /api/ingest/gb28181: one GB/T 28181
// alarm notification (<Notify><CmdType>Alarm</CmdType>…), as a SIP
// gateway forwards the MESSAGE's body over HTTP, in UTF-8 or, where the
// Content-Type's charset or the XML declaration says so, GB2312, GBK or
// GB18030. It is mapped to an event (parseGB28181Alarm) and answered as a
// batch of one.
func (s *Server) handleIngestGB28181(c *gin.Context) {
	src := c.MustGet(sourceKey).(onemap.Source)
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		writeError(c, s.log, onemap.Errorf(onemap.EINVALID, "body: %v", err))
		return
	}
	charset := ""
	if ct := c.GetHeader("Content-Type"); ct != "" {
		if _, params, err := mime.ParseMediaType(ct); err == nil {
			charset = params["charset"]
		}
	}
	e, err := parseGB28181Alarm(body, charset, s.ingest.Now())
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	if !src.Allows(e.Kind) {
		writeError(c, s.log, onemap.FieldErrorf("kind", onemap.EFORBIDDEN, "source %s may not send %s events (it sends %s)", src.Name, e.Kind, strings.Join(src.Kinds, ", ")))
		return
	}
	got, alarms, err := s.ingest.Ingest(c.Request.Context(), src, []onemap.IngestEvent{e})
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	s.events.publishAlarms(alarms)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"source": src.Name, "kind": e.Kind, "results": []ingestResultJSON{resultOut(got[0])}})
}

// chinaTime is the zone of GB/T 28181's times, which carry none: China
// Standard Time, UTC+8 (fixed: China keeps no daylight saving time).
var chinaTime = time.FixedZone("CST", 8*3600)

// gbCharset returns a reader of r in UTF-8 for a Chinese national charset
// name, or nil for UTF-8 itself; an unknown name is an error.
func gbCharset(name string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "utf-8", "utf8":
		return r, nil
	case "gb2312", "gbk", "gb18030", "cp936", "euc-cn":
		// GB18030 is a superset of GBK, itself a superset of GB2312.
		return simplifiedchinese.GB18030.NewDecoder().Reader(r), nil
	}
	return nil, onemap.Errorf(onemap.EINVALID, "charset %.40q: want UTF-8, GB2312, GBK or GB18030", name)
}

// parseGB28181Alarm reads an alarm notification of GB/T 28181 (2016,
// Annex A: Notify, CmdType Alarm; testdata/gb28181 has samples and their
// origins) into an event. Element names are matched in any case (devices
// send <cmdType> as well as <CmdType>). The event's id is the device code,
// SN and AlarmTime: a gateway's retry of one notification is the same
// event. The kind comes from AlarmMethod and Info/AlarmType (gbKind); the
// severity is AlarmPriority (1 to 4). Positions in the body are ignored:
// the camera's own place is the alarm's.
func parseGB28181Alarm(body []byte, charset string, now time.Time) (onemap.IngestEvent, error) {
	var r io.Reader = bytes.NewReader(body)
	declared := true // the XML declaration's encoding decides
	if charset != "" {
		var err error
		if r, err = gbCharset(charset, r); err != nil {
			return onemap.IngestEvent{}, err
		}
		declared = false // decoded already: the declaration no longer applies
	}
	dec := xml.NewDecoder(r)
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		if !declared {
			return in, nil
		}
		return gbCharset(label, in)
	}
	fields := map[string]string{}
	var path []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return onemap.IngestEvent{}, onemap.Errorf(onemap.EINVALID, "body: not a GB/T 28181 XML notification: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path = append(path, strings.ToLower(t.Name.Local))
			if len(path) > 8 || len(fields) > 64 {
				return onemap.IngestEvent{}, onemap.Errorf(onemap.EINVALID, "body: the notification is nested too deep or too long")
			}
		case xml.EndElement:
			path = path[:len(path)-1]
		case xml.CharData:
			if len(path) > 0 {
				k := strings.Join(path, "/")
				fields[k] += string(t)
			}
		}
	}
	get := func(name string) string { return strings.TrimSpace(fields["notify/"+name]) }
	if _, ok := fields["notify/cmdtype"]; !ok {
		return onemap.IngestEvent{}, onemap.FieldErrorf("CmdType", onemap.EINVALID, "body: want <Notify><CmdType>Alarm</CmdType>…</Notify>")
	}
	if ct := get("cmdtype"); !strings.EqualFold(ct, "Alarm") {
		return onemap.IngestEvent{}, onemap.FieldErrorf("CmdType", onemap.EINVALID, "CmdType %.40q: only Alarm notifications are taken here", ct)
	}
	sn, device, when := get("sn"), get("deviceid"), get("alarmtime")
	if _, err := strconv.ParseUint(sn, 10, 32); err != nil {
		return onemap.IngestEvent{}, onemap.FieldErrorf("SN", onemap.EINVALID, "SN %.40q: want the sender's sequence number", sn)
	}
	if !onemap.ValidDeviceCode(device) {
		return onemap.IngestEvent{}, onemap.FieldErrorf("DeviceID", onemap.EINVALID, "DeviceID %.40q: want a 20-digit GB/T 28181 device code", device)
	}
	at, err := time.ParseInLocation("2006-01-02T15:04:05", when, chinaTime)
	if err != nil {
		// Some senders add fractions of a second or a zone.
		if at, err = time.Parse(time.RFC3339Nano, when); err != nil {
			if at, err = time.ParseInLocation("2006-01-02T15:04:05.999999999", when, chinaTime); err != nil {
				return onemap.IngestEvent{}, onemap.FieldErrorf("AlarmTime", onemap.EINVALID, "AlarmTime %.40q: want 2026-12-06T10:00:00", when)
			}
		}
	}
	severity := 4
	if p := get("alarmpriority"); p != "" {
		if severity, err = strconv.Atoi(p); err != nil || severity < 1 || severity > 4 {
			return onemap.IngestEvent{}, onemap.FieldErrorf("AlarmPriority", onemap.EINVALID, "AlarmPriority %.40q: want 1 (一级警情) to 4", p)
		}
	}
	method, typ := get("alarmmethod"), get("info/alarmtype")
	if typ == "" {
		typ = get("alarmtype") // some senders leave out <Info>
	}
	e := onemap.IngestEvent{ID: device + "/" + sn + "/" + at.UTC().Format(time.RFC3339), Kind: gbKind(method, typ), Device: device,
		At: at, Severity: severity, Description: get("alarmdescription")}
	if n := []rune(e.Description); len(n) > onemap.IngestMaxDescription {
		e.Description = string(n[:onemap.IngestMaxDescription])
	}
	if err := onemap.CheckIngestEvent(&e, now); err != nil {
		return e, err
	}
	return e, nil
}

// gbKind maps GB/T 28181-2016's AlarmMethod (1 电话, 2 设备, 3 短信, 4 GPS,
// 5 视频, 6 设备故障, 7 其他) and, for device and video alarms, AlarmType to
// an alarm kind.
func gbKind(method, typ string) string {
	switch method {
	case "2": // 设备报警: 1 视频丢失, 2 设备防拆, 3 存储设备磁盘满, 4 设备高温, 5 设备低温
		switch typ {
		case "1":
			return onemap.EventVideoLoss
		case "2":
			return onemap.EventTamper
		case "3", "4", "5":
			return onemap.EventDeviceFault
		}
	case "5": // 视频报警: 5 绊线, 6 入侵, 9 流量统计, 10 密度, 11 视频异常, …
		switch typ {
		case "5", "6":
			return onemap.EventIntrusion
		case "9", "10":
			return onemap.EventCrowd
		case "11":
			return onemap.EventTamper
		}
	case "6": // 设备故障报警: 1 磁盘故障, 2 风扇故障
		return onemap.EventDeviceFault
	}
	return onemap.EventOtherAlarm
}

// quarantineJSON is an event kept for an unknown device.
type quarantineJSON struct {
	ID         int64     `json:"id"`
	Source     string    `json:"source"`
	EventID    string    `json:"event_id"`
	Kind       string    `json:"kind"`
	Device     string    `json:"device"`
	At         time.Time `json:"at"`
	ReceivedAt time.Time `json:"received_at"`
	Reason     string    `json:"reason"`
}

// handleQuarantine answers GET /api/ingest/quarantine: the events kept
// for devices no camera has, newest first (before, limit), for an admin,
// who adds the camera or tells the source's owner.
func (s *Server) handleQuarantine(c *gin.Context) {
	if err := require(c, onemap.RoleAdmin); err != nil {
		writeError(c, s.log, err)
		return
	}
	if s.ingest == nil {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAVAILABLE, "ingest needs the database"))
		return
	}
	q := c.Request.URL.Query()
	if err := checkQuery(q, "before", "limit"); err != nil {
		writeError(c, s.log, err)
		return
	}
	before, limit := int64(0), 100
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			writeError(c, s.log, onemap.FieldErrorf("before", onemap.EINVALID, "before %.40q: want a positive integer", v))
			return
		}
		before = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			writeError(c, s.log, onemap.FieldErrorf("limit", onemap.EINVALID, "limit %.40q: want 1 to 500", v))
			return
		}
		limit = n
	}
	list, err := s.ingest.ListQuarantine(c.Request.Context(), before, limit)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	out := make([]quarantineJSON, 0, len(list))
	for _, e := range list {
		out = append(out, quarantineJSON{ID: e.ID, Source: e.Source, EventID: e.EventID, Kind: e.Kind, Device: e.Device,
			At: e.At, ReceivedAt: e.ReceivedAt, Reason: e.Reason})
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"events": out})
}
