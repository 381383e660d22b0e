package onemap

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Photo is a photo of a case step (a report's photos are its first
// step's), as stored: its metadata already stripped (package photo) and
// addressed by the SHA-256 of those bytes, so that one photo sent twice is
// kept once. A phone's JPEG that keeps an orientation tag (and nothing else
// of its EXIF) is turned upright after it is accepted: until then it is
// Turning, and what is served under its address changes once.
type Photo struct {
	SHA256      string // lower-case hex of the SHA-256 of Bytes
	ContentType string // image/jpeg, image/png or image/webp
	Bytes       []byte
	Turning     bool // as read: its pixels are still to be turned upright
}

// NewPhoto returns the photo of stripped bytes b of content type ct.
func NewPhoto(ct string, b []byte) Photo {
	sum := sha256.Sum256(b)
	return Photo{SHA256: hex.EncodeToString(sum[:]), ContentType: ct, Bytes: b}
}

// CasePhoto is a photo as a case lists it: which step it belongs to, its
// place among that step's photos (1…), and what it is, without its bytes.
type CasePhoto struct {
	CaseID      int64
	Seq         int // the step (1: the report)
	Position    int
	SHA256      string
	ContentType string
	Size        int
	AddedAt     time.Time
}

// Limits of photos.
const (
	CaseMaxPhotos = 3       // per report or step
	PhotoMaxBytes = 5 << 20 // per photo, as sent
)

// AuditCasePhotoRead is the audit action of a view of a case's photo.
const AuditCasePhotoRead = "case.photo.read"

// IsPhotoHash reports whether s is a photo's address: 64 lower-case hex
// digits.
func IsPhotoHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// CaseCategory is a category cases are filed under: Code is stable (the
// API's key), Name what people read.
type CaseCategory struct {
	Code, Name string
}
