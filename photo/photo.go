// Package photo checks what an uploaded photo is by its content and strips
// what it tells about the person who took it: only metadata segments and
// chunks are left out, no pixel is decoded or encoded again, except for a
// JPEG that must be turned upright (upright.go).
//
// It takes JPEG, PNG and WebP. What is dropped:
//
//   - JPEG: every APPn segment (APP1 Exif with its GPS and thumbnail, APP1
//     XMP, APP13 Photoshop/IPTC, …) but APP0 JFIF, APP2 ICC_PROFILE and
//     APP14 Adobe, which decoders need for colour; every COM segment; and
//     anything after the end-of-image marker (a second image, an archive).
//     A photo whose Exif says to turn it (Orientation 2 to 8: a phone held
//     upright) gets a new Exif segment that holds that orientation and
//     nothing else (orient.go), until Upright turns its pixels and drops
//     the tag (upright.go). A JPEG of more than MaxPixels is refused.
//   - PNG: the eXIf, tEXt, iTXt, zTXt and tIME chunks, and anything after
//     IEND. Every chunk's CRC is checked.
//   - WebP: the EXIF and XMP chunks (and anything after the RIFF's end);
//     the RIFF size and the VP8X flags are fixed to match.
//
// Strip is not an image decoder: a file whose structure is sound but whose
// pixels are garbage passes, and it takes a few milliseconds whatever the
// photo. Upright is the decoder, for the JPEGs Strip left with an
// orientation: it takes a good part of a second of a core, so the server
// runs it after the photo is stored, not while its sender waits. No photo
// keeps any EXIF but that one orientation tag, and none once upright; PNG
// and WebP are taken as they are stored (phones take photos as JPEG; a
// client that sends another type turns the pixels itself, as a canvas
// does).
package photo

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
)

// Content types of the photos Strip takes.
const (
	JPEG = "image/jpeg"
	PNG  = "image/png"
	WebP = "image/webp"
)

// ErrUnknownType is the error of a file that is none of the types taken.
var ErrUnknownType = errors.New("photo: not a JPEG, PNG or WebP image")

// Detect returns the content type of b by its first bytes, or "" for none
// of JPEG, PNG and WebP (whatever the file's name says).
func Detect(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return JPEG
	case bytes.HasPrefix(b, pngSignature):
		return PNG
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return WebP
	}
	return ""
}

// Strip returns the content type of b and a copy of it without its
// metadata (see the package doc). A file of none of the types is
// ErrUnknownType; one of a known type whose structure is broken is an
// error that says where.
func Strip(b []byte) (contentType string, out []byte, err error) {
	switch ct := Detect(b); ct {
	case JPEG:
		if out, err = stripJPEG(b); err != nil {
			return ct, nil, err
		}
		if err = jpegSize(out); err != nil {
			return ct, nil, err
		}
		if o := Orientation(b); o != 1 {
			out = withOrientation(out, o) // orient.go
		}
		return ct, out, nil
	case PNG:
		out, err = stripPNG(b)
		return ct, out, err
	case WebP:
		out, err = stripWebP(b)
		return ct, out, err
	}
	return "", nil, ErrUnknownType
}

// --- JPEG -----------------------------------------------------------------

// JPEG markers Strip reads.
const (
	mSOI  = 0xD8
	mEOI  = 0xD9
	mSOS  = 0xDA
	mTEM  = 0x01
	mRST0 = 0xD0
	mRST7 = 0xD7
	mAPP0 = 0xE0
	mAPP2 = 0xE2
	mAP14 = 0xEE
	mAP15 = 0xEF
	mCOM  = 0xFE
)

// keepAPP reports whether an APPn segment (marker m, payload p) is one a
// decoder needs.
func keepAPP(m byte, p []byte) bool {
	switch m {
	case mAPP0:
		return bytes.HasPrefix(p, []byte("JFIF\x00"))
	case mAPP2:
		return bytes.HasPrefix(p, []byte("ICC_PROFILE\x00"))
	case mAP14:
		return bytes.HasPrefix(p, []byte("Adobe"))
	}
	return false
}

func stripJPEG(b []byte) ([]byte, error) {
	out := make([]byte, 0, len(b))
	out = append(out, 0xFF, mSOI)
	i := 2
	sawSOS := false
	for {
		// The next marker: 0xFF, any fill 0xFF, then the code.
		if i >= len(b) {
			return nil, fmt.Errorf("photo: JPEG ends at byte %d without an end-of-image marker", i)
		}
		if b[i] != 0xFF {
			return nil, fmt.Errorf("photo: JPEG: byte %d is 0x%02X where a marker should start", i, b[i])
		}
		for i < len(b) && b[i] == 0xFF {
			i++
		}
		if i >= len(b) {
			return nil, fmt.Errorf("photo: JPEG ends in a marker at byte %d", i)
		}
		m := b[i]
		i++
		switch {
		case m == mEOI:
			if !sawSOS {
				return nil, errors.New("photo: JPEG has no image data (no start-of-scan before its end)")
			}
			return append(out, 0xFF, mEOI), nil // and nothing after it
		case m == mSOI || m == 0x00:
			return nil, fmt.Errorf("photo: JPEG: unexpected marker 0x%02X at byte %d", m, i-1)
		case m == mTEM || m >= mRST0 && m <= mRST7:
			out = append(out, 0xFF, m) // no length
			if m != mTEM {
				i = scanEntropy(b, i, &out)
			}
			continue
		}
		if i+2 > len(b) {
			return nil, fmt.Errorf("photo: JPEG: segment 0x%02X at byte %d has no length", m, i-2)
		}
		n := int(b[i])<<8 | int(b[i+1])
		if n < 2 || i+n > len(b) {
			return nil, fmt.Errorf("photo: JPEG: segment 0x%02X at byte %d claims %d bytes, past the end", m, i-2, n)
		}
		seg := b[i : i+n]
		i += n
		switch {
		case m >= mAPP0 && m <= mAP15:
			if keepAPP(m, seg[2:]) {
				out = append(out, 0xFF, m)
				out = append(out, seg...)
			}
		case m == mCOM:
		default:
			out = append(out, 0xFF, m)
			out = append(out, seg...)
		}
		if m == mSOS {
			sawSOS = true
			i = scanEntropy(b, i, &out)
		}
	}
}

// scanEntropy copies the entropy-coded data from b[i:] to out, up to the
// next marker (0xFF not followed by 0x00 or a fill byte), and returns its
// index.
func scanEntropy(b []byte, i int, out *[]byte) int {
	start := i
	for i < len(b) {
		if b[i] == 0xFF && i+1 < len(b) && b[i+1] != 0x00 {
			break
		}
		if b[i] == 0xFF && i+1 < len(b) {
			i += 2 // a stuffed 0xFF00
			continue
		}
		i++
	}
	*out = append(*out, b[start:i]...)
	return i
}

// --- PNG ------------------------------------------------------------------

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// pngDrop are the chunks that may say who, where and when.
var pngDrop = map[string]bool{"eXIf": true, "tEXt": true, "iTXt": true, "zTXt": true, "tIME": true}

func stripPNG(b []byte) ([]byte, error) {
	out := make([]byte, 0, len(b))
	out = append(out, pngSignature...)
	i := len(pngSignature)
	first := true
	for {
		if i+12 > len(b) {
			return nil, fmt.Errorf("photo: PNG ends at byte %d without an IEND chunk", i)
		}
		n := int(uint32(b[i])<<24 | uint32(b[i+1])<<16 | uint32(b[i+2])<<8 | uint32(b[i+3]))
		if n < 0 || n > len(b)-i-12 {
			return nil, fmt.Errorf("photo: PNG: chunk at byte %d claims %d bytes, past the end", i, n)
		}
		typ := string(b[i+4 : i+8])
		for _, c := range typ {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return nil, fmt.Errorf("photo: PNG: chunk at byte %d has no valid type", i)
			}
		}
		if first && typ != "IHDR" {
			return nil, fmt.Errorf("photo: PNG: the first chunk is %q, not IHDR", typ)
		}
		first = false
		chunk := b[i : i+12+n]
		want := uint32(b[i+8+n])<<24 | uint32(b[i+9+n])<<16 | uint32(b[i+10+n])<<8 | uint32(b[i+11+n])
		if crc32.ChecksumIEEE(chunk[4:8+n]) != want {
			return nil, fmt.Errorf("photo: PNG: chunk %q at byte %d has a bad CRC", typ, i)
		}
		i += 12 + n
		if !pngDrop[typ] {
			out = append(out, chunk...)
		}
		if typ == "IEND" {
			return out, nil // and nothing after it
		}
	}
}

// --- WebP -----------------------------------------------------------------

// VP8X flags of the metadata chunks.
const (
	vp8xEXIF = 0x08
	vp8xXMP  = 0x04
)

func stripWebP(b []byte) ([]byte, error) {
	size := int(le32(b[4:8]))
	if size < 4 || size > len(b)-8 {
		return nil, fmt.Errorf("photo: WebP: the RIFF claims %d bytes, the file has %d", size, len(b)-8)
	}
	b = b[:8+size] // and nothing after it
	out := make([]byte, 0, len(b))
	out = append(out, b[:12]...)
	vp8x := -1 // where the VP8X chunk's flags are in out
	image := false
	for i := 12; i < len(b); {
		if i+8 > len(b) {
			return nil, fmt.Errorf("photo: WebP: a chunk header is cut at byte %d", i)
		}
		fourcc := string(b[i : i+4])
		n := int(le32(b[i+4 : i+8]))
		end := i + 8 + n + n&1
		if n < 0 || n > len(b)-i-8 || end > len(b) && !(end == len(b)+1 && n&1 == 1) {
			return nil, fmt.Errorf("photo: WebP: chunk %q at byte %d claims %d bytes, past the end", fourcc, i, n)
		}
		end = min(end, len(b))
		switch fourcc {
		case "EXIF", "XMP ":
		default:
			if fourcc == "VP8X" && n >= 1 {
				vp8x = len(out) + 8
			}
			if fourcc == "VP8 " || fourcc == "VP8L" || fourcc == "ANIM" {
				image = true
			}
			out = append(out, b[i:end]...)
			if end-i < 8+n+n&1 {
				out = append(out, 0) // the missing pad byte
			}
		}
		i = end
	}
	if !image {
		return nil, errors.New("photo: WebP has no image chunk (VP8, VP8L or ANIM)")
	}
	if vp8x >= 0 {
		out[vp8x] &^= vp8xEXIF | vp8xXMP
	}
	s := uint32(len(out) - 8)
	out[4], out[5], out[6], out[7] = byte(s), byte(s>>8), byte(s>>16), byte(s>>24)
	return out, nil
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
