package api_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// TestGridImport_bodyLimit: a grid import is held to the server's body
// limit (--max-body-bytes), not to the 64 MiB of its old messages: the file
// as the body or as a multipart form, its length told or not, gets 413
// too_large naming the limit (a chunked form got 400 before).
func TestGridImport_bodyLimit(t *testing.T) {
	const limit = 64 << 10
	srv := serve(t, pgtest.URL(t), api.Config{AnonymousRole: onemap.RolePlanner, MaxBodyBytes: limit})
	file := []byte(`{"type":"FeatureCollection","features":[],"pad":"` + strings.Repeat("x", 2*limit) + `"}`)
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "grids.geojson")
	fw.Write(file)
	mw.Close()
	for _, c := range []struct {
		name, contentType string
		body              []byte
		told              bool // Content-Length sent
	}{
		{"the body, its length told", "application/geo+json", file, true},
		{"the body, sent chunked", "application/geo+json", file, false},
		{"a multipart form, its length told", mw.FormDataContentType(), form.Bytes(), true},
		{"a multipart form, sent chunked", mw.FormDataContentType(), form.Bytes(), false},
	} {
		var body io.Reader = bytes.NewReader(c.body)
		if !c.told {
			body = slowBody{body}
		}
		req, _ := http.NewRequest("POST", srv.URL+"/api/grids/import?format=geojson", body)
		req.Header.Set("Content-Type", c.contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if e := decode[errorJSON](t, b); resp.StatusCode != http.StatusRequestEntityTooLarge || e.Code != "too_large" || !strings.Contains(e.Error, "65536") {
			t.Errorf("%s, %d bytes: %d %s; want 413 too_large naming the limit of 65536 bytes", c.name, len(c.body), resp.StatusCode, b)
		}
	}
}
