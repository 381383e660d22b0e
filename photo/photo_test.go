package photo_test

import (
	"bytes"
	"encoding/binary"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"github.com/onemapgis/onemap/internal/phototest"
	"github.com/onemapgis/onemap/photo"
)

// jpegMarkers lists the markers of a JPEG's header (up to its first scan).
func jpegMarkers(b []byte) []byte {
	var out []byte
	for i := 2; i+4 <= len(b) && b[i] == 0xFF; {
		m := b[i+1]
		out = append(out, m)
		if m == 0xDA {
			break
		}
		i += 2 + int(b[i+2])<<8 + int(b[i+3])
	}
	return out
}

func TestStrip_jpeg(t *testing.T) {
	img := phototest.Gradient(40, 30, 1)
	in := phototest.JPEG(img, 80)
	if !bytes.Contains(in, []byte(phototest.GPSMarker)) || !bytes.Contains(in, []byte("Exif\x00\x00")) {
		t.Fatal("the test photo has no metadata to strip")
	}
	ct, out, err := photo.Strip(in)
	if err != nil || ct != photo.JPEG {
		t.Fatalf("Strip = %q, %v", ct, err)
	}
	for _, secret := range []string{phototest.GPSMarker, "Exif\x00\x00", "xap/1.0", "comment"} {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("the stripped JPEG still has %q", secret)
		}
	}
	for _, m := range jpegMarkers(out) {
		if m >= 0xE1 && m <= 0xEF && m != 0xE2 && m != 0xEE || m == 0xFE {
			t.Errorf("the stripped JPEG has marker 0x%02X", m)
		}
	}
	if !bytes.HasSuffix(out, []byte{0xFF, 0xD9}) {
		t.Error("the stripped JPEG does not end at its end-of-image marker")
	}
	// Lossless: the same pixels decode from both.
	a, err := jpeg.Decode(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	b, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("the stripped JPEG does not decode: %v", err)
	}
	if a.Bounds() != b.Bounds() {
		t.Fatalf("bounds %v, want %v", b.Bounds(), a.Bounds())
	}
	for y := range 30 {
		for x := range 40 {
			if a.At(x, y) != b.At(x, y) {
				t.Fatalf("pixel %d,%d changed", x, y)
			}
		}
	}
	// ICC profiles and the Adobe segment stay: decoders need them.
	keep := append([]byte{0xFF, 0xD8}, seg(0xE2, "ICC_PROFILE\x00\x01\x01abc")...)
	keep = append(keep, seg(0xEE, "Adobe\x00d\x00\x00\x00\x00\x01")...)
	keep = append(keep, in[2:]...)
	_, out2, err := photo.Strip(keep)
	if err != nil || !bytes.Contains(out2, []byte("ICC_PROFILE")) || !bytes.Contains(out2, []byte("Adobe")) {
		t.Errorf("ICC or Adobe dropped (%v)", err)
	}
}

func seg(m byte, p string) []byte {
	n := len(p) + 2
	return append([]byte{0xFF, m, byte(n >> 8), byte(n)}, p...)
}

func TestStrip_png(t *testing.T) {
	in := phototest.PNG(phototest.Gradient(20, 10, 2))
	ct, out, err := photo.Strip(in)
	if err != nil || ct != photo.PNG {
		t.Fatalf("Strip = %q, %v", ct, err)
	}
	for _, secret := range []string{phototest.GPSMarker, "tEXt", "iTXt", "tIME", "eXIf", "MM\x00*"} {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("the stripped PNG still has %q", secret)
		}
	}
	if _, err := png.Decode(bytes.NewReader(out)); err != nil {
		t.Errorf("the stripped PNG does not decode: %v", err)
	}
	// A chunk whose CRC does not match is refused.
	bad := bytes.Clone(out)
	bad[len(bad)-20] ^= 0xFF
	if _, _, err := photo.Strip(bad); err == nil || !strings.Contains(err.Error(), "CRC") {
		t.Errorf("a bad CRC: %v", err)
	}
}

func TestStrip_webp(t *testing.T) {
	in := phototest.WebP()
	ct, out, err := photo.Strip(in)
	if err != nil || ct != photo.WebP {
		t.Fatalf("Strip = %q, %v", ct, err)
	}
	for _, secret := range []string{phototest.GPSMarker, "EXIF", "XMP "} {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("the stripped WebP still has %q", secret)
		}
	}
	if n := binary.LittleEndian.Uint32(out[4:8]); int(n) != len(out)-8 {
		t.Errorf("RIFF size %d, file %d", n, len(out)-8)
	}
	if string(out[12:16]) != "VP8X" || out[20]&(0x08|0x04) != 0 {
		t.Errorf("VP8X flags %#x still say EXIF or XMP", out[20])
	}
	if !bytes.Contains(out, phototest.WebPPlain()[12:]) {
		t.Error("the image chunk is gone")
	}
	// One without metadata is left as it is.
	if _, same, err := photo.Strip(phototest.WebPPlain()); err != nil || !bytes.Equal(same, phototest.WebPPlain()) {
		t.Errorf("a plain WebP changed (%v)", err)
	}
}

func TestStrip_refused(t *testing.T) {
	j := phototest.JPEG(phototest.Gradient(8, 8, 3), 90)
	for name, b := range map[string][]byte{
		"text":           []byte("这不是照片，只是改了扩展名的文本。\n"),
		"empty":          nil,
		"gif":            []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
		"html":           []byte("<html><script>alert(1)</script>"),
		"jpeg cut":       j[:len(j)/2],
		"jpeg no scan":   {0xFF, 0xD8, 0xFF, 0xD9},
		"png cut":        phototest.PNG(phototest.Gradient(4, 4, 0))[:40],
		"webp no image":  []byte("RIFF\x04\x00\x00\x00WEBP"),
		"webp bad size":  []byte("RIFF\xff\x00\x00\x00WEBPVP8L"),
		"jpeg bad seg":   {0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 0},
		"riff not webp":  []byte("RIFF\x04\x00\x00\x00WAVE"),
		"png bad header": append([]byte("\x89PNG\r\n\x1a\n"), phototest.Chunk("tEXt", []byte("a\x00b"))...),
	} {
		if ct, out, err := photo.Strip(b); err == nil {
			t.Errorf("%s: Strip = %q, %d bytes, nil error", name, ct, len(out))
		}
	}
	if _, _, err := photo.Strip([]byte("plain text")); err != photo.ErrUnknownType {
		t.Errorf("text: %v, want ErrUnknownType", err)
	}
}

// FuzzStrip: Strip never panics, and what it returns is of the type it
// says, and stripping it again changes nothing.
func FuzzStrip(f *testing.F) {
	f.Add(phototest.JPEG(phototest.Gradient(9, 7, 4), 50))
	f.Add(phototest.PNG(phototest.Gradient(3, 5, 5)))
	f.Add(phototest.WebP())
	f.Add(phototest.WebPPlain())
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD0, 0x01, 0xFF, 0xD9})
	f.Fuzz(func(t *testing.T, b []byte) {
		ct, out, err := photo.Strip(b)
		if err != nil {
			return
		}
		if photo.Detect(out) != ct {
			t.Fatalf("Strip said %q, the output is %q", ct, photo.Detect(out))
		}
		// A WebP may gain its missing pad byte; a JPEG's orientation
		// segment (36 bytes) may be longer than the shortest Exif that
		// holds the tag (32).
		if len(out) > len(b)+4 {
			t.Fatalf("the output (%d bytes) is longer than the input (%d)", len(out), len(b))
		}
		ct2, again, err := photo.Strip(out)
		if err != nil || ct2 != ct || !bytes.Equal(again, out) {
			t.Fatalf("stripping the output again: %q, %v, equal %v", ct2, err, bytes.Equal(again, out))
		}
	})
}
