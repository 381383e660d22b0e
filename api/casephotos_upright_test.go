package api_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/phototest"
	"github.com/onemapgis/onemap/photo"
	"github.com/onemapgis/onemap/postgis"
)

// orientedJPEG is a JPEG of img as a phone held upright stores it: the
// sensor's pixels and an Exif segment whose only tag is orientation o.
func orientedJPEG(t *testing.T, img image.Image, o byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	e := buf.Bytes()
	seg := append([]byte{0xFF, 0xE1, 0, 34}, "Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00"...)
	seg = append(seg, o, 0, 0, 0, 0, 0, 0)
	return append(append(append([]byte{}, e[:2]...), seg...), e[2:]...)
}

// TestCasePhotos_upright: a public report's photo taken with the phone
// upright (stored landscape, EXIF orientation 6) is served to the staff
// upright, portrait and with no orientation tag, for any viewer; a photo
// whose frame declares more than photo.MaxPixels is a 400 on the photo.
func TestCasePhotos_upright(t *testing.T) {
	w := startCaseWorld(t)
	pub := newBrowser(t, w.url)
	pub.from = "198.51.100.9"
	in := orientedJPEG(t, phototest.Gradient(64, 48, 7), 6)
	if photo.Orientation(in) != 6 {
		t.Fatal("the test photo has no orientation 6")
	}
	body, ct := multipartBody(t, reportPart("sanitation", w.inGroup), part{name: "photo", file: "IMG_0002.JPG", body: in})
	resp, out := pub.do("POST", "/api/public/reports", body, "Content-Type", ct)
	if resp.StatusCode != 201 {
		t.Fatalf("report = %d %s", resp.StatusCode, out)
	}
	ks, err := postgis.NewCases(w.db, nil).ListCases(context.Background(), onemap.CaseFilter{Limit: 1})
	if err != nil || len(ks) != 1 {
		t.Fatal(err)
	}
	op := w.as(t, "op_upright", onemap.RoleOperator, w.township)
	resp, out = op.do("GET", fmt.Sprintf("/api/cases/%d", ks[0].ID), "")
	got := decode[struct {
		Timeline []stepWithPhotos `json:"timeline"`
	}](t, out)
	if resp.StatusCode != 200 || len(got.Timeline) != 1 || len(got.Timeline[0].Photos) != 1 {
		t.Fatalf("case = %d %s", resp.StatusCode, out)
	}
	resp, served := op.do("GET", got.Timeline[0].Photos[0].URL, "")
	if resp.StatusCode != 200 {
		t.Fatalf("photo = %d", resp.StatusCode)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(served))
	if err != nil || cfg.Width != 48 || cfg.Height != 64 {
		t.Errorf("served photo %d×%d (%v), want 48×64: upright", cfg.Width, cfg.Height, err)
	}
	if photo.Orientation(served) != 1 || bytes.Contains(served, []byte("Exif\x00\x00")) {
		t.Error("the served photo keeps an orientation tag")
	}

	huge := bytes.Clone(in)
	sof := bytes.Index(huge, []byte{0xFF, 0xC0})
	huge[sof+5], huge[sof+6], huge[sof+7], huge[sof+8] = 10000>>8, 10000&0xFF, 10000>>8, 10000&0xFF
	body, ct = multipartBody(t, reportPart("sanitation", w.inGroup), part{name: "photo", file: "huge.jpg", body: huge})
	resp, out = pub.do("POST", "/api/public/reports", body, "Content-Type", ct)
	if e := decode[struct {
		Field string `json:"field"`
	}](t, out); resp.StatusCode != 400 || e.Field != "photo" || !bytes.Contains(out, []byte("megapixels")) {
		t.Errorf("a photo of 100 megapixels = %d %s, want 400 on the photo", resp.StatusCode, out)
	}
}
