package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
)

// cameraStreams is what the video hand-off asks of the database
// (postgis.Live): a camera with its link to the video platform.
type cameraStreams interface {
	FindCameraStream(ctx context.Context, id int64) (onemap.CameraStream, error)
}

// VideoConfig says where the video platform is: where alarms' snapshots
// are fetched from, and how a camera's live picture is handed out.
type VideoConfig struct {
	// SnapshotBaseURL is where the server fetches an alarm's snapshot by
	// its reference (onemap.SnapshotURL); empty: snapshots answer 404.
	SnapshotBaseURL string
	// LiveBaseURL and LiveSecret sign a camera's live address on the
	// platform (onemap.SignLiveURL), valid for LiveTTL (0:
	// onemap.DefaultLiveTTL). Without them the relay address kept in
	// camera_streams is handed out, if it holds no credential.
	LiveBaseURL string
	LiveSecret  string
	LiveTTL     time.Duration
	// Client fetches snapshots (nil: a client with a 10 s timeout).
	Client *http.Client
	// Now is the clock of live addresses' expiry (nil: time.Now).
	Now func() time.Time
}

// snapshotMaxBytes bounds a snapshot fetched from the platform.
const snapshotMaxBytes = 5 << 20

// addVideoRoutes lists the routes that hand a caller over to what cameras
// see: an alarm's snapshot, and a camera's live picture.
func (s *Server) addVideoRoutes(r *gin.Engine) {
	r.GET("/api/alarms/:id/snapshot", s.needAlarms, s.handleAlarmSnapshot)
	r.POST("/api/cameras/:id/live", s.handleCameraLive)
}

// needCameraImages refuses a caller whose role may not see what cameras
// see (401 for the anonymous, 403 for an account).
func (s *Server) needCameraImages(c *gin.Context) error {
	if s.view(c).SeesCameraImages() {
		return nil
	}
	caller := callerOf(c)
	if caller.Name == "" {
		return onemap.Errorf(onemap.EUNAUTHORIZED, "sign in first")
	}
	return onemap.Errorf(onemap.EFORBIDDEN, "camera images are not for the %s role", caller.Role)
}

// handleAlarmSnapshot answers GET /api/alarms/{id}/snapshot: the image the
// video platform keeps for the alarm, fetched by the server through its
// reference (which the caller never sees), for the roles that may see
// camera images; each view is audited (alarm.snapshot). 404 when the
// alarm has no snapshot (or its reference was removed by retention) or no
// snapshot source is configured; 503 when the platform does not answer
// with an image.
func (s *Server) handleAlarmSnapshot(c *gin.Context) {
	if err := s.needCameraImages(c); err != nil {
		writeError(c, s.log, err)
		return
	}
	a, err := s.alarmParam(c)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	if a.Snapshot == "" {
		writeError(c, s.log, onemap.Errorf(onemap.ENOTFOUND, "alarm %d has no snapshot (none was sent, or it is past its retention)", a.ID))
		return
	}
	base := s.cfg.Video.SnapshotBaseURL
	if base == "" {
		writeError(c, s.log, onemap.Errorf(onemap.ENOTFOUND, "no snapshot source is configured (--snapshot-base-url)"))
		return
	}
	req, err := http.NewRequestWithContext(c.Request.Context(), "GET", onemap.SnapshotURL(base, a.Snapshot), nil)
	if err != nil {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAVAILABLE, "the snapshot's address: %v", err))
		return
	}
	client := s.cfg.Video.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAVAILABLE, "the video platform did not answer for the snapshot"))
		return
	}
	defer resp.Body.Close()
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode == http.StatusNotFound {
		writeError(c, s.log, onemap.Errorf(onemap.ENOTFOUND, "the video platform no longer has alarm %d's snapshot", a.ID))
		return
	}
	if resp.StatusCode != http.StatusOK || (ct != "image/jpeg" && ct != "image/png" && ct != "image/webp") {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAVAILABLE, "the video platform answered %d %s for the snapshot, not an image", resp.StatusCode, ct))
		return
	}
	img, err := io.ReadAll(io.LimitReader(resp.Body, snapshotMaxBytes+1))
	if err != nil || len(img) > snapshotMaxBytes {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAVAILABLE, "the snapshot could not be read whole (at most %d bytes)", snapshotMaxBytes))
		return
	}
	s.audit(c, onemap.AuditAlarmSnapshot, "alarms/"+strconv.FormatInt(a.ID, 10), map[string]any{"kind": a.Kind, "camera_id": a.CameraID, "bytes": len(img)})
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Disposition", "inline")
	c.Data(http.StatusOK, ct, img)
}

// liveJSON is a camera's live picture as handed out.
type liveJSON struct {
	CameraID  int64      `json:"camera_id"`
	Name      string     `json:"name"`
	Kind      string     `json:"kind"` // signed (an address on the platform, valid until expires_at) or relay
	URL       string     `json:"url"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	Platform  string     `json:"platform,omitempty"`
	Channel   string     `json:"channel,omitempty"`
}

// handleCameraLive answers POST /api/cameras/{id}/live: the address of the
// camera's live picture, for the roles that may see camera images — a
// short-lived signed address on the video platform where a secret is
// configured, or else the relay address camera_streams keeps (404 if
// there is none, or if it carries a credential, which never leaves the
// server). Each opening is audited (camera.live).
func (s *Server) handleCameraLive(c *gin.Context) {
	if err := s.needCameraImages(c); err != nil {
		writeError(c, s.log, err)
		return
	}
	if s.streams == nil {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAVAILABLE, "live video needs the database"))
		return
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(c, s.log, onemap.FieldErrorf("id", onemap.EINVALID, "camera id %.40q: want a positive integer", c.Param("id")))
		return
	}
	cam, err := s.streams.FindCameraStream(c.Request.Context(), id)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	v := s.cfg.Video
	out := liveJSON{CameraID: cam.CameraID, Name: cam.Name, Platform: cam.Platform, Channel: cam.Channel}
	switch {
	case v.LiveBaseURL != "" && v.LiveSecret != "":
		now := time.Now
		if v.Now != nil {
			now = v.Now
		}
		ttl := v.LiveTTL
		if ttl <= 0 {
			ttl = onemap.DefaultLiveTTL
		}
		exp := now().Add(ttl).UTC().Truncate(time.Second)
		if out.URL, err = onemap.SignLiveURL(v.LiveBaseURL, v.LiveSecret, cam.DeviceCode, exp); err != nil {
			writeError(c, s.log, err)
			return
		}
		out.Kind, out.ExpiresAt = "signed", &exp
	case cam.URL != "" && onemap.StreamURLSafe(cam.URL):
		out.Kind, out.URL = "relay", cam.URL
	case cam.URL != "":
		s.log.Warn("live video: the relay address of a camera carries a credential; not handed out", "camera", cam.CameraID)
		writeError(c, s.log, onemap.Errorf(onemap.ENOTFOUND, "camera %d has no live address that may be handed out", cam.CameraID))
		return
	default:
		writeError(c, s.log, onemap.Errorf(onemap.ENOTFOUND, "camera %d has no live address", cam.CameraID))
		return
	}
	detail := map[string]any{"device_code": cam.DeviceCode, "kind": out.Kind}
	if out.ExpiresAt != nil {
		detail["expires_at"] = out.ExpiresAt.Format(time.RFC3339)
	}
	s.audit(c, onemap.AuditCameraLive, "cameras/"+strconv.FormatInt(cam.CameraID, 10), detail)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

// Check refuses a configuration that cannot work: a live base without a
// secret or the other way round, a TTL past the bound, a snapshot base
// that is no http(s) address.
func (v VideoConfig) Check() error {
	if (v.LiveBaseURL == "") != (v.LiveSecret == "") {
		return errors.New("live video: set both the base URL and the secret, or neither")
	}
	if v.LiveTTL < 0 || v.LiveTTL > onemap.MaxLiveTTL {
		return fmt.Errorf("live video: a TTL of 0 to %s", onemap.MaxLiveTTL)
	}
	if b := v.SnapshotBaseURL; b != "" && !strings.HasPrefix(b, "https://") && !strings.HasPrefix(b, "http://") {
		return errors.New("snapshots: the base URL must be http(s)")
	}
	return nil
}
