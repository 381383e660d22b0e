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

// TestStrip_orientation: a photo taken with the phone upright (stored
// landscape, EXIF Orientation 6) keeps its orientation through Strip, and
// nothing else of its EXIF: the new Exif segment holds the one tag, the GPS
// and the description are gone, the pixels are the same. Before, the
// orientation went with the EXIF and the photo showed on its side.
func TestStrip_orientation(t *testing.T) {
	img := phototest.Gradient(64, 48, 3) // landscape, as the sensor saw it
	for _, bo := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		in := phonePhoto(t, img, bo, 6)
		if got := photo.Orientation(in); got != 6 {
			t.Fatalf("%v: the phone's photo has orientation %d, want 6", bo, got)
		}
		ct, out, err := photo.Strip(in)
		if err != nil || ct != photo.JPEG {
			t.Fatalf("%v: Strip = %q, %v", bo, ct, err)
		}
		if got := photo.Orientation(out); got != 6 {
			t.Errorf("%v: the stripped photo has orientation %d, want 6 (it would show on its side)", bo, got)
		}
		if bytes.Contains(out, []byte(phototest.GPSMarker)) {
			t.Errorf("%v: the stripped photo keeps more of the EXIF than its orientation", bo)
		}
		// One Exif segment, of the orientation alone (8-byte TIFF header,
		// one 12-byte entry, counts and the next-IFD offset).
		var app1 [][]byte
		for i := 2; i+4 <= len(out) && out[i] == 0xFF && out[i+1] != 0xDA; i += 2 + int(out[i+2])<<8 + int(out[i+3]) {
			if out[i+1] == 0xE1 {
				app1 = append(app1, out[i+4:i+2+int(out[i+2])<<8+int(out[i+3])])
			}
		}
		if len(app1) != 1 || len(app1[0]) != 6+8+2+12+4 {
			t.Errorf("%v: APP1 segments %q, want one Exif of the orientation alone", bo, app1)
		}
		a, err := jpeg.Decode(bytes.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		b, err := jpeg.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("%v: the stripped photo does not decode: %v", bo, err)
		}
		if !bytes.Equal(a.(*image.YCbCr).Y, b.(*image.YCbCr).Y) || b.Bounds() != img.Bounds() {
			t.Errorf("%v: the pixels changed", bo)
		}
	}
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
