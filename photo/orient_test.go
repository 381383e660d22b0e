package photo_test

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"testing"

	"github.com/onemapgis/onemap/internal/phototest"
	"github.com/onemapgis/onemap/photo"
)

// byteOrder is a TIFF byte order that also appends.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// phoneExif is the payload of an APP1 Exif segment as a phone writes it:
// IFD0 with the image description (phototest.GPSMarker), the orientation
// o and a pointer to a GPS IFD holding a latitude reference, in the byte
// order bo ("II" little-endian, as many Android phones; "MM" big-endian, as
// iPhones).
func phoneExif(bo byteOrder, o uint16) []byte {
	t := []byte("II")
	if bo == binary.BigEndian {
		t = []byte("MM")
	}
	t = bo.AppendUint16(t, 42)
	t = bo.AppendUint32(t, 8)
	desc := []byte(phototest.GPSMarker + "\x00")
	ifd0Len := 2 + 3*12 + 4
	descAt := 8 + ifd0Len
	gpsAt := descAt + len(desc)
	entry := func(tag, typ uint16, count uint32, value []byte) {
		t = bo.AppendUint16(t, tag)
		t = bo.AppendUint16(t, typ)
		t = bo.AppendUint32(t, count)
		v := make([]byte, 4)
		copy(v, value)
		t = append(t, v...)
	}
	u32 := func(n int) []byte { return bo.AppendUint32(nil, uint32(n)) }
	t = bo.AppendUint16(t, 3)
	entry(0x010E, 2, uint32(len(desc)), u32(descAt)) // ImageDescription
	entry(0x0112, 3, 1, bo.AppendUint16(nil, o))     // Orientation
	entry(0x8825, 4, 1, u32(gpsAt))                  // GPSInfo
	t = bo.AppendUint32(t, 0)
	t = append(t, desc...)
	// GPS IFD: GPSLatitudeRef "N", no next IFD.
	t = bo.AppendUint16(t, 1)
	entry(0x0001, 2, 2, []byte("N\x00"))
	t = bo.AppendUint32(t, 0)
	return append([]byte("Exif\x00\x00"), t...)
}

// phonePhoto is a real JPEG of img as a phone stores it: the sensor's
// landscape pixels, an Exif segment with orientation o and a GPS IFD, after
// the start of the image.
func phonePhoto(t *testing.T, img image.Image, bo byteOrder, o uint16) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	p := phoneExif(bo, o)
	n := len(p) + 2
	out := append([]byte{}, b[:2]...)
	out = append(out, 0xFF, 0xE1, byte(n>>8), byte(n))
	out = append(out, p...)
	return append(out, b[2:]...)
}

// TestStrip_orientationNone: a photo stored as it is shown (orientation
// 1), or with an orientation that is none of 1–8, keeps no EXIF at all.
func TestStrip_orientationNone(t *testing.T) {
	img := phototest.Gradient(32, 24, 5)
	for _, o := range []uint16{1, 0, 9} {
		in := phonePhoto(t, img, binary.BigEndian, o)
		_, out, err := photo.Strip(in)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(out, []byte("Exif\x00\x00")) || photo.Orientation(out) != 1 {
			t.Errorf("orientation %d: the stripped photo keeps an Exif segment", o)
		}
	}
	if photo.Orientation([]byte("not a photo")) != 1 {
		t.Error("a file that is no JPEG has an orientation")
	}
}
