package api_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// slowBody is a body of unknown length (sent chunked), so that only reading
// it finds out how long it is.
type slowBody struct{ r io.Reader }

func (b slowBody) Read(p []byte) (int, error) { return b.r.Read(p) }

func TestLimitBody(t *testing.T) {
	srv := serve(t, pgtest.URL(t), api.Config{AnonymousRole: onemap.RoleCommander, MaxBodyBytes: 4096})
	polygon := `{"geometry":{"type":"Polygon","coordinates":[[[102.3,25.4],[102.5,25.4],[102.5,25.6],[102.3,25.4]]]}}`
	post := func(body io.Reader, length int64) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/api/within", body)
		req.ContentLength = length
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	if resp, body := post(strings.NewReader(polygon), int64(len(polygon))); resp.StatusCode != 200 {
		t.Fatalf("a small body: %d %s", resp.StatusCode, body)
	}
	big := polygon[:len(polygon)-1] + `,"pad":"` + strings.Repeat("x", 8000) + `"}`
	resp, body := post(strings.NewReader(big), int64(len(big)))
	if e := decode[errorJSON](t, body); resp.StatusCode != 413 || e.Code != "too_large" || !strings.Contains(e.Error, "4096") {
		t.Errorf("a body past the limit = %d %s; want 413 too_large naming the limit", resp.StatusCode, body)
	}
	// A body that does not say its length is cut off where it passes the
	// limit: a client error, never a server error.
	resp, body = post(slowBody{strings.NewReader(big)}, -1)
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Errorf("a chunked body past the limit = %d %s; want a 4xx", resp.StatusCode, body)
	}
}
