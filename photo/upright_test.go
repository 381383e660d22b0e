package photo_test

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"testing"

	"github.com/onemapgis/onemap/internal/phototest"
	"github.com/onemapgis/onemap/photo"
)

// quadrants is the photo as it is to be seen: w×h, its four quarters red
// (top left), green (top right), blue (bottom left) and white (bottom
// right), so that each of the eight ways of turning and mirroring it
// gives another picture.
func quadrants(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{255, 0, 0, 255}
			switch {
			case x >= w/2 && y < h/2:
				c = color.RGBA{0, 255, 0, 255}
			case x < w/2 && y >= h/2:
				c = color.RGBA{0, 0, 255, 255}
			case x >= w/2 && y >= h/2:
				c = color.RGBA{255, 255, 255, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

// sensor returns what a phone's sensor stores of the picture up when it
// tags it with orientation o: the picture turned back, so that turning the
// stored pixels as o says shows up. Each is written out as the phone's
// turn, independently of package photo's.
func sensor(up *image.RGBA, o int) *image.RGBA {
	b := up.Bounds()
	w, h := b.Dx(), b.Dy()
	var out *image.RGBA
	put := func(sw, sh int, from func(x, y int) (int, int)) {
		out = image.NewRGBA(image.Rect(0, 0, sw, sh))
		for y := range sh {
			for x := range sw {
				ux, uy := from(x, y)
				out.Set(x, y, up.At(ux, uy))
			}
		}
	}
	switch o {
	case 1:
		put(w, h, func(x, y int) (int, int) { return x, y })
	case 2: // stored mirrored
		put(w, h, func(x, y int) (int, int) { return w - 1 - x, y })
	case 3: // stored upside down
		put(w, h, func(x, y int) (int, int) { return w - 1 - x, h - 1 - y })
	case 4:
		put(w, h, func(x, y int) (int, int) { return x, h - 1 - y })
	case 5: // stored transposed
		put(h, w, func(x, y int) (int, int) { return y, x })
	case 6: // the phone held upright: the picture stored a quarter turn anticlockwise
		put(h, w, func(x, y int) (int, int) { return w - 1 - y, x })
	case 7:
		put(h, w, func(x, y int) (int, int) { return w - 1 - y, h - 1 - x })
	case 8: // held the other way: stored a quarter turn clockwise
		put(h, w, func(x, y int) (int, int) { return y, h - 1 - x })
	}
	return out
}

// near reports whether two colours are within a JPEG's error of each other.
func near(a, b color.Color) bool {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	d := func(x, y uint32) bool { return x>>8 <= y>>8+48 && y>>8 <= x>>8+48 }
	return d(ar, br) && d(ag, bg) && d(ab, bb)
}

// TestStrip_upright: real JPEGs as phones store them, with EXIF
// orientation 1, 3, 6 and 8 (and the mirrored 2, 4, 5, 7) and a GPS block,
// in both byte orders, come out of Strip with their pixels as stored and
// an Exif segment that holds their orientation and nothing else (no GPS),
// and out of Upright with their pixels upright (the picture's size and
// each quarter's colour) and no orientation tag or other EXIF left: a
// viewer that ignores EXIF shows them as the phone did.
func TestStrip_upright(t *testing.T) {
	up := quadrants(64, 96) // portrait, as the photo is to be seen
	for _, bo := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, o := range []int{1, 3, 6, 8, 2, 4, 5, 7} {
			in := phonePhoto(t, sensor(up, o), bo, uint16(o))
			if got := photo.Orientation(in); got != o {
				t.Fatalf("%v o=%d: the phone's photo has orientation %d", bo, o, got)
			}
			ct, stored, err := photo.Strip(in)
			if err != nil || ct != photo.JPEG {
				t.Fatalf("%v o=%d: Strip = %q, %v", bo, o, ct, err)
			}
			if got := photo.Orientation(stored); got != o {
				t.Errorf("%v o=%d: the stored photo has orientation %d", bo, o, got)
			}
			if o == 1 && bytes.Contains(stored, []byte("Exif\x00\x00")) {
				t.Errorf("%v o=1: the stored photo keeps an Exif segment", bo)
			}
			if exif := exifPayloads(stored); o != 1 && (len(exif) != 1 || len(exif[0]) != 32) {
				t.Errorf("%v o=%d: the stored photo's Exif is %d segments %q, want one of the orientation alone", bo, o, len(exif), exif)
			}
			if bytes.Contains(stored, []byte(phototest.GPSMarker)) {
				t.Errorf("%v o=%d: the stored photo keeps the GPS block", bo, o)
			}
			if cfg, err := jpeg.DecodeConfig(bytes.NewReader(stored)); err != nil || image.Pt(cfg.Width, cfg.Height) != sensor(up, o).Bounds().Size() {
				t.Errorf("%v o=%d: the stored photo is %d×%d (%v), want its pixels as the phone stored them", bo, o, cfg.Width, cfg.Height, err)
			}

			out, turned, err := photo.Upright(stored)
			if err != nil || turned != (o != 1) {
				t.Fatalf("%v o=%d: Upright = turned %v, %v", bo, o, turned, err)
			}
			if o == 1 && !bytes.Equal(out, stored) {
				t.Errorf("%v o=1: Upright changed a photo that is upright", bo)
			}
			if got := photo.Orientation(out); got != 1 || bytes.Contains(out, []byte("Exif\x00\x00")) {
				t.Errorf("%v o=%d: the upright photo keeps an Exif segment (orientation %d)", bo, o, got)
			}
			img, err := jpeg.Decode(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("%v o=%d: the upright photo does not decode: %v", bo, o, err)
			}
			if img.Bounds().Size() != up.Bounds().Size() {
				t.Errorf("%v o=%d: upright %v, want %v", bo, o, img.Bounds().Size(), up.Bounds().Size())
				continue
			}
			for _, p := range []image.Point{{16, 24}, {48, 24}, {16, 72}, {48, 72}} {
				if got, want := img.At(p.X, p.Y), up.At(p.X, p.Y); !near(got, want) {
					t.Errorf("%v o=%d: pixel %v is %v, want %v (not upright)", bo, o, p, got, want)
				}
			}
		}
	}
}

// exifPayloads returns the payloads of b's APP1 Exif segments.
func exifPayloads(b []byte) [][]byte {
	var out [][]byte
	for i := 2; i+4 <= len(b) && b[i] == 0xFF && b[i+1] != 0xDA; {
		n := int(b[i+2])<<8 | int(b[i+3])
		if b[i+1] == 0xE1 && bytes.HasPrefix(b[i+4:], []byte("Exif\x00\x00")) {
			out = append(out, b[i+4:i+2+n])
		}
		i += 2 + n
	}
	return out
}

// TestUpright_undecodable: a JPEG whose structure is sound but whose
// pixels do not decode is taken by Strip with its orientation (Strip does
// not decode) and refused by Upright with an error, not turned.
func TestUpright_undecodable(t *testing.T) {
	in := phonePhoto(t, sensor(quadrants(32, 48), 6), binary.BigEndian, 6)
	sos := bytes.Index(in, []byte{0xFF, 0xDA})
	bad := append(bytes.Clone(in[:sos]), 0xFF, 0xDA, 0, 3, 9, 0xFF, 0xD9) // a scan header cut short
	_, stored, err := photo.Strip(bad)
	if err != nil {
		t.Fatalf("Strip = %v, want it taken", err)
	}
	if _, turned, err := photo.Upright(stored); err == nil || turned {
		t.Errorf("Upright of undecodable pixels = turned %v, %v; want an error", turned, err)
	}
}

// TestStrip_uprightKeepsColourProfile: a turned photo keeps its ICC colour
// profile (an iPhone's Display P3 would otherwise show dull), and still
// nothing of its EXIF.
func TestStrip_uprightKeepsColourProfile(t *testing.T) {
	in := phonePhoto(t, sensor(quadrants(32, 48), 6), binary.BigEndian, 6)
	icc := append([]byte("ICC_PROFILE\x00\x01\x01"), bytes.Repeat([]byte{0x42}, 100)...)
	seg := append([]byte{0xFF, 0xE2, 0, byte(len(icc) + 2)}, icc...)
	in = append(append(append([]byte{}, in[:2]...), seg...), in[2:]...)
	_, stored, err := photo.Strip(in)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := photo.Upright(stored)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, seg) {
		t.Error("the turned photo lost its ICC profile")
	}
	if _, err := jpeg.Decode(bytes.NewReader(out)); err != nil || photo.Orientation(out) != 1 {
		t.Errorf("the turned photo: %v, orientation %d", err, photo.Orientation(out))
	}
}

// TestStrip_maxPixels: a JPEG whose frame declares more than MaxPixels is
// refused before anything is decoded, saying its size, by Strip and by
// Upright.
func TestStrip_maxPixels(t *testing.T) {
	in := phonePhoto(t, quadrants(32, 16), binary.BigEndian, 6)
	sof := bytes.Index(in, []byte{0xFF, 0xC0})
	if sof < 0 {
		t.Fatal("no baseline frame header")
	}
	// Height and width: 6,000 × 10,000, 60 megapixels.
	in[sof+5], in[sof+6], in[sof+7], in[sof+8] = 6000>>8, 6000&0xFF, 10000>>8, 10000&0xFF
	_, _, err := photo.Strip(in)
	if err == nil || !strings.Contains(err.Error(), "10000×6000") || !strings.Contains(err.Error(), "50 megapixels") {
		t.Errorf("Strip of 60 megapixels = %v, want a refusal that says the size", err)
	}
	if _, _, err := photo.Upright(in); err == nil || !strings.Contains(err.Error(), "50 megapixels") {
		t.Errorf("Upright of 60 megapixels = %v, want a refusal that says the size", err)
	}
}

// BenchmarkStrip_upright strips a 12-megapixel phone photo (4032×3024,
// orientation 6), as a report's photo is while its sender waits, and
// BenchmarkUpright turns it, as the server does after: each prints ms/op.
//
//	go test ./photo -run '^$' -bench 'Strip_upright|Upright' -benchtime 5x
func BenchmarkStrip_upright(b *testing.B) {
	in := turnedPhoto(b)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, _, err := photo.Strip(in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}

func BenchmarkUpright(b *testing.B) {
	_, in, err := photo.Strip(turnedPhoto(b))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, _, err := photo.Upright(in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}

// turnedPhoto is a 12-megapixel photo of a phone held upright: 4032×3024
// at quality 90 with orientation 6.
func turnedPhoto(b *testing.B) []byte {
	img := phototest.Gradient(4032, 3024, 9)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	e := buf.Bytes()
	seg := []byte{0xFF, 0xE1, 0, 34}
	seg = append(seg, "Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00"...)
	in := append(append(append([]byte{}, e[:2]...), seg...), e[2:]...)
	if photo.Orientation(in) != 6 {
		b.Fatal("no orientation")
	}
	return in
}

// TestStrip_uprightShrinks: a turned photo longer than UprightMaxSide is
// brought within it (5,200 pixels by a factor of 3 to 1,734), still
// upright; one that needs no turning keeps its size (it is not decoded).
func TestStrip_uprightShrinks(t *testing.T) {
	up := quadrants(96, 5200)
	_, stored, err := photo.Strip(phonePhoto(t, sensor(up, 6), binary.LittleEndian, 6))
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := photo.Upright(stored)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds().Size(); got != image.Pt(32, 1734) {
		t.Fatalf("turned photo of 96×5200 stored %v, want 32×1734", got)
	}
	for _, p := range []image.Point{{8, 433}, {24, 433}, {8, 1300}, {24, 1300}} {
		if got, want := img.At(p.X, p.Y), up.At(p.X*3, p.Y*3); !near(got, want) {
			t.Errorf("pixel %v is %v, want %v", p, got, want)
		}
	}
	_, out, err = photo.Strip(phonePhoto(t, up, binary.LittleEndian, 1))
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(out)); err != nil || cfg.Width != 96 || cfg.Height != 5200 {
		t.Errorf("upright photo stored %dx%d (%v), want 96×5200", cfg.Width, cfg.Height, err)
	}
}
