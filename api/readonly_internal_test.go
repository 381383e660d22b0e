package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
)

// TestWriteErrorReadOnly: a change refused while no primary answers is a
// 503 with Retry-After and the code read_only, and says why, however the
// store wrapped the error.
func TestWriteErrorReadOnly(t *testing.T) {
	gin.SetMode(gin.TestMode)
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest("POST", "/api/cases", nil)
	err := fmt.Errorf("postgis: create case: %w", fmt.Errorf("%w (%w)", onemap.ErrReadOnly, errors.New("read only connection")))
	writeError(c, slog.New(slog.NewTextHandler(io.Discard, nil)), err)
	if w.Code != 503 || w.Header().Get("Retry-After") != "2" {
		t.Fatalf("status %d, Retry-After %q: want 503 and 2", w.Code, w.Header().Get("Retry-After"))
	}
	var body struct{ Error, Code string }
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Code != onemap.EREADONLY || body.Error != onemap.ErrReadOnly.Message {
		t.Errorf("body %s: want code %s and the message of onemap.ErrReadOnly", w.Body, onemap.EREADONLY)
	}
}
