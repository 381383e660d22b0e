package onemap

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"
)

// An alarm (预警) is what a camera's alarm events raise: one alarm per
// storm, that is, the events of one kind at one camera that arrive within
// StormWindow of the last of them while the alarm is open, counted. The
// command centre's staff acknowledge it, dismiss it with a reason, or turn
// it into a case (source machine):
//
//	from                 step                to
//	new                  ack                 acknowledged
//	new, acknowledged    dismiss (reason)    dismissed
//	new, acknowledged    case (category)     cased
//
// A face-recognition alarm keeps what the video platform sends and nothing
// more: the watch-list's category and a reference to a snapshot there. No
// image, face template or identity is stored (see IngestEvent).

// AlarmStatus is where an alarm stands.
type AlarmStatus string

// Alarm statuses.
const (
	AlarmNew          AlarmStatus = "new"
	AlarmAcknowledged AlarmStatus = "acknowledged"
	AlarmDismissed    AlarmStatus = "dismissed"
	AlarmCased        AlarmStatus = "cased"
)

// Open reports whether more events may join the alarm and a step is due.
func (s AlarmStatus) Open() bool { return s == AlarmNew || s == AlarmAcknowledged }

// AlarmStatuses returns every status.
func AlarmStatuses() []AlarmStatus {
	return []AlarmStatus{AlarmNew, AlarmAcknowledged, AlarmDismissed, AlarmCased}
}

// DefaultStormWindow groups the events of one camera and kind that come
// within five minutes of the last into one alarm.
const DefaultStormWindow = 5 * time.Minute

// Alarm is one alarm. Its point is the camera's, WGS-84.
type Alarm struct {
	ID         int64
	Kind       string // AlarmKinds
	Severity   int    // 1 (most severe) to 4
	CameraID   int64
	CameraName string
	DeviceCode string
	GridID     int64 // the camera's grid (0: none)
	Point      orb.Point
	Source     string // the source's name
	Status     AlarmStatus
	Count      int       // events grouped into it
	EventAt    time.Time // the first event's own time
	FirstAt    time.Time // received, on the server's clock
	LastAt     time.Time
	// Description, Watchlist and Snapshot are the first event's (a later
	// event of the storm fills them only where they are empty).
	Description   string
	Watchlist     string
	Snapshot      string
	AckedBy       string
	AckedAt       time.Time
	DismissedBy   string
	DismissedAt   time.Time
	DismissReason string
	CaseID        int64
	Version       int
	UpdatedAt     time.Time
	// TagID and Tag are a tag's alarm's (CameraID is 0 then): the tag's own
	// alarm or, with GeofenceID, a geofence's (tag.go).
	TagID      int64
	Tag        string
	GeofenceID int64
}

// Alarm steps.
const (
	AlarmAck     = "ack"
	AlarmDismiss = "dismiss"
	AlarmCase    = "case"
)

// AlarmMaxReason bounds a dismissal's reason, in characters.
const AlarmMaxReason = 500

// CheckAlarmStep refuses a step the alarm's status does not allow, or a
// dismissal without a reason (EINVALID naming the field).
func CheckAlarmStep(a *Alarm, step, reason string) error {
	switch step {
	case AlarmAck:
		if a.Status != AlarmNew {
			return FieldErrorf("action", EINVALID, "alarm %d is %s: only a new alarm is acknowledged", a.ID, a.Status)
		}
	case AlarmDismiss:
		if !a.Status.Open() {
			return FieldErrorf("action", EINVALID, "alarm %d is %s already", a.ID, a.Status)
		}
		if n := utf8.RuneCountInString(reason); strings.TrimSpace(reason) == "" || n > AlarmMaxReason {
			return FieldErrorf("reason", EINVALID, "a reason of 1 to %d characters is required to dismiss an alarm", AlarmMaxReason)
		}
	case AlarmCase:
		if !a.Status.Open() {
			return FieldErrorf("action", EINVALID, "alarm %d is %s already", a.ID, a.Status)
		}
	default:
		return FieldErrorf("action", EINVALID, "unknown alarm step %.40q (want ack, dismiss or case)", step)
	}
	return nil
}

// AlarmKindName is the Chinese name of an alarm kind, for a case's
// description.
func AlarmKindName(kind string) string {
	return map[string]string{
		EventFace: "人脸布控预警", EventCrowd: "人群聚集预警", EventIntrusion: "区域入侵预警", EventSmokeFire: "烟火预警",
		EventTagAlarm: "电子标签报警", EventVideoLoss: "视频丢失报警", EventTamper: "视频遮挡/防拆报警",
		EventDeviceFault: "设备故障报警", EventOtherAlarm: "其他报警",
	}[kind]
}

// AlarmFilter selects alarms for a list, newest first.
type AlarmFilter struct {
	Statuses []AlarmStatus // any of these; none: every status
	Kind     string        // "" for every kind
	CameraID int64         // 0 for every camera
	Before   int64         // ids below it: the next page (keyset)
	Limit    int           // 0 means AlarmListDefault; at most AlarmListMax
}

// Alarm list sizes.
const (
	AlarmListDefault = 50
	AlarmListMax     = 500
)

// SeesAlarms reports whether the view's role is shown alarms and works
// them (acknowledges, dismisses, turns into cases): the commander every
// alarm, and operators (综治中心 staff) the alarms of the cameras in their
// grid and below (see SeesCameraImages).
func (v *View) SeesAlarms() bool { return v.CanRead(LayerCameras) || v.Role() == RoleOperator }

// SeesCameraImages reports whether the view's role may see what cameras
// see: an alarm's snapshot, fetched through the server, and a camera's
// live picture. The policy's rule of the cameras layer says so
// (LayerRule.Images); every view is audited.
func (v *View) SeesCameraImages() bool {
	r := v.Rule(LayerCameras)
	return r.Access >= LayerRead && r.Images
}

// Audit actions of alarms: each step, with the alarm.
const (
	AuditAlarmAck     = "alarm.ack"
	AuditAlarmDismiss = "alarm.dismiss"
	AuditAlarmCase    = "alarm.case"
	// AuditAlarmRead records each answer that shows face-recognition
	// alarms (their watch-list category), with their ids.
	AuditAlarmRead = "alarm.read"
	// AuditAlarmSnapshot records each view of an alarm's snapshot.
	AuditAlarmSnapshot = "alarm.snapshot"
	// AuditAlarmPrune records each removal of alarms, ingest events and
	// snapshot references past their retention, with the counts.
	AuditAlarmPrune = "alarm.prune"
	// AuditCameraLive records each opening of a camera's live picture.
	AuditCameraLive = "camera.live"
)
