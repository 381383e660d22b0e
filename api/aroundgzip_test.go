package api_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
)

// TestAround_gzipped holds a large /api/around answer to what the server's
// JSON wrapper gives: gzipped for a client that accepts gzip, to the same
// JSON as the plain answer, with Vary: Accept-Encoding once, and sent with
// its length (not chunked); a client that also accepts zstd gets the
// wrapper's zstd; a small answer goes as it is.
func TestAround_gzipped(t *testing.T) {
	srv := newServer(t, onemap.RoleCommander)
	const big = "/api/around?lon=102.4&lat=25.53&radius=3000"
	resp, plain := get(t, srv.URL+big)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("plain: status %d, Content-Encoding %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	if len(plain) < 8<<10 {
		t.Fatalf("the answer at %s is %d bytes: too small to gzip", big, len(plain))
	}
	resp, body := get(t, srv.URL+big, "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip: Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	if v := resp.Header.Values("Vary"); strings.Count(strings.Join(v, ","), "Accept-Encoding") != 1 {
		t.Errorf("gzip: Vary %q, want Accept-Encoding once", v)
	}
	if n := resp.Header.Get("Content-Length"); n != strconv.Itoa(len(body)) || len(resp.TransferEncoding) > 0 {
		t.Errorf("gzip: Content-Length %q, Transfer-Encoding %q for %d bytes: want the length, not chunked", n, resp.TransferEncoding, len(body))
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(unzipped, plain) {
		t.Errorf("gzipped answer is not the plain one:\n%.300s\n%.300s", unzipped, plain)
	}
	resp, _ = get(t, srv.URL+big, "Accept-Encoding", "gzip, deflate, br, zstd")
	if resp.Header.Get("Content-Encoding") != "zstd" {
		t.Errorf("zstd and gzip accepted: Content-Encoding %q, want the wrapper's zstd", resp.Header.Get("Content-Encoding"))
	}
	resp, body = get(t, srv.URL+"/api/around?lon=102.4&lat=25.53&radius=50", "Accept-Encoding", "gzip")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "" || len(body) >= 8<<10 {
		t.Errorf("small: status %d, Content-Encoding %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Encoding"), len(body))
	}
}
