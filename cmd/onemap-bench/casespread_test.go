package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestSpreadStream: the stream reader records the first event of each
// case and op of layer cases, skips other layers, comments and a repeated
// event, and wait gives up at its deadline on an event that never came.
func TestSpreadStream(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, ": hello\n\n")
		fmt.Fprint(w, "event: change\ndata: {\"seq\":1,\"layer\":\"grids\",\"id\":7,\"op\":\"update\"}\n\n")
		fmt.Fprint(w, "event: change\ndata: {\"seq\":2,\"layer\":\"cases\",\"id\":7,\"op\":\"insert\",\"properties\":{\"status\":\"reported\"}}\n\n")
		fmt.Fprint(w, "event: change\ndata: {\"seq\":3,\"layer\":\"cases\",\"id\":7,\"op\":\"update\"}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	c := &spreadClient{base: srv.URL, c: srv.Client()}
	a, stop, err := c.stream(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	far := time.Now().Add(time.Minute)
	if _, ok := a.wait(spreadKey{7, "insert"}, far); !ok {
		t.Error("the report's event was not seen")
	}
	if _, ok := a.wait(spreadKey{7, "update"}, far); !ok {
		t.Error("the step's event was not seen")
	}
	if _, ok := a.wait(spreadKey{8, "insert"}, time.Now()); ok {
		t.Error("an event never sent was seen")
	}
	a.mu.Lock()
	n := len(a.at)
	a.mu.Unlock()
	if n != 2 {
		t.Errorf("%d events recorded, want 2 (the grid's skipped)", n)
	}
}
