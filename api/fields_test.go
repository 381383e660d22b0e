package api_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/onemapgis/onemap"
)

// featureLists returns, of a nearby or around answer, each layer's features
// as decoded JSON objects.
func featureLists(t *testing.T, body []byte) map[string][]map[string]any {
	t.Helper()
	var a struct {
		Layers map[string]struct {
			Features []map[string]any `json:"features"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("%v: %.300s", err, body)
	}
	out := map[string][]map[string]any{}
	for id, l := range a.Layers {
		if l.Features != nil {
			out[id] = l.Features
		}
	}
	return out
}

// keepOnly deletes from each feature's properties every member but those
// named.
func keepOnly(lists map[string][]map[string]any, names ...string) {
	for _, fs := range lists {
		for _, f := range fs {
			props := f["properties"].(map[string]any)
			maps.DeleteFunc(props, func(k string, _ any) bool { return !slices.Contains(names, k) })
		}
	}
}

// TestPointQueries_fields checks fields= on /api/nearby and /api/around:
// the answer is the full answer with the other properties left out (same
// features, same values, masks and all), and a name that is not a field the
// caller sees of the layers is a 400 with field "fields" that names it.
func TestPointQueries_fields(t *testing.T) {
	srv := newServer(t, onemap.RoleCommander)
	for _, q := range []string{
		"/api/nearby?" + seat + "&layers=cameras,stations&k=20",
		"/api/around?" + seat + "&radius=800",
	} {
		_, full := get(t, srv.URL+q)
		resp, some := get(t, srv.URL+q+"&fields=name,status,,name")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", q, resp.StatusCode, some)
		}
		want, got := featureLists(t, full), featureLists(t, some)
		if len(want) == 0 || len(want["cameras"]) == 0 {
			t.Fatalf("%s: no cameras listed: %.300s", q, full)
		}
		keepOnly(want, "name", "status", "layer", "distance_m")
		if !jsonEqual(t, got, want) {
			t.Errorf("%s&fields=name,status:\n got %.600v\nwant %.600v", q, got, want)
		}
		// The rest of the answer (counts, grids, the point) is as it was.
		var a, b map[string]any
		json.Unmarshal(full, &a)
		json.Unmarshal(some, &b)
		delete(a, "layers")
		delete(b, "layers")
		if !jsonEqual(t, a, b) {
			t.Errorf("%s: fields= changed the rest of the answer", q)
		}
	}
	// The viewer sees the households' personal fields masked, and so with
	// fields= too.
	viewer := newServer(t, onemap.RoleViewer)
	q := "/api/nearby?" + seat + "&layers=households&k=5"
	_, full := get(t, viewer.URL+q)
	_, some := get(t, viewer.URL+q+"&fields=responsible_name,responsible_phone")
	want, got := featureLists(t, full), featureLists(t, some)
	keepOnly(want, "responsible_name", "responsible_phone", "layer", "distance_m")
	if !jsonEqual(t, got, want) || len(got["households"]) != 5 {
		t.Errorf("viewer households fields=:\n got %v\nwant %v", got, want)
	}
	for _, f := range got["households"] {
		if name, _ := f["properties"].(map[string]any)["responsible_name"].(string); !strings.Contains(name, "*") {
			t.Errorf("viewer sees responsible_name %q unmasked", name)
		}
	}
}

// TestPointQueries_fieldsHide checks that fields= never reveals a member
// the access policy hides: the public may not see the stations' system
// fields (created_by and the like), and asking for one is refused exactly
// as asking for a field that does not exist, so that the answer tells
// nothing of it.
func TestPointQueries_fieldsHide(t *testing.T) {
	pub := newServer(t, onemap.RolePublic)
	_, full := get(t, pub.URL+"/api/nearby?"+seat+"&layers=stations")
	for _, f := range featureLists(t, full)["stations"] {
		if _, ok := f["properties"].(map[string]any)["created_by"]; ok {
			t.Fatalf("the public sees created_by: %v", f)
		}
	}
	for _, c := range []struct{ query, name string }{
		{"&fields=created_by", "created_by"},
		{"&fields=name,updated_by", "updated_by"},
		{"&fields=no_such_field", "no_such_field"},
		{"&fields=worker_phone", "worker_phone"}, // a grid's field, not a station's
	} {
		resp, body := get(t, pub.URL+"/api/nearby?"+seat+"&layers=stations"+c.query)
		e := decode[errorJSON](t, body)
		if resp.StatusCode != 400 || e.Field != "fields" || e.Error != `fields: "`+c.name+`" is not a field of stations` {
			t.Errorf("public fields %s: %d %s", c.query, resp.StatusCode, body)
		}
	}
	resp, body := get(t, pub.URL+"/api/nearby?"+seat+"&layers=stations&fields=name")
	lists := featureLists(t, body)
	if resp.StatusCode != 200 || len(lists["stations"]) != 10 {
		t.Fatalf("public fields=name: %d %.300s", resp.StatusCode, body)
	}
	for _, f := range lists["stations"] {
		keys := slices.Sorted(maps.Keys(f["properties"].(map[string]any)))
		if !slices.Equal(keys, []string{"distance_m", "layer", "name"}) {
			t.Errorf("public fields=name: properties %v", keys)
		}
	}
	// An empty list is refused too.
	if resp, body := get(t, pub.URL+"/api/nearby?"+seat+"&fields="); resp.StatusCode != 400 || decode[errorJSON](t, body).Field != "fields" {
		t.Errorf("fields= empty: %d %s", resp.StatusCode, body)
	}
	// Around: the public reads stations only.
	if resp, body := get(t, pub.URL+"/api/around?"+seat+"&fields=created_at"); resp.StatusCode != 400 || decode[errorJSON](t, body).Field != "fields" {
		t.Errorf("public around fields=created_at: %d %s", resp.StatusCode, body)
	}
}

// jsonEqual reports whether a and b encode to the same JSON.
func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	x, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(x) == string(y)
}

// TestNearby_contentLength checks the wire form of /api/nearby: an answer
// under the gzip threshold goes with its Content-Length, not chunked; a
// larger one asked with gzip comes gzipped, whole, and with no stale
// length.
func TestNearby_contentLength(t *testing.T) {
	srv := newServer(t, onemap.RoleCommander)
	resp, body := get(t, srv.URL+"/api/nearby?"+seat+"&layers=cameras&k=10", "Accept-Encoding", "gzip")
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 ||
		resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("k=10: %d, Content-Length %d for %d bytes, Transfer-Encoding %v, Content-Encoding %q", resp.StatusCode,
			resp.ContentLength, len(body), resp.TransferEncoding, resp.Header.Get("Content-Encoding"))
	}
	if len(featureLists(t, body)["cameras"]) != 10 {
		t.Fatalf("k=10: %.300s", body)
	}
	resp, body = get(t, srv.URL+"/api/nearby?"+seat+"&layers=cameras&k=100", "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.ContentLength != -1 && resp.ContentLength != int64(len(body)) {
		t.Fatalf("k=100: Content-Encoding %q, Content-Length %d for %d bytes", resp.Header.Get("Content-Encoding"), resp.ContentLength, len(body))
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if len(featureLists(t, plain)["cameras"]) != 100 {
		t.Errorf("k=100 gzipped: %.300s", plain)
	}
}
