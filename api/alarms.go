package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
)

// alarmStore is what the alarm routes ask of the database (postgis.Live).
type alarmStore interface {
	FindAlarm(ctx context.Context, id int64) (*onemap.Alarm, error)
	ListAlarms(ctx context.Context, f onemap.AlarmFilter) ([]*onemap.Alarm, error)
	StepAlarm(ctx context.Context, id int64, step, reason string) (*onemap.Alarm, error)
	CaseFromAlarm(ctx context.Context, id int64, create func(ctx context.Context, a *onemap.Alarm) (*onemap.Case, error)) (*onemap.Alarm, *onemap.Case, error)
}

// alarmBodyLimit bounds a step's body.
const alarmBodyLimit = 8 << 10

// addAlarmRoutes lists the alarm routes: the list, one alarm, and its
// steps.
func (s *Server) addAlarmRoutes(r *gin.Engine) {
	g := r.Group("/api/alarms", s.needAlarms)
	g.GET("", s.handleAlarmsList)
	g.GET("/:id", s.handleAlarmGet)
	g.POST("/:id/ack", s.handleAlarmStep(onemap.AlarmAck))
	g.POST("/:id/dismiss", s.handleAlarmStep(onemap.AlarmDismiss))
	g.POST("/:id/case", s.handleAlarmCase)
}

// needAlarms refuses a caller whose role is not shown alarms (401 for the
// anonymous, 403 for an account), and answers 503 without a store.
func (s *Server) needAlarms(c *gin.Context) {
	if !s.view(c).SeesAlarms() {
		caller := callerOf(c)
		if caller.Name == "" {
			writeError(c, s.log, onemap.Errorf(onemap.EUNAUTHORIZED, "sign in first"))
		} else {
			writeError(c, s.log, onemap.Errorf(onemap.EFORBIDDEN, "alarms are not for the %s role", caller.Role))
		}
		return
	}
	if s.alarms == nil {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAVAILABLE, "alarms need the database"))
	}
}

// alarmJSON is an alarm as the command centre sees it. The snapshot's
// reference on the video platform is not given out: HasSnapshot says there
// is one.
type alarmJSON struct {
	ID            int64              `json:"id"`
	Kind          string             `json:"kind"`
	KindName      string             `json:"kind_name"`
	Severity      int                `json:"severity"`
	CameraID      int64              `json:"camera_id"`
	CameraName    string             `json:"camera_name"`
	DeviceCode    string             `json:"device_code,omitempty"` // only to the roles that read the cameras layer
	GridID        int64              `json:"grid_id,omitempty"`
	Position      [2]float64         `json:"position"` // WGS-84 [lon, lat]: the camera's
	Source        string             `json:"source"`
	Status        onemap.AlarmStatus `json:"status"`
	Count         int                `json:"count"`
	EventAt       time.Time          `json:"event_at"`
	FirstAt       time.Time          `json:"first_at"`
	LastAt        time.Time          `json:"last_at"`
	Description   string             `json:"description,omitempty"`
	Watchlist     string             `json:"watchlist,omitempty"`
	HasSnapshot   bool               `json:"has_snapshot"`
	AckedBy       string             `json:"acked_by,omitempty"`
	AckedAt       *time.Time         `json:"acked_at,omitempty"`
	DismissedBy   string             `json:"dismissed_by,omitempty"`
	DismissedAt   *time.Time         `json:"dismissed_at,omitempty"`
	DismissReason string             `json:"dismiss_reason,omitempty"`
	CaseID        int64              `json:"case_id,omitempty"`
	Version       int                `json:"version"`
	UpdatedAt     time.Time          `json:"updated_at"`
	// A tag's alarm (camera_id 0): the tag's code, and the geofence that
	// raised it, if one did.
	Tag        string `json:"tag,omitempty"`
	GeofenceID int64  `json:"geofence_id,omitempty"`
}

// seesDeviceCodes reports whether view v is shown cameras' device codes:
// the one rule, wherever a device code appears (a camera feature, an
// alarm, the text of a case made from an alarm), is the policy's for the
// cameras layer's device_code field.
func seesDeviceCodes(v *onemap.View) bool {
	return v.Field(onemap.LayerCameras, "device_code") != onemap.FieldDeny
}

// alarmOut is alarm a as view v is shown it: the camera's device code only
// to a role shown device codes (seesDeviceCodes).
func alarmOut(v *onemap.View, a *onemap.Alarm) alarmJSON {
	out := alarmJSON{ID: a.ID, Kind: a.Kind, KindName: onemap.AlarmKindName(a.Kind), Severity: a.Severity, CameraID: a.CameraID,
		CameraName: a.CameraName, DeviceCode: a.DeviceCode, GridID: a.GridID, Position: [2]float64{a.Point[0], a.Point[1]},
		Source: a.Source, Status: a.Status, Count: a.Count, EventAt: a.EventAt, FirstAt: a.FirstAt, LastAt: a.LastAt,
		Description: a.Description, Watchlist: a.Watchlist, HasSnapshot: a.Snapshot != "", AckedBy: a.AckedBy,
		AckedAt: timeOrNil(a.AckedAt), DismissedBy: a.DismissedBy, DismissedAt: timeOrNil(a.DismissedAt),
		DismissReason: a.DismissReason, CaseID: a.CaseID, Version: a.Version, UpdatedAt: a.UpdatedAt, Tag: a.Tag, GeofenceID: a.GeofenceID}
	if !seesDeviceCodes(v) {
		out.DeviceCode = ""
	}
	return out
}

// alarmVisible reports whether the view is shown alarm a: a role shown
// alarms, and for a role bound to a grid, an alarm of a camera there.
func (s *Server) alarmVisible(v *onemap.View, a *onemap.Alarm) bool {
	if !v.SeesAlarms() {
		return false
	}
	return !v.Scoped() || v.Grid() == 0 || s.gridUnder(a.GridID, v.Grid())
}

// handleAlarmsList answers GET /api/alarms: the alarms, newest first,
// filtered by status (comma-separated), kind and camera, a page at a time
// (before: the last id of the page before; limit).
func (s *Server) handleAlarmsList(c *gin.Context) {
	q := c.Request.URL.Query()
	if err := checkQuery(q, "status", "kind", "camera", "before", "limit"); err != nil {
		writeError(c, s.log, err)
		return
	}
	f := onemap.AlarmFilter{Limit: onemap.AlarmListDefault}
	if v := q.Get("status"); v != "" {
		for _, p := range strings.Split(v, ",") {
			st := onemap.AlarmStatus(strings.TrimSpace(p))
			ok := false
			for _, known := range onemap.AlarmStatuses() {
				ok = ok || st == known
			}
			if !ok {
				writeError(c, s.log, onemap.FieldErrorf("status", onemap.EINVALID, "status %.40q: want new, acknowledged, dismissed or cased", p))
				return
			}
			f.Statuses = append(f.Statuses, st)
		}
	}
	if v := q.Get("kind"); v != "" {
		if !onemap.IsAlarmKind(v) {
			writeError(c, s.log, onemap.FieldErrorf("kind", onemap.EINVALID, "kind %.40q: want one of %s", v, strings.Join(onemap.AlarmKinds(), ", ")))
			return
		}
		f.Kind = v
	}
	for _, p := range []struct {
		name string
		to   *int64
	}{{"camera", &f.CameraID}, {"before", &f.Before}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				writeError(c, s.log, onemap.FieldErrorf(p.name, onemap.EINVALID, "%s %.40q: want a positive integer", p.name, v))
				return
			}
			*p.to = n
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > onemap.AlarmListMax {
			writeError(c, s.log, onemap.FieldErrorf("limit", onemap.EINVALID, "limit %.40q: want 1 to %d", v, onemap.AlarmListMax))
			return
		}
		f.Limit = n
	}
	list, err := s.alarms.ListAlarms(c.Request.Context(), f)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	view := s.view(c)
	out := make([]alarmJSON, 0, len(list))
	var shown []*onemap.Alarm
	for _, a := range list {
		if s.alarmVisible(view, a) {
			out = append(out, alarmOut(view, a))
			shown = append(shown, a)
		}
	}
	s.auditFaceReads(c, shown)
	var next *int64
	if n := len(list); n > 0 && n == f.Limit {
		next = &list[n-1].ID
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"alarms": out, "next_before": next})
}

// alarmParam returns the alarm the route's :id names, if the caller is
// shown it (not found otherwise, as if it did not exist).
func (s *Server) alarmParam(c *gin.Context) (*onemap.Alarm, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, onemap.FieldErrorf("id", onemap.EINVALID, "alarm id %.40q: want a positive integer", c.Param("id"))
	}
	a, err := s.alarms.FindAlarm(c.Request.Context(), id)
	if err != nil {
		return nil, err
	}
	if !s.alarmVisible(s.view(c), a) {
		return nil, onemap.Errorf(onemap.ENOTFOUND, "no alarm %d", id)
	}
	return a, nil
}

// handleAlarmGet answers GET /api/alarms/{id}.
func (s *Server) handleAlarmGet(c *gin.Context) {
	a, err := s.alarmParam(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	s.auditFaceReads(c, []*onemap.Alarm{a})
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, alarmOut(s.view(c), a))
}

// auditFaceReads records an answer that shows face-recognition alarms in
// the audit trail, with their ids: who saw which watch-list hits.
func (s *Server) auditFaceReads(c *gin.Context, alarms []*onemap.Alarm) {
	var ids []int64
	for _, a := range alarms {
		if a.Kind == onemap.EventFace {
			ids = append(ids, a.ID)
		}
	}
	if len(ids) > 0 {
		s.audit(c, onemap.AuditAlarmRead, "alarms", map[string]any{"kind": onemap.EventFace, "ids": ids})
	}
}

// handleAlarmStep answers POST /api/alarms/{id}/ack and …/dismiss (with
// {"reason": "…"}): 400 with field "action" for a step the alarm's status
// does not allow, "reason" for a dismissal without one.
func (s *Server) handleAlarmStep(step string) gin.HandlerFunc {
	return func(c *gin.Context) {
		var b struct {
			Reason string `json:"reason"`
		}
		if err := decodeJSON(c, &b, jsonBody{Limit: alarmBodyLimit, Optional: step == onemap.AlarmAck, Strict: true, Want: `{"reason": "…"}`}); err != nil {
			writeError(c, s.log, err)
			return
		}
		a, err := s.alarmParam(c)
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		if err := onemap.CheckAlarmStep(a, step, b.Reason); err != nil {
			writeError(c, s.log, err)
			return
		}
		next, err := s.alarms.StepAlarm(c.Request.Context(), a.ID, step, b.Reason)
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		s.events.publishAlarms([]*onemap.Alarm{next})
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusOK, alarmOut(s.view(c), next))
	}
}

// handleAlarmCase answers POST /api/alarms/{id}/case ({"category", and
// optionally "description"}): the alarm becomes a case of source machine
// at the camera's place, filed as the caller (201 with the alarm and the
// case's id and tracking code). The caller's role must enter cases.
func (s *Server) handleAlarmCase(c *gin.Context) {
	if s.cases == nil {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAVAILABLE, "cases need the database"))
		return
	}
	if s.view(c).CaseRule().Report == "" {
		writeError(c, s.log, onemap.Errorf(onemap.EFORBIDDEN, "the %s role does not enter cases", callerOf(c).Role))
		return
	}
	var b struct {
		Category    string `json:"category"`
		Description string `json:"description"`
	}
	if err := decodeJSON(c, &b, jsonBody{Limit: alarmBodyLimit, Strict: true, Want: `{"category", "description"}`}); err != nil {
		writeError(c, s.log, err)
		return
	}
	if strings.TrimSpace(b.Category) == "" {
		writeError(c, s.log, onemap.FieldErrorf("category", onemap.EINVALID, "category: the case's category is required"))
		return
	}
	a, err := s.alarmParam(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	if err := onemap.CheckAlarmStep(a, onemap.AlarmCase, ""); err != nil {
		writeError(c, s.log, err)
		return
	}
	next, k, err := s.alarms.CaseFromAlarm(c.Request.Context(), a.ID, func(ctx context.Context, cur *onemap.Alarm) (*onemap.Case, error) {
		desc := strings.TrimSpace(b.Description)
		if desc == "" {
			desc = fmt.Sprintf("%s：%s（%s），%d 次", onemap.AlarmKindName(cur.Kind), cur.CameraName, cur.DeviceCode, cur.Count)
			if !seesDeviceCodes(s.view(c)) {
				desc = fmt.Sprintf("%s：%s，%d 次", onemap.AlarmKindName(cur.Kind), cur.CameraName, cur.Count)
			}
		}
		desc = fmt.Sprintf("%s〔预警 %d〕", desc, cur.ID)
		r := onemap.CaseReport{Source: onemap.SourceMachine, Category: strings.TrimSpace(b.Category), Description: desc, Point: cur.Point}
		if err := onemap.CheckCaseReport(r); err != nil {
			return nil, err
		}
		return s.cases.CreateCase(ctx, r)
	})
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	s.events.publishAlarms([]*onemap.Alarm{next})
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, gin.H{"alarm": alarmOut(s.view(c), next), "case": gin.H{"id": k.ID, "tracking_code": onemap.FormatTrackingCode(k.TrackingCode),
		"source": k.Source, "status": k.Status}})
}
