package photo

import (
	"bytes"
	"encoding/binary"
)

// The orientation of a JPEG from a phone. A phone stores what its sensor
// saw, landscape, and says in the EXIF's Orientation tag (0x0112) how to
// turn it for display: 6 for a photo taken upright (turn 90° clockwise), 3
// upside down, 8 the other way, 2, 4, 5 and 7 the same mirrored. Dropping
// the EXIF with the tag would lay a portrait photo on its side.
//
// So Strip keeps the orientation, and only it: the photo's Exif goes whole
// and a new APP1 Exif segment of 36 bytes that holds that one tag (no GPS,
// no time, no camera, no thumbnail: nothing of the original but the number)
// is written after the start of the image. Every viewer that honours EXIF
// orientation shows the photo upright, as the phone did; browsers do, for
// every image (CSS image-orientation: from-image is the default in
// Chromium since 81, Firefox since 77 and Safari since 13.1). Upright
// (upright.go) then turns the pixels and drops the tag, for the viewers
// that ignore it; that takes a decoding and an encoding, so it is done
// after the photo is accepted.

// Orientation returns the EXIF orientation of a JPEG (1 to 8), read from
// its first APP1 Exif segment; 1 (as stored) when it has none or an
// invalid one.
func Orientation(b []byte) int {
	if Detect(b) != JPEG {
		return 1
	}
	for i := 2; i+4 <= len(b) && b[i] == 0xFF; {
		m := b[i+1]
		if m == mSOS || m == mEOI {
			break
		}
		n := int(b[i+2])<<8 | int(b[i+3])
		if n < 2 || i+2+n > len(b) {
			break
		}
		if m == mAPP0+1 && bytes.HasPrefix(b[i+4:i+2+n], exifHeader) {
			return exifOrientation(b[i+4 : i+2+n])
		}
		i += 2 + n
	}
	return 1
}

// exifHeader starts the payload of an APP1 Exif segment.
var exifHeader = []byte("Exif\x00\x00")

// exifOrientation returns the Orientation tag of IFD0 of an APP1 Exif
// payload (from its "Exif\0\0"), or 1 when it has none or one out of 1–8.
func exifOrientation(p []byte) int {
	if !bytes.HasPrefix(p, exifHeader) {
		return 1
	}
	t := p[len(exifHeader):] // the TIFF structure; offsets are from its start
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:4]) != 42 {
		return 1
	}
	ifd := int64(bo.Uint32(t[4:8]))
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return 1
	}
	n := int64(bo.Uint16(t[ifd : ifd+2]))
	for k := int64(0); k < n; k++ {
		e := ifd + 2 + 12*k
		if e+12 > int64(len(t)) {
			return 1
		}
		if bo.Uint16(t[e:e+2]) != 0x0112 {
			continue
		}
		// SHORT (3), one value, held in the entry's first two value bytes.
		if bo.Uint16(t[e+2:e+4]) != 3 || bo.Uint32(t[e+4:e+8]) != 1 {
			return 1
		}
		if o := int(bo.Uint16(t[e+8 : e+10])); o >= 1 && o <= 8 {
			return o
		}
		return 1
	}
	return 1
}

// orientationSegment returns a whole APP1 Exif segment (marker and length
// included) that holds orientation o and nothing else: a big-endian TIFF
// header, IFD0 with the one entry, no next IFD.
func orientationSegment(o int) []byte {
	p := append([]byte{0xFF, mAPP0 + 1, 0, 0}, exifHeader...)
	p = append(p, 'M', 'M', 0, 42, 0, 0, 0, 8) // TIFF header, IFD0 at 8
	p = append(p, 0, 1)                        // one entry
	p = append(p, 0x01, 0x12, 0, 3, 0, 0, 0, 1, byte(o>>8), byte(o), 0, 0)
	p = append(p, 0, 0, 0, 0) // no next IFD
	n := len(p) - 2
	p[2], p[3] = byte(n>>8), byte(n)
	return p
}

// withOrientation returns the stripped JPEG b (no Exif) with an Exif
// segment of orientation o alone after its start-of-image marker.
func withOrientation(b []byte, o int) []byte {
	seg := orientationSegment(o)
	out := make([]byte, 0, len(b)+len(seg))
	out = append(out, b[:2]...)
	out = append(out, seg...)
	return append(out, b[2:]...)
}
