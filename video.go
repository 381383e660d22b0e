package onemap

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// OneMap hands a caller over to the video platform (it does not carry or
// transcode video): a role that may see what cameras see opens a camera's
// live picture through a short-lived signed address on the platform
// (SignLiveURL), or, where no platform secret is configured, the relay
// address kept in camera_streams; never an address that carries a stored
// credential (StreamURLSafe). An alarm's snapshot stays on the platform
// too: the server fetches it for the caller by its reference
// (SnapshotURL). Each opening and each view is audited.

// CameraStream is a camera and its link to the video platform.
type CameraStream struct {
	CameraID   int64
	Name       string
	DeviceCode string // 20-digit GB/T 28181 device code
	GridID     int64  // 0: none
	Platform   string
	URL        string // the relay address (rtsp://, https://…), as camera_streams keeps it
	Channel    string
}

// Video hand-off limits.
const (
	// DefaultLiveTTL is how long a signed live address stays valid.
	DefaultLiveTTL = 2 * time.Minute
	// MaxLiveTTL bounds it.
	MaxLiveTTL = 30 * time.Minute
)

// SignLiveURL returns the live address of camera device on the video
// platform at base (an http(s) or rtsp URL, its query kept), signed to
// expire at expires: base with camera=<device>, expires=<Unix seconds> and
// sig=<lowercase hex HMAC-SHA256(secret, "onemap-live-v1\n<device>\n<expires>")>
// added to its query. The platform checks the signature with the same
// secret and refuses an address past its expiry.
func SignLiveURL(base, secret, device string, expires time.Time) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", Errorf(EINVALID, "live video base URL %.80q: want an absolute URL", base)
	}
	exp := strconv.FormatInt(expires.Unix(), 10)
	q := u.Query()
	q.Set("camera", device)
	q.Set("expires", exp)
	q.Set("sig", LiveSignature(secret, device, exp))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// LiveSignature is the signature of a live address (see SignLiveURL):
// lowercase hex.
func LiveSignature(secret, device, expires string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("onemap-live-v1\n" + device + "\n" + expires))
	return hex.EncodeToString(m.Sum(nil))
}

// StreamURLSafe reports whether a relay address may be handed to a
// browser: an absolute URL without a user or password in it (a stored
// credential never leaves the server).
func StreamURLSafe(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil {
		return false
	}
	q := u.Query()
	for k := range q {
		switch strings.ToLower(k) {
		case "password", "passwd", "pwd", "token", "key", "secret", "auth":
			return false
		}
	}
	return true
}

// SnapshotURL returns the address the server fetches an alarm's snapshot
// from: the configured base with "{ref}" replaced by the reference,
// escaped for a query (https://vp.example/snapshots?ref={ref}); without
// "{ref}" the escaped reference is appended as one path segment.
func SnapshotURL(base, ref string) string {
	if strings.Contains(base, "{ref}") {
		return strings.ReplaceAll(base, "{ref}", url.QueryEscape(ref))
	}
	return strings.TrimRight(base, "/") + "/" + url.PathEscape(ref)
}

// AlarmRetention is how long the live side keeps what sources send:
// alarms (by their last event) with the ingest events and quarantined
// events, and, shorter, alarms' snapshot references (by the first event).
type AlarmRetention struct {
	Keep         time.Duration
	SnapshotKeep time.Duration
}

// Default retention periods.
const (
	DefaultAlarmKeep    = 180 * 24 * time.Hour
	DefaultSnapshotKeep = 30 * 24 * time.Hour
)

// PruneReport is what one retention run removed.
type PruneReport struct {
	Alarms       int64
	Events       int64
	Quarantined  int64
	SnapshotRefs int64
}
