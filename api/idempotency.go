package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
)

// idempotencyStore is what exactly-once writes need of the database
// (postgis.DB): the key the write recorded in its own transaction, and the
// first answer kept beside it.
type idempotencyStore interface {
	FindIdempotentAnswer(ctx context.Context, account, key string) (*onemap.IdempotentAnswer, error)
	SaveIdempotentAnswer(ctx context.Context, a onemap.IdempotentAnswer) error
}

// idempotencyHeader names a write with the client's own key (a UUID): the
// same key from the same account is answered with the first answer again,
// never written twice.
const idempotencyHeader = "Idempotency-Key"

// errKeyReused is the transport's own code for a key sent again with
// another request (another route or body): 422.
const errKeyReused = "idempotency_key_reused"

// idempotentBodyLimit bounds the body of a keyed write: a report or a step
// with its photos at most (photoRequestLimit), or a visit.
const idempotentBodyLimit = photoRequestLimit

// idempotent makes the write after it exactly-once for a request with an
// Idempotency-Key (onemap.IdempotentRequest): a key the caller's account
// has used for the same request (method, path, If-Match, body) is answered
// with the first answer, kept in the database, and the handler does not
// run; a key used for another request is refused (422). Otherwise the
// handler runs with the keyed request in its context: the store records
// the key in the write's transaction (the database refuses a second write
// under it, also one racing on another server), and the answer is kept
// once the write has been made. A refusal of 409 is checked again against
// the key, since it may be the loser of two sends of one write racing: it
// is answered with the winner's answer. A request without the header
// passes as it is.
//
// Keys belong to accounts: an anonymous caller's key is refused (401),
// since every anonymous caller would share it.
func (s *Server) idempotent(c *gin.Context) {
	key := c.GetHeader(idempotencyHeader)
	if key == "" {
		return
	}
	caller := callerOf(c)
	err := onemap.CheckIdempotencyKey(key)
	if err == nil && s.idem == nil {
		err = onemap.Errorf(onemap.EUNAVAILABLE, "writes with an Idempotency-Key need the database")
	}
	if err == nil && caller.Name == "" {
		err = onemap.Errorf(onemap.EUNAUTHORIZED, "sign in to send writes with an Idempotency-Key (keys are an account's)")
	}
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, idempotentBodyLimit+1))
	if err == nil && len(body) > idempotentBodyLimit {
		err = &onemap.Error{Code: errTooLarge, Message: fmt.Sprintf("body: more than %d bytes, the most a write with an Idempotency-Key takes", idempotentBodyLimit)}
	}
	if err != nil {
		if onemap.ErrorCode(err) == onemap.EINTERNAL {
			err = onemap.Errorf(onemap.EINVALID, "body: %v", err)
		}
		writeError(c, s.log, err)
		return
	}
	h := sha256.New()
	for _, part := range []string{c.Request.Method, c.Request.URL.Path, c.GetHeader("If-Match")} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(body)
	req := onemap.IdempotentRequest{Key: key, Hash: hex.EncodeToString(h.Sum(nil))}
	ctx := c.Request.Context()
	if s.replayed(c, caller.Name, req) {
		return
	}
	c.Request = c.Request.WithContext(onemap.WithIdempotentRequest(ctx, req))
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	rec := &recorder{ResponseWriter: c.Writer, header: http.Header{}, status: http.StatusOK}
	c.Writer = rec
	c.Next()
	c.Writer = rec.ResponseWriter
	switch {
	case rec.status >= 200 && rec.status < 300:
		// Kept even when the client has gone: that is when it will ask
		// again.
		keep, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err := s.idem.SaveIdempotentAnswer(keep, onemap.IdempotentAnswer{Account: caller.Name, Key: key, Hash: req.Hash,
			Status: rec.status, ContentType: rec.header.Get("Content-Type"), ETag: rec.header.Get("ETag"), Body: rec.body.Bytes()})
		cancel()
		if err != nil {
			s.log.Warn("keeping an idempotent answer", "account", caller.Name, "key", key, "error", err)
		}
	case rec.status == http.StatusConflict:
		if s.replayed(c, caller.Name, req) {
			return
		}
	}
	rec.flush()
}

// replayed answers the request with what the account's key holds, if it
// holds anything, and reports whether it did: the first answer for the
// same request, 422 for another request, 409 (Retry-After) for a write made
// whose answer is not kept (yet).
func (s *Server) replayed(c *gin.Context, account string, req onemap.IdempotentRequest) bool {
	prev, err := s.idem.FindIdempotentAnswer(c.Request.Context(), account, req.Key)
	if onemap.ErrorCode(err) == onemap.ENOTFOUND {
		return false
	}
	switch {
	case err != nil:
	case prev.Hash != req.Hash:
		err = &onemap.Error{Code: errKeyReused, Field: "idempotency_key",
			Message: fmt.Sprintf("Idempotency-Key %q was used for another request (another route or body); a new write needs a new key", req.Key)}
	case prev.Status == 0:
		// Made, but its answer not kept: the other send is about to keep
		// it, or the server stopped in between.
		retryAfter(c, 2*time.Second)
		err = onemap.FieldErrorf("idempotency_key", onemap.ECONFLICT,
			"the write under Idempotency-Key %q has been made (%s); its answer is not kept yet: ask again, or look it up", req.Key, prev.Target)
	}
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			writeError(c, s.log, err)
		}
		c.Abort()
		return true
	}
	h := c.Writer.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Idempotent-Replayed", "true")
	if prev.ETag != "" {
		h.Set("ETag", prev.ETag)
	}
	c.Data(prev.Status, prev.ContentType, prev.Body)
	c.Abort()
	return true
}

// recorder holds a handler's answer (status, headers, body) so that the
// answer can be kept, or replaced, before it is sent.
type recorder struct {
	gin.ResponseWriter
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status = code
	}
}
func (r *recorder) WriteHeaderNow() { r.wrote = true }
func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}
func (r *recorder) WriteString(s string) (int, error) { return r.Write([]byte(s)) }
func (r *recorder) Status() int                       { return r.status }
func (r *recorder) Size() int {
	if !r.wrote {
		return -1
	}
	return r.body.Len()
}
func (r *recorder) Written() bool { return r.wrote }
func (r *recorder) Flush()        {}

// flush sends the held answer.
func (r *recorder) flush() {
	h := r.ResponseWriter.Header()
	for k, v := range r.header {
		h[k] = v
	}
	r.ResponseWriter.WriteHeader(r.status)
	_, _ = r.ResponseWriter.Write(r.body.Bytes())
}
