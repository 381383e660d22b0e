package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image/jpeg"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/phototest"
	"github.com/onemapgis/onemap/photo"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
)

// part is one part of a multipart form.
type part struct {
	name, file, ctype string
	body              []byte
}

// multipartBody returns a form of the parts and its Content-Type.
func multipartBody(t testing.TB, parts ...part) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf(`form-data; name=%q`, p.name)
		if p.file != "" {
			disp += fmt.Sprintf(`; filename=%q`, p.file)
		}
		h.Set("Content-Disposition", disp)
		if p.ctype != "" {
			h.Set("Content-Type", p.ctype)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p.body)
	}
	mw.Close()
	return buf.String(), mw.FormDataContentType()
}

func reportPart(category string, at orb.Point) part {
	return part{name: "report", ctype: "application/json",
		body: fmt.Appendf(nil, `{"category":%q,"description":"路灯坏了，附照片","lon":%f,"lat":%f,"phone":"13912340000"}`, category, at[0], at[1])}
}

type stepWithPhotos struct {
	Seq    int    `json:"seq"`
	Action string `json:"action"`
	Photos []struct {
		SHA256      string `json:"sha256"`
		ContentType string `json:"content_type"`
		Size        int    `json:"size"`
		URL         string `json:"url"`
	} `json:"photos"`
}

// TestCasePhotos_publicReport: a villager reports with a JPEG that carries
// EXIF GPS and a PNG with text chunks, as one multipart request; the staff
// who see the case get both photos, without the GPS, under their SHA-256,
// cached as immutable, and every view is in the audit trail; the public's
// follow-up tells how many photos there are and nothing else of them.
func TestCasePhotos_publicReport(t *testing.T) {
	w := startCaseWorld(t)
	pub := newBrowser(t, w.url)
	pub.from = "198.51.100.7"
	jpg := phototest.JPEG(phototest.Gradient(64, 48, 9), 85)
	png := phototest.PNG(phototest.Gradient(16, 16, 3))
	body, ct := multipartBody(t, reportPart("sanitation", w.inGroup),
		part{name: "photo", file: "IMG_0001.JPG", ctype: "image/jpeg", body: jpg},
		part{name: "photo", file: "shot.png", ctype: "application/octet-stream", body: png})
	resp, out := pub.do("POST", "/api/public/reports", body, "Content-Type", ct)
	if resp.StatusCode != 201 {
		t.Fatalf("report with photos = %d %s", resp.StatusCode, out)
	}
	made := decode[struct {
		TrackingCode string `json:"tracking_code"`
	}](t, out)
	code, _ := onemap.ParseTrackingCode(made.TrackingCode)
	k, err := postgis.NewCases(w.db, nil).FindCaseByTracking(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}

	op := w.as(t, "op_photos", onemap.RoleOperator, w.township)
	resp, out = op.do("GET", fmt.Sprintf("/api/cases/%d", k.ID), "")
	if resp.StatusCode != 200 {
		t.Fatalf("case = %d %s", resp.StatusCode, out)
	}
	got := decode[struct {
		Timeline []stepWithPhotos `json:"timeline"`
	}](t, out)
	if len(got.Timeline) != 1 || len(got.Timeline[0].Photos) != 2 {
		t.Fatalf("timeline photos: %s", out)
	}
	for i, p := range got.Timeline[0].Photos {
		resp, img := op.do("GET", p.URL, "")
		if resp.StatusCode != 200 {
			t.Fatalf("photo %d = %d %s", i, resp.StatusCode, img)
		}
		sum := sha256.Sum256(img)
		if hex.EncodeToString(sum[:]) != p.SHA256 || len(img) != p.Size || !strings.HasSuffix(p.URL, p.SHA256) {
			t.Errorf("photo %d: its address is not the SHA-256 of what is served", i)
		}
		for h, want := range map[string]string{"Content-Type": []string{"image/jpeg", "image/png"}[i],
			"ETag": `"` + p.SHA256 + `"`, "Cache-Control": "private, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"} {
			if resp.Header.Get(h) != want {
				t.Errorf("photo %d: %s = %q, want %q", i, h, resp.Header.Get(h), want)
			}
		}
		for _, secret := range []string{phototest.GPSMarker, "Exif\x00\x00", "tEXt", "eXIf", "xap/1.0"} {
			if bytes.Contains(img, []byte(secret)) {
				t.Errorf("photo %d as served still has %q", i, secret)
			}
		}
		if i == 0 {
			if _, err := jpeg.Decode(bytes.NewReader(img)); err != nil {
				t.Errorf("the served JPEG does not decode: %v", err)
			}
		}
		// A revalidation is a 304, and a view too.
		if resp, _ := op.do("GET", p.URL, "", "If-None-Match", `"`+p.SHA256+`"`); resp.StatusCode != 304 {
			t.Errorf("revalidation = %d, want 304", resp.StatusCode)
		}
	}
	views, err := w.db.ListAudit(context.Background(), onemap.AuditFilter{Action: onemap.AuditCasePhotoRead, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(views) != 4 {
		t.Errorf("%d audited views, want 4", len(views))
	}
	for _, v := range views {
		if v.Actor != "op_photos" || v.Target != fmt.Sprintf("cases/%d", k.ID) {
			t.Errorf("audit record %+v", v)
		}
	}

	// The public: a count of its own photos, no address, no URL.
	resp, out = pub.do("GET", "/api/public/reports/"+code, "")
	if resp.StatusCode != 200 || !strings.Contains(string(out), `"photos":2`) || strings.Contains(string(out), got.Timeline[0].Photos[0].SHA256) {
		t.Errorf("public follow-up = %d %s", resp.StatusCode, out)
	}
	// The same photo in another report is stored once and served for both.
	body, ct = multipartBody(t, reportPart("safety", w.inGroup), part{name: "photo", file: "again.jpg", body: jpg})
	if resp, out := pub.do("POST", "/api/public/reports", body, "Content-Type", ct); resp.StatusCode != 201 {
		t.Fatalf("the same photo again = %d %s", resp.StatusCode, out)
	}
}

// TestCasePhotos_refused: a fourth photo, a text file named .jpg, a photo
// over the limit, a broken JPEG and a stray part are refused with the part
// named, and no case is written.
func TestCasePhotos_refused(t *testing.T) {
	w := startCaseWorld(t)
	store := postgis.NewCases(w.db, nil)
	small := phototest.JPEG(phototest.Gradient(8, 8, 1), 70)
	photo := func(name string, b []byte) part { return part{name: "photo", file: name, ctype: "image/jpeg", body: b} }
	big := append(bytes.Clone(small[:len(small)-2]), make([]byte, onemap.PhotoMaxBytes)...)
	for _, tc := range []struct {
		name   string
		parts  []part
		status int
		field  string
		says   string
	}{
		{"four photos", []part{reportPart("other", w.inGroup), photo("1.jpg", small), photo("2.jpg", small), photo("3.jpg", small), photo("4.jpg", small)}, 400, "photo", "at most 3"},
		{"text as jpg", []part{reportPart("other", w.inGroup), photo("1.jpg", small), photo("notes.jpg", []byte("这其实是一个文本文件\n"))}, 415, "photo", "photo 2"},
		{"too large", []part{reportPart("other", w.inGroup), photo("big.jpg", big)}, 413, "photo", "5 MB"},
		{"broken jpeg", []part{reportPart("other", w.inGroup), photo("cut.jpg", small[:len(small)/2])}, 400, "photo", "cut.jpg"},
		{"stray part", []part{reportPart("other", w.inGroup), {name: "file", body: small}}, 400, "file", "file"},
		{"no report", []part{photo("1.jpg", small)}, 400, "report", "report"},
		{"bad report", []part{{name: "report", body: []byte(`{"category":"other","description":"x","lon":999,"lat":25}`)}, photo("1.jpg", small)}, 400, "lon", ""},
	} {
		pub := newBrowser(t, w.url)
		pub.from = "203.0.113." + fmt.Sprint(len(tc.name))
		body, ct := multipartBody(t, tc.parts...)
		resp, out := pub.do("POST", "/api/public/reports", body, "Content-Type", ct)
		e := decode[fieldError](t, out)
		if resp.StatusCode != tc.status || e.Field != tc.field || !strings.Contains(string(out), tc.says) {
			t.Errorf("%s = %d %s, want %d naming %q", tc.name, resp.StatusCode, out, tc.status, tc.field)
		}
	}
	if list, err := store.ListCases(context.Background(), onemap.CaseFilter{}); err != nil || len(list) != 0 {
		t.Errorf("refused reports wrote %d cases (%v)", len(list), err)
	}
}

// TestCasePhotos_access: a case's photos go to those who see the case, as
// the case itself does: not to a grid worker or viewer of another grid,
// not to the public, not under another case's id; a handler's photos go on
// its step, and the public's count stays its own.
func TestCasePhotos_access(t *testing.T) {
	w := startCaseWorld(t)
	pub := newBrowser(t, w.url)
	pub.from = "198.51.100.9"
	body, ct := multipartBody(t, reportPart("public_order", w.inGroup), part{name: "photo", file: "a.jpg", body: phototest.JPEG(phototest.Gradient(20, 20, 5), 80)})
	resp, out := pub.do("POST", "/api/public/reports", body, "Content-Type", ct)
	if resp.StatusCode != 201 {
		t.Fatalf("report = %d %s", resp.StatusCode, out)
	}
	code := decode[struct {
		TrackingCode string `json:"tracking_code"`
	}](t, out).TrackingCode
	store := postgis.NewCases(w.db, nil)
	canon, _ := onemap.ParseTrackingCode(code)
	k, err := store.FindCaseByTracking(context.Background(), canon)
	if err != nil {
		t.Fatal(err)
	}
	photos, err := store.CasePhotos(context.Background(), k.ID)
	if err != nil || len(photos) != 1 {
		t.Fatalf("photos %v %v", photos, err)
	}
	url := fmt.Sprintf("/api/cases/%d/photos/%s", k.ID, photos[0].SHA256)

	// A second case elsewhere, to ask for the first one's photo under it.
	other, err := store.CreateCase(onemap.NewContext(context.Background(), onemap.Caller{Role: onemap.RolePublic, Client: "192.0.2.9"}),
		onemap.CaseReport{Source: onemap.SourcePublic, Category: "other", Description: "别处", Point: w.inOther})
	if err != nil {
		t.Fatal(err)
	}
	cmd := w.as(t, "cmd_photos", onemap.RoleCommander, 0)
	for who, b := range map[string]*browser{
		"public":                   newBrowser(t, w.url),
		"grid worker of elsewhere": w.as(t, "gw_other", onemap.RoleGridWorker, w.other),
		"viewer of elsewhere":      w.as(t, "v_other", onemap.RoleViewer, w.other),
		"operator of elsewhere":    w.as(t, "op_other", onemap.RoleOperator, w.other),
	} {
		if resp, out := b.do("GET", url, ""); resp.StatusCode != 401 && resp.StatusCode != 403 && resp.StatusCode != 404 || bytes.Contains(out, []byte{0xFF, 0xD8}) {
			t.Errorf("%s got the photo: %d %.100q", who, resp.StatusCode, out)
		}
	}
	if resp, _ := cmd.do("GET", fmt.Sprintf("/api/cases/%d/photos/%s", other.ID, photos[0].SHA256), ""); resp.StatusCode != 404 {
		t.Errorf("the photo under another case's id = %d, want 404", resp.StatusCode)
	}
	if resp, out := cmd.do("GET", fmt.Sprintf("/api/cases/%d/photos/%s", k.ID, strings.ToUpper(photos[0].SHA256)), ""); resp.StatusCode != 400 || decode[fieldError](t, out).Field != "sha256" {
		t.Errorf("a malformed address = %d %s", resp.StatusCode, out)
	}
	if views, _ := w.db.ListAudit(context.Background(), onemap.AuditFilter{Action: onemap.AuditCasePhotoRead, Limit: 10}); len(views) != 0 {
		t.Errorf("refused views were audited as views: %d", len(views))
	}

	// The village's grid worker handles it with a photo of the work.
	op := w.as(t, "op_shishan", onemap.RoleOperator, w.township)
	gw := w.as(t, "gw_group", onemap.RoleGridWorker, w.group)
	act := func(b *browser, body, ct string) (int, []byte) {
		resp, out := b.do("POST", fmt.Sprintf("/api/cases/%d/actions", k.ID), body, "X-CSRF-Token", b.csrf, "Content-Type", ct)
		return resp.StatusCode, out
	}
	for i, s := range []string{`{"action":"accept","version":1}`, fmt.Sprintf(`{"action":"assign","version":2,"grid_id":%d}`, w.group)} {
		if st, out := act(op, s, "application/json"); st != 200 {
			t.Fatalf("step %d = %d %s", i, st, out)
		}
	}
	done := phototest.PNG(phototest.Gradient(12, 12, 7))
	body, ct = multipartBody(t, part{name: "report", body: []byte(`{"action":"handle","version":3,"note":"已修好，见照片"}`)},
		part{name: "photo", file: "done.png", body: done})
	if st, out := act(gw, body, ct); st != 200 {
		t.Fatalf("handle with a photo = %d %s", st, out)
	}
	// A step with a bad photo is not taken.
	body, ct = multipartBody(t, part{name: "report", body: []byte(`{"action":"handle","version":4,"note":"再拍一张"}`)},
		part{name: "photo", file: "x.jpg", body: []byte("GIF89a not a photo we take")})
	if st, out := act(gw, body, ct); st != 415 {
		t.Errorf("a step with a GIF = %d %s", st, out)
	}
	resp, out = gw.do("GET", fmt.Sprintf("/api/cases/%d", k.ID), "")
	tl := decode[struct {
		Version  int              `json:"version"`
		Timeline []stepWithPhotos `json:"timeline"`
	}](t, out)
	if resp.StatusCode != 200 || tl.Version != 4 || len(tl.Timeline) != 4 || len(tl.Timeline[0].Photos) != 1 || len(tl.Timeline[3].Photos) != 1 ||
		tl.Timeline[3].Photos[0].ContentType != "image/png" {
		t.Fatalf("timeline after the handler's photo: %d %s", resp.StatusCode, out)
	}
	if resp, _ := gw.do("GET", tl.Timeline[3].Photos[0].URL, ""); resp.StatusCode != 200 {
		t.Errorf("the handler's own photo = %d", resp.StatusCode)
	}
	// The public still counts its own photo only, and never gets the staff's.
	if resp, out := pub.do("GET", "/api/public/reports/"+code, ""); !strings.Contains(string(out), `"photos":1`) || bytes.Contains(out, []byte(tl.Timeline[3].Photos[0].SHA256)) {
		t.Errorf("public follow-up = %d %s", resp.StatusCode, out)
	}
	if resp, _ := newBrowser(t, w.url).do("GET", tl.Timeline[3].Photos[0].URL, ""); resp.StatusCode != 401 {
		t.Errorf("the handler's photo to the public = %d, want 401", resp.StatusCode)
	}
}

// TestCases_spam: an operator marks a report spam: it is refused with the
// reason spam, counted by its step; a grid worker may not, and a case past
// reported cannot be.
func TestCases_spam(t *testing.T) {
	w := startCaseWorld(t)
	pub := newBrowser(t, w.url)
	pub.from = "198.51.100.30"
	var ids []int64
	store := postgis.NewCases(w.db, nil)
	for i := range 2 {
		resp, out := pub.do("POST", "/api/public/reports", reportJSON("other", w.inGroup, ""))
		if resp.StatusCode != 201 {
			t.Fatalf("report %d = %d %s", i, resp.StatusCode, out)
		}
		code, _ := onemap.ParseTrackingCode(decode[struct {
			TrackingCode string `json:"tracking_code"`
		}](t, out).TrackingCode)
		k, err := store.FindCaseByTracking(context.Background(), code)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, k.ID)
	}
	op := w.as(t, "op_spam", onemap.RoleOperator, w.township)
	gw := w.as(t, "gw_spam", onemap.RoleGridWorker, w.group)
	if resp, out := gw.do("POST", fmt.Sprintf("/api/cases/%d/actions", ids[0]), `{"action":"spam","version":1}`, "X-CSRF-Token", gw.csrf); resp.StatusCode != 403 {
		t.Errorf("a grid worker marks spam = %d %s", resp.StatusCode, out)
	}
	resp, out := op.do("POST", fmt.Sprintf("/api/cases/%d/actions", ids[0]), `{"action":"spam","version":1}`, "X-CSRF-Token", op.csrf)
	got := decode[struct {
		Case caseOut `json:"case"`
		Step struct {
			Action string `json:"action"`
			Note   string `json:"note"`
		} `json:"step"`
	}](t, out)
	if resp.StatusCode != 200 || got.Case.Status != "refused" || got.Step.Action != "spam" || got.Step.Note != "spam" {
		t.Fatalf("spam = %d %s", resp.StatusCode, out)
	}
	if resp, out := op.do("POST", fmt.Sprintf("/api/cases/%d/actions", ids[1]), `{"action":"accept","version":1}`, "X-CSRF-Token", op.csrf); resp.StatusCode != 200 {
		t.Fatalf("accept = %d %s", resp.StatusCode, out)
	}
	if resp, out := op.do("POST", fmt.Sprintf("/api/cases/%d/actions", ids[1]), `{"action":"spam","version":2}`, "X-CSRF-Token", op.csrf); resp.StatusCode != 400 || decode[fieldError](t, out).Field != "action" {
		t.Errorf("spam of an accepted case = %d %s", resp.StatusCode, out)
	}
	steps, err := store.CaseTimeline(context.Background(), ids[0])
	if err != nil || len(steps) != 2 || steps[1].Action != onemap.ActSpam {
		t.Errorf("timeline %+v %v", steps, err)
	}
}

// matrixPhotoMarker is in the bytes of matrixPhoto, in a private chunk
// stripping keeps, so that the access matrix sees who gets the photo.
const matrixPhotoMarker = "matrix-photo-8c1f0e"

// matrixPhoto is the photo of the access matrix's case: a PNG, stripped.
func matrixPhoto() onemap.Photo {
	b := phototest.PNG(phototest.Gradient(6, 6, 6))
	const ihdrEnd = 8 + 12 + 13
	b = append(append(bytes.Clone(b[:ihdrEnd]), phototest.Chunk("prVt", []byte(matrixPhotoMarker))...), b[ihdrEnd:]...)
	ct, clean, err := photo.Strip(b)
	if err != nil || !bytes.Contains(clean, []byte(matrixPhotoMarker)) {
		panic(fmt.Sprintf("matrix photo: %v", err))
	}
	return onemap.NewPhoto(ct, clean)
}
