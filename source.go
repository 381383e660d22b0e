package onemap

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"
)

// A live source is a system that sends events to OneMap by machine (the
// video platform, the IoT platform), over /api/ingest/. An admin makes it
// with `onemap source add`, which prints its key once; the database keeps
// only the key's verifier (SigningKey), never the key. A source is scoped:
// it sends only its event kinds, and only about cameras in its region (a
// grid and the grids below it). Every request it makes is signed (see
// CanonicalRequest) and audited; a revoked source is refused.

// Source is one integrating system.
type Source struct {
	ID         int64
	Name       string   // ^[a-z][a-z0-9_-]{1,63}$: named in X-OneMap-Source
	Kinds      []string // the event kinds it may send (EventKinds)
	Region     string   // the code of the grid its cameras lie in (12 or 15 digits)
	CreatedAt  time.Time
	CreatedBy  string
	RevokedAt  time.Time // zero while it may send
	LastUsedAt time.Time // zero until its first accepted request
}

// Revoked reports whether the source may no longer send.
func (s Source) Revoked() bool { return !s.RevokedAt.IsZero() }

// Allows reports whether the source may send events of kind.
func (s Source) Allows(kind string) bool { return slices.Contains(s.Kinds, kind) }

// Actor names the source in history and the audit trail.
func (s Source) Actor() string { return "source:" + s.Name }

// Headers of a signed ingest request.
const (
	HeaderSource    = "X-OneMap-Source"    // the source's name
	HeaderTimestamp = "X-OneMap-Timestamp" // Unix seconds when it was signed
	HeaderSignature = "X-OneMap-Signature" // lowercase hex of HMAC-SHA256(SigningKey(key), CanonicalRequest(…))
)

// SignatureWindow is how far a request's timestamp may lie from the
// server's clock, either way; a signature is refused a second time within
// it (and after it, by its timestamp).
const SignatureWindow = 5 * time.Minute

// sourceKeyPrefix starts every source key, so that a key found in a log
// or a repository is recognised for what it is.
const sourceKeyPrefix = "omk_"

// NewSourceKey returns a fresh key (256 random bits, base64url after the
// prefix "omk_") and its verifier, which is what the database keeps.
func NewSourceKey() (key string, verifier []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on the systems Go supports
	}
	key = sourceKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return key, SigningKey(key)
}

// SigningKey derives the key that signs requests from a source's key:
// HMAC-SHA256 keyed with the source key over "onemap ingest v1". The
// source key cannot be had back from it. Both sides sign with it.
func SigningKey(key string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte("onemap ingest v1"))
	return m.Sum(nil)
}

// CanonicalRequest is the text a request's signature covers, lines joined
// by "\n" with no newline at the end:
//
//	ONEMAP-HMAC-SHA256
//	<source name>
//	<method, upper case>
//	<path as sent, with the query if any: /api/ingest/events>
//	<timestamp: Unix seconds, as in X-OneMap-Timestamp>
//	<lowercase hex SHA-256 of the body (of the empty string if none)>
func CanonicalRequest(source, method, path, timestamp string, body []byte) string {
	sum := sha256.Sum256(body)
	return strings.Join([]string{"ONEMAP-HMAC-SHA256", source, strings.ToUpper(method), path, timestamp,
		hex.EncodeToString(sum[:])}, "\n")
}

// Sign returns the signature of a canonical request: lowercase hex.
func Sign(signingKey []byte, canonical string) string {
	m := hmac.New(sha256.New, signingKey)
	m.Write([]byte(canonical))
	return hex.EncodeToString(m.Sum(nil))
}

// CheckSignature reports whether sig (hex, either case) is the signature
// of canonical, in constant time.
func CheckSignature(signingKey []byte, canonical, sig string) bool {
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, signingKey)
	m.Write([]byte(canonical))
	return hmac.Equal(got, m.Sum(nil))
}

// CheckTimestamp reads a request's timestamp and refuses one outside the
// window around now (EUNAUTHORIZED).
func CheckTimestamp(ts string, now time.Time) (time.Time, error) {
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(ts) > 12 {
		return time.Time{}, Errorf(EUNAUTHORIZED, "%s %.20q: want Unix seconds", HeaderTimestamp, ts)
	}
	at := time.Unix(n, 0)
	if d := now.Sub(at); d > SignatureWindow || d < -SignatureWindow {
		return time.Time{}, Errorf(EUNAUTHORIZED, "%s is %s from the server's clock, more than the %s allowed: sign again with the time now",
			HeaderTimestamp, d.Round(time.Second), SignatureWindow)
	}
	return at, nil
}

var sourceNameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,63}$`)

// CheckSource refuses a source that is not well formed: its name, kinds
// and region (a grid code; that the grid exists is the store's to check).
func CheckSource(s Source) error {
	if !sourceNameRE.MatchString(s.Name) {
		return FieldErrorf("name", EINVALID, "source name %.70q: want 2 to 64 of a-z, 0-9, _ and -, starting with a letter", s.Name)
	}
	if len(s.Kinds) == 0 {
		return FieldErrorf("kinds", EINVALID, "a source needs at least one event kind (want some of %s)", strings.Join(EventKinds(), ", "))
	}
	for _, k := range s.Kinds {
		if !slices.Contains(EventKinds(), k) {
			return FieldErrorf("kinds", EINVALID, "unknown event kind %.40q (want some of %s)", k, strings.Join(EventKinds(), ", "))
		}
	}
	if l := len(s.Region); (l != 12 && l != 15) || strings.Trim(s.Region, "0123456789") != "" {
		return FieldErrorf("region", EINVALID, "region %.40q: want a grid code of 12 or 15 digits (532329000000 for the county)", s.Region)
	}
	return nil
}

// Event kinds a source sends. The alarm kinds raise alarms (AlarmKinds);
// status and heartbeat tell a camera's state.
const (
	EventFace        = "face"         // 人脸布控: a face-recognition watch-list hit
	EventCrowd       = "crowd"        // 人群聚集: crowd gathering
	EventIntrusion   = "intrusion"    // 区域入侵: intrusion into an area
	EventSmokeFire   = "smoke_fire"   // 烟火: smoke or fire
	EventTagAlarm    = "tag_alarm"    // 电子标签报警: an anti-theft tag's alarm, at the camera or reader that saw it
	EventVideoLoss   = "video_loss"   // 视频丢失
	EventTamper      = "tamper"       // 遮挡、防拆: the camera covered or opened
	EventDeviceFault = "device_fault" // 设备故障
	EventOtherAlarm  = "other_alarm"  // 其他报警
	EventStatus      = "status"       // the camera is online, offline or at fault
	EventHeartbeat   = "heartbeat"    // the camera is alive (online)
)

// AlarmKinds returns the event kinds that raise alarms.
func AlarmKinds() []string {
	return []string{EventFace, EventCrowd, EventIntrusion, EventSmokeFire, EventTagAlarm, EventVideoLoss, EventTamper,
		EventDeviceFault, EventOtherAlarm}
}

// EventKinds returns every event kind.
func EventKinds() []string {
	return append(AlarmKinds(), EventStatus, EventHeartbeat, EventTagPosition)
}

// TagBound reports whether the event is about a tag rather than a camera:
// a position, or a tag's own alarm naming the tag (tag.go).
func (e *IngestEvent) TagBound() bool {
	return e.Kind == EventTagPosition || e.Kind == EventTagAlarm && e.Tag != ""
}

// IsAlarmKind reports whether events of kind raise alarms.
func IsAlarmKind(kind string) bool { return slices.Contains(AlarmKinds(), kind) }

// CameraSilence is how long a camera that sends heartbeats may stay
// silent before it is marked offline; CameraSilenceCheck is how often the
// server looks.
const (
	CameraSilence      = 10 * time.Minute
	CameraSilenceCheck = time.Minute
)

// Camera statuses, as the cameras layer keeps them.
const (
	CameraOnline  = "online"
	CameraOffline = "offline"
	CameraFault   = "fault"
)

// IngestEvent is one event as a source sends it, normalised. It holds only
// what the platform sends of an alarm: for a face-recognition hit, the
// watch-list's category and a reference to a snapshot on the platform;
// never an image, a face template or a person's identity.
type IngestEvent struct {
	ID          string    // the source's own id of the event: a retry sends it again
	Kind        string    // EventKinds
	Device      string    // the camera's 20-digit GB/T 28181 device code
	At          time.Time // when it happened, on the source's clock
	Severity    int       // alarms: 1 (most severe) to 4, as GB/T 28181's AlarmPriority
	Description string
	Watchlist   string // face: the watch-list's category (在逃人员, 重点关注人员, …)
	Snapshot    string // a reference to a snapshot on the video platform
	Status      string // status: online, offline or fault
	// Tag and Point are a tag-bound event's (TagBound): the tag's code and,
	// for a position (and optionally a tag's alarm), where it was, WGS-84.
	Tag      string
	Point    orb.Point
	HasPoint bool
}

// Limits of an ingest event's fields, in characters, and of a batch.
const (
	IngestMaxID          = 128
	IngestMaxDescription = 500
	IngestMaxWatchlist   = 100
	IngestMaxSnapshot    = 512
	IngestMaxBatch       = 1000
)

var deviceCodeRE = regexp.MustCompile(`^[1-8][0-9]{19}$`)

// ValidDeviceCode reports whether s has the form of a GB/T 28181 device
// code: 20 digits, the first the province's (1 to 8).
func ValidDeviceCode(s string) bool { return deviceCodeRE.MatchString(s) }

// DefaultSeverity is an alarm kind's severity when the source gives none.
func DefaultSeverity(kind string) int {
	switch kind {
	case EventSmokeFire:
		return 1
	case EventFace, EventIntrusion, EventTagAlarm:
		return 2
	case EventCrowd, EventTamper:
		return 3
	}
	return 4
}

// CheckIngestEvent refuses an event missing what its kind needs, or with
// a field of the wrong form (EINVALID naming the field). It fills a
// missing severity with the kind's default. now bounds how far in the
// future the event's time may be (a source's clock a little ahead is
// taken).
func CheckIngestEvent(e *IngestEvent, now time.Time) error {
	if e.ID == "" || utf8.RuneCountInString(e.ID) > IngestMaxID || !utf8.ValidString(e.ID) {
		return FieldErrorf("id", EINVALID, "an event id of 1 to %d characters is required", IngestMaxID)
	}
	if !slices.Contains(EventKinds(), e.Kind) {
		return FieldErrorf("kind", EINVALID, "unknown event kind %.40q (want one of %s)", e.Kind, strings.Join(EventKinds(), ", "))
	}
	if e.TagBound() {
		if !ValidTagCode(e.Tag) {
			return FieldErrorf("tag", EINVALID, "tag %.40q: want a tag's code (TAG-000001)", e.Tag)
		}
		if e.Device != "" {
			return FieldErrorf("device", EINVALID, "a tag's event names its tag, not a device")
		}
		if e.Kind == EventTagPosition && !e.HasPoint {
			return FieldErrorf("lon", EINVALID, "a tag's position needs lon and lat")
		}
		if e.HasPoint && (e.Point[0] < -180 || e.Point[0] > 180 || e.Point[1] < -90 || e.Point[1] > 90) {
			return FieldErrorf("lon", EINVALID, "lon %g, lat %g: want WGS-84 degrees", e.Point[0], e.Point[1])
		}
	} else if e.Tag != "" || e.HasPoint {
		return FieldErrorf("tag", EINVALID, "only a tag's event has a tag and a position")
	} else if !ValidDeviceCode(e.Device) {
		return FieldErrorf("device", EINVALID, "device %.40q: want a 20-digit GB/T 28181 device code", e.Device)
	}
	if e.At.IsZero() {
		return FieldErrorf("at", EINVALID, "the event's time (at) is required")
	}
	if e.At.After(now.Add(SignatureWindow)) {
		return FieldErrorf("at", EINVALID, "the event's time %s is in the future", e.At.Format(time.RFC3339))
	}
	if IsAlarmKind(e.Kind) {
		if e.Severity == 0 {
			e.Severity = DefaultSeverity(e.Kind)
		}
		if e.Severity < 1 || e.Severity > 4 {
			return FieldErrorf("severity", EINVALID, "severity %d: want 1 (most severe) to 4", e.Severity)
		}
	} else if e.Severity != 0 {
		return FieldErrorf("severity", EINVALID, "a %s event has no severity", e.Kind)
	}
	switch e.Kind {
	case EventStatus:
		if e.Status != CameraOnline && e.Status != CameraOffline && e.Status != CameraFault {
			return FieldErrorf("status", EINVALID, "status %.40q: want online, offline or fault", e.Status)
		}
	default:
		if e.Status != "" {
			return FieldErrorf("status", EINVALID, "only a status event has a status")
		}
	}
	if e.Kind != EventFace && e.Watchlist != "" {
		return FieldErrorf("watchlist", EINVALID, "only a face event has a watch-list category")
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"description", e.Description, IngestMaxDescription}, {"watchlist", e.Watchlist, IngestMaxWatchlist}, {"snapshot", e.Snapshot, IngestMaxSnapshot}} {
		if !utf8.ValidString(f.v) || utf8.RuneCountInString(f.v) > f.max {
			return FieldErrorf(f.name, EINVALID, "%s: at most %d characters of UTF-8", f.name, f.max)
		}
	}
	if !IsAlarmKind(e.Kind) && (e.Snapshot != "" || e.Description != "") {
		return FieldErrorf("snapshot", EINVALID, "a %s event has no snapshot or description", e.Kind)
	}
	return nil
}

// Outcomes of an ingest event.
const (
	IngestTaken       = "taken"       // applied now
	IngestDuplicate   = "duplicate"   // applied before (a retry): not again
	IngestQuarantined = "quarantined" // no camera has its device code: kept in quarantine
	IngestRefused     = "refused"     // not applied: Field and Reason say why
)

// IngestResult is what became of one event of a batch.
type IngestResult struct {
	ID           string
	Outcome      string
	AlarmID      int64 // the alarm it raised or joined (0: none)
	Count        int   // the alarm's count after it
	CameraID     int64
	QuarantineID int64
	Field        string // refused: the field at fault
	Reason       string // refused, quarantined: why
}

// QuarantinedEvent is an event kept for a device the county does not know.
type QuarantinedEvent struct {
	ID         int64
	Source     string
	EventID    string
	Kind       string
	Device     string
	At         time.Time // the event's time
	ReceivedAt time.Time
	Reason     string
}

// Audit actions of live sources.
const (
	AuditSourceAdd    = "source.add"
	AuditSourceRevoke = "source.revoke"
	AuditSourceList   = "source.list"
	AuditIngest       = "ingest" // one accepted batch of a source, with its counts
)
