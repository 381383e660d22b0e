package api_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/internal/phototest"
	"github.com/onemapgis/onemap/photo"
	"github.com/onemapgis/onemap/postgis"
)

// orientedJPEG is a JPEG of img as a phone held upright stores it: the
// sensor's pixels and an Exif segment with orientation o, an image
// description of phototest.GPSMarker and a GPS block (25°31'48"N), then an
// XMP segment with the marker too.
func orientedJPEG(t testing.TB, img image.Image, o byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	be := binary.BigEndian
	entry := func(tag, typ uint16, count, value uint32) []byte {
		e := be.AppendUint16(nil, tag)
		e = be.AppendUint16(e, typ)
		e = be.AppendUint32(e, count)
		return be.AppendUint32(e, value)
	}
	desc := []byte(phototest.GPSMarker + "\x00")
	const ifd0Len = 2 + 3*12 + 4
	descAt := uint32(8 + ifd0Len)
	gpsAt := descAt + uint32(len(desc))
	tiff := []byte{'M', 'M', 0, 42, 0, 0, 0, 8}
	tiff = be.AppendUint16(tiff, 3)
	tiff = append(tiff, entry(0x010E, 2, uint32(len(desc)), descAt)...)
	tiff = append(tiff, entry(0x0112, 3, 1, uint32(o)<<16)...) // a SHORT in the value's first two bytes
	tiff = append(tiff, entry(0x8825, 4, 1, gpsAt)...)
	tiff = be.AppendUint32(tiff, 0)
	tiff = append(tiff, desc...)
	tiff = be.AppendUint16(tiff, 2)
	tiff = append(tiff, entry(0x0001, 2, 2, uint32('N')<<24)...)
	tiff = append(tiff, entry(0x0002, 5, 3, gpsAt+2+2*12+4)...)
	tiff = be.AppendUint32(tiff, 0)
	for _, v := range []uint32{25, 1, 31, 1, 48, 1} {
		tiff = be.AppendUint32(tiff, v)
	}
	segment := func(m byte, p []byte) []byte {
		return append([]byte{0xFF, m, byte((len(p) + 2) >> 8), byte(len(p) + 2)}, p...)
	}
	e := buf.Bytes()
	out := append([]byte{}, e[:2]...)
	out = append(out, segment(0xE1, append([]byte("Exif\x00\x00"), tiff...))...)
	out = append(out, segment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>"+phototest.GPSMarker+"</x:xmpmeta>"))...)
	out = append(out, e[2:]...)
	if photo.Orientation(out) != int(o) {
		t.Fatalf("the test photo has no orientation %d", o)
	}
	return out
}

// upright is photo.Upright as the server's turning runs it.
func upright(b []byte) ([]byte, error) {
	out, _, err := photo.Upright(b)
	return out, err
}

// reportTurned files a public report with a 64×48 photo held upright
// (orientation 6, with GPS) from address from, and returns the URL the
// staff's case lists it under.
func reportTurned(t *testing.T, w *caseWorld, from string, in []byte) string {
	t.Helper()
	pub := newBrowser(t, w.url)
	pub.from = from
	body, ct := multipartBody(t, reportPart("sanitation", w.inGroup), part{name: "photo", file: "IMG_0002.JPG", body: in})
	resp, out := pub.do("POST", "/api/public/reports", body, "Content-Type", ct)
	if resp.StatusCode != 201 {
		t.Fatalf("report = %d %s", resp.StatusCode, out)
	}
	var id int64
	if err := sqlConn(t, w.dbURL).QueryRow(t.Context(), `SELECT max(id) FROM cases`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	op := w.as(t, fmt.Sprintf("op_turn_%d", id), onemap.RoleOperator, w.township)
	resp, out = op.do("GET", fmt.Sprintf("/api/cases/%d", id), "")
	got := decode[struct {
		Timeline []stepWithPhotos `json:"timeline"`
	}](t, out)
	if resp.StatusCode != 200 || len(got.Timeline) != 1 || len(got.Timeline[0].Photos) != 1 {
		t.Fatalf("case = %d %s", resp.StatusCode, out)
	}
	return got.Timeline[0].Photos[0].URL
}

// servedAsAccepted fails t unless b is the photo as accepted: the sensor's
// 64×48 pixels with an Exif segment that holds orientation 6 alone (36
// bytes), no GPS or description, no XMP.
func servedAsAccepted(t *testing.T, b []byte) {
	t.Helper()
	if photo.Orientation(b) != 6 {
		t.Errorf("the photo as accepted has orientation %d, want 6", photo.Orientation(b))
	}
	if bytes.Contains(b, []byte(phototest.GPSMarker)) || bytes.Contains(b, []byte{0x88, 0x25}) || bytes.Contains(b, []byte("xmpmeta")) {
		t.Error("the photo as accepted keeps its GPS, description or XMP")
	}
	if n := bytes.Count(b, []byte("Exif\x00\x00")); n != 1 || !bytes.Contains(b, []byte{0xFF, 0xE1, 0, 34, 'E', 'x', 'i', 'f'}) {
		t.Errorf("the photo as accepted has %d Exif segments, want one of the orientation alone", n)
	}
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(b)); err != nil || cfg.Width != 64 || cfg.Height != 48 {
		t.Errorf("the photo as accepted is %d×%d (%v), want the sensor's 64×48", cfg.Width, cfg.Height, err)
	}
}

// servedUpright fails t unless b is the photo turned upright: 48×64, no
// Exif at all.
func servedUpright(t *testing.T, b []byte) {
	t.Helper()
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width != 48 || cfg.Height != 64 {
		t.Errorf("served photo %d×%d (%v), want 48×64: upright", cfg.Width, cfg.Height, err)
	}
	if photo.Orientation(b) != 1 || bytes.Contains(b, []byte("Exif\x00\x00")) || bytes.Contains(b, []byte(phototest.GPSMarker)) {
		t.Error("the upright photo keeps an Exif segment")
	}
}

// TestCasePhotos_upright: a public report's photo taken with the phone
// upright (stored landscape, EXIF orientation 6 and a GPS block) is
// accepted without its pixels being touched: until it is turned the staff
// get it with its orientation tag alone (which browsers honour), never its
// GPS, revalidated; once the server's turning has run, upright, portrait,
// with no tag, under the same URL, cached as immutable. The same photo sent
// again is served upright at once and is not turned twice. A photo whose
// frame declares more than photo.MaxPixels is a 400 on the photo.
func TestCasePhotos_upright(t *testing.T) {
	w := startCaseWorld(t)
	cases := postgis.NewCases(w.db, w.clock.Now)
	in := orientedJPEG(t, phototest.Gradient(64, 48, 7), 6)
	url := reportTurned(t, w, "198.51.100.9", in)
	address := url[strings.LastIndex(url, "/")+1:]
	op := w.as(t, "op_upright", onemap.RoleOperator, w.township)

	resp, served := op.do("GET", url, "")
	if resp.StatusCode != 200 {
		t.Fatalf("photo = %d", resp.StatusCode)
	}
	servedAsAccepted(t, served)
	if cc := resp.Header.Get("Cache-Control"); cc != "private, no-cache" {
		t.Errorf("the photo to be turned is cached %q, want revalidated", cc)
	}
	if et := resp.Header.Get("ETag"); et != strconv.Quote(address) {
		t.Errorf("ETag %s, want the address %s", et, address)
	}
	if turns, err := cases.PhotoTurns(t.Context()); err != nil || len(turns) != 1 || turns[0].SHA256 != address || turns[0].Orientation != 6 {
		t.Fatalf("turns waiting = %+v, %v; want the photo's", turns, err)
	}

	turned, failed, err := cases.TurnPhotos(t.Context(), upright)
	if err != nil || turned != 1 || failed != 0 {
		t.Fatalf("TurnPhotos = %d turned, %d failed, %v", turned, failed, err)
	}
	resp, served = op.do("GET", url, "", "If-None-Match", strconv.Quote(address))
	if resp.StatusCode != 200 {
		t.Fatalf("photo turned, revalidated = %d, want 200 with the upright bytes", resp.StatusCode)
	}
	servedUpright(t, served)
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("the upright photo is cached %q, want immutable", cc)
	}
	if et := resp.Header.Get("ETag"); et != strconv.Quote(onemap.NewPhoto(photo.JPEG, served).SHA256) {
		t.Errorf("ETag %s, want the upright bytes' address", et)
	}
	if turns, err := cases.PhotoTurns(t.Context()); err != nil || len(turns) != 0 {
		t.Errorf("turns waiting after the pass = %+v, %v", turns, err)
	}
	var kept *[]byte
	if err := sqlConn(t, w.dbURL).QueryRow(t.Context(), `SELECT bytes FROM photo_blobs WHERE sha256 = $1`, address).Scan(&kept); err != nil || kept != nil {
		t.Errorf("the accepted bytes are kept beside the upright ones (%v)", err)
	}

	// The same photo again: stored already, upright already.
	again := reportTurned(t, w, "198.51.100.10", in)
	if !strings.HasSuffix(again, "/"+address) {
		t.Errorf("the same photo again is listed as %s, want address %s", again, address)
	}
	resp, served = op.do("GET", again, "")
	if resp.StatusCode != 200 {
		t.Fatalf("photo = %d", resp.StatusCode)
	}
	servedUpright(t, served)
	if turns, _ := cases.PhotoTurns(t.Context()); len(turns) != 0 {
		t.Errorf("the same photo again is queued to be turned: %+v", turns)
	}

	huge := bytes.Clone(in)
	sof := bytes.Index(huge, []byte{0xFF, 0xC0})
	huge[sof+5], huge[sof+6], huge[sof+7], huge[sof+8] = 10000>>8, 10000&0xFF, 10000>>8, 10000&0xFF
	pub := newBrowser(t, w.url)
	pub.from = "198.51.100.11"
	body, ct := multipartBody(t, reportPart("sanitation", w.inGroup), part{name: "photo", file: "huge.jpg", body: huge})
	resp, out := pub.do("POST", "/api/public/reports", body, "Content-Type", ct)
	if e := decode[struct {
		Field string `json:"field"`
	}](t, out); resp.StatusCode != 400 || e.Field != "photo" || !bytes.Contains(out, []byte("megapixels")) {
		t.Errorf("a photo of 100 megapixels = %d %s, want 400 on the photo", resp.StatusCode, out)
	}
}

// TestCasePhotos_turnRestart: a server stopped in the middle of a turn
// (its context ended, or its connection cut as when it dies) loses
// nothing: the photo stays as accepted and queued, and the next server
// turns it.
func TestCasePhotos_turnRestart(t *testing.T) {
	w := startCaseWorld(t)
	in := orientedJPEG(t, phototest.Gradient(64, 48, 5), 6)
	url := reportTurned(t, w, "198.51.100.12", in)
	op := w.as(t, "op_restart", onemap.RoleOperator, w.township)

	// Stopped: the context ends while the pixels are being turned.
	ctx, stop := context.WithCancel(t.Context())
	_, _, err := postgis.NewCases(pgtest.Open(t, w.dbURL), w.clock.Now).TurnPhotos(ctx, func(b []byte) ([]byte, error) {
		stop()
		return upright(b)
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("TurnPhotos stopped mid-turn = %v, want context.Canceled", err)
	}
	// Killed: the connection is cut while the pixels are being turned.
	admin := sqlConn(t, w.dbURL)
	_, _, err = postgis.NewCases(pgtest.Open(t, w.dbURL), w.clock.Now).TurnPhotos(t.Context(), func(b []byte) ([]byte, error) {
		var n int
		if err := admin.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND query LIKE '%FROM photo_turns t JOIN%' AND pid <> pg_backend_pid()`).Scan(&n); err != nil || n != 1 {
			t.Errorf("terminating the turning server's session: %d, %v", n, err)
		}
		return upright(b)
	})
	if err == nil {
		t.Fatal("TurnPhotos whose connection was cut mid-turn = nil error")
	}

	cases := postgis.NewCases(pgtest.Open(t, w.dbURL), w.clock.Now)
	turns, err := cases.PhotoTurns(t.Context())
	if err != nil || len(turns) != 1 || turns[0].Attempts != 0 {
		t.Fatalf("turns waiting after two stopped turns = %+v, %v; want the photo's, untried", turns, err)
	}
	resp, served := op.do("GET", url, "")
	if resp.StatusCode != 200 {
		t.Fatalf("photo = %d", resp.StatusCode)
	}
	servedAsAccepted(t, served)

	// The next server.
	turned, failed, err := cases.TurnPhotos(t.Context(), upright)
	if err != nil || turned != 1 || failed != 0 {
		t.Fatalf("TurnPhotos after the restart = %d turned, %d failed, %v", turned, failed, err)
	}
	resp, served = op.do("GET", url, "")
	if resp.StatusCode != 200 {
		t.Fatalf("photo = %d", resp.StatusCode)
	}
	servedUpright(t, served)
}

// TestCasePhotos_turnRetry: a photo whose turn fails (pixels that do not
// decode) is tried again a minute later, then 10 minutes, an hour and a
// day, under the store's clock, and after photo turns' PhotoTurnTries is
// left as accepted, with the error said: still with its orientation tag
// alone and no GPS.
func TestCasePhotos_turnRetry(t *testing.T) {
	w := startCaseWorld(t)
	cases := postgis.NewCases(w.db, w.clock.Now)
	in := orientedJPEG(t, phototest.Gradient(64, 48, 3), 6)
	url := reportTurned(t, w, "198.51.100.13", in)
	tries := 0
	broken := func([]byte) ([]byte, error) {
		tries++
		return nil, errors.New("photo: JPEG does not decode: bad Huffman code")
	}
	pass := func(wantTried bool) {
		t.Helper()
		before := tries
		turned, failed, err := cases.TurnPhotos(t.Context(), broken)
		if err != nil || turned != 0 || failed != tries-before || (tries > before) != wantTried {
			t.Fatalf("at %s: TurnPhotos = %d turned, %d failed, %v; tried %v, want %v", w.clock.Now().Format(time.TimeOnly), turned, failed, err, tries > before, wantTried)
		}
	}
	pass(true)
	for i, wait := range []time.Duration{time.Minute, 10 * time.Minute, time.Hour, 24 * time.Hour} {
		pass(false) // not due yet
		w.clock.Add(wait - time.Second)
		pass(false)
		w.clock.Add(time.Second)
		pass(true)
		turns, _ := cases.PhotoTurns(t.Context())
		if len(turns) != 1 || turns[0].Attempts != i+2 || !strings.Contains(turns[0].LastError, "Huffman") {
			t.Fatalf("after try %d: turns = %+v", i+2, turns)
		}
	}
	turns, _ := cases.PhotoTurns(t.Context())
	if tries != postgis.PhotoTurnTries || !turns[0].DueAt.IsZero() {
		t.Errorf("after %d tries the turn is due %v, want never", tries, turns[0].DueAt)
	}
	w.clock.Add(365 * 24 * time.Hour)
	pass(false)

	op := w.as(t, "op_retry", onemap.RoleOperator, w.township)
	resp, served := op.do("GET", url, "")
	if resp.StatusCode != 200 {
		t.Fatalf("photo = %d", resp.StatusCode)
	}
	servedAsAccepted(t, served)
}
