package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
)

// errMethod is the transport's own code for a method a route does not take.
const errMethod = "method_not_allowed"

// statusOf maps each error code to its HTTP status: the one place where
// errors become statuses.
func statusOf(code string) int {
	switch code {
	case onemap.EINVALID:
		return http.StatusBadRequest
	case onemap.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case onemap.EFORBIDDEN:
		return http.StatusForbidden
	case onemap.ENOTFOUND:
		return http.StatusNotFound
	case errMethod:
		return http.StatusMethodNotAllowed
	case onemap.ECONFLICT:
		return http.StatusConflict
	case onemap.EUNAVAILABLE, onemap.EREADONLY:
		return http.StatusServiceUnavailable
	case onemap.ETOOMANY:
		return http.StatusTooManyRequests
	case errTooLarge:
		return http.StatusRequestEntityTooLarge
	case errUnsupportedType:
		return http.StatusUnsupportedMediaType
	case errKeyReused:
		return http.StatusUnprocessableEntity
	case errPreconditionRequired:
		return http.StatusPreconditionRequired
	}
	return http.StatusInternalServerError
}

// writeError answers with the status and JSON body of err:
// {"error": "what and where", "code": "invalid"}. Internal errors are logged
// with their detail and answered with a generic message.
func writeError(c *gin.Context, log *slog.Logger, err error) {
	code := onemap.ErrorCode(err)
	status := statusOf(code)
	msg := onemap.ErrorMessage(err)
	switch code {
	case onemap.EINTERNAL:
		log.Error("request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "error", err)
		msg = "internal error"
	case onemap.EUNAVAILABLE:
		log.Warn("request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "error", err)
		c.Header("Retry-After", "5")
	case onemap.EREADONLY: // no primary (onemap.ErrReadOnly): a promotion takes seconds
		log.Warn("request refused: no primary database", "method", c.Request.Method, "path", c.Request.URL.Path, "error", err)
		c.Header("Retry-After", "2")
	}
	body := gin.H{"error": msg, "code": code}
	if f := onemap.ErrorField(err); f != "" {
		body["field"] = f // for a form to show the message next to the field
	}
	withPlace(body, err)
	if cf := onemap.ConflictOf(err); cf != nil && code == onemap.ECONFLICT {
		// A write based on a version that is no longer current: 412 with
		// the current version as the ETag and the thing as it is now, as
		// the handler rendered it for the caller (Conflict.Body).
		status = http.StatusPreconditionFailed
		body["based_on"] = cf.Based
		if cf.Body != nil { // an assessment's subject is not sent again
			body["current"] = cf.Body
		}
		if cf.Version > 0 {
			c.Header("ETag", strconv.Quote(strconv.Itoa(cf.Version)))
		}
	}
	c.AbortWithStatusJSON(status, body)
}

// withPlace adds to the error answer body where in a file err is, for a
// refusal about one feature of it (onemap.ErrorPlace): "feature", 1-based,
// and, where the format has lines, "line" on which it starts.
func withPlace(body gin.H, err error) {
	if feature, line := onemap.ErrorPlace(err); feature > 0 {
		body["feature"] = feature
		if line > 0 {
			body["line"] = line
		}
	}
}

// jsonBody says how decodeJSON reads a request's body.
type jsonBody struct {
	// Limit bounds the body in bytes: a longer one is refused (413) before
	// any of it is decoded. The server's own limit (limitBody) applies too.
	Limit int64
	// Optional lets an empty body leave the value as it is.
	Optional bool
	// Strict refuses members the value has no field for.
	Strict bool
	// Want says what the body should be, for the message of a bad one.
	Want string
}

// decodeJSON reads the request's body, at most o.Limit bytes, as one JSON
// value into v, numbers as json.Number where v takes any. It is the one
// place where the API decodes a JSON body: a body past the limit is a
// too_large error (413); a body that is not UTF-8 (which Go would read with
// U+FFFD in place of the bad bytes, silently), is not JSON, has a value of
// the wrong type or has anything but white space after its value is an
// EINVALID error (400) that says what and where.
func decodeJSON(c *gin.Context, v any, o jsonBody) error {
	want := ""
	if o.Want != "" {
		want = " (want " + o.Want + ")"
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, o.Limit))
	if err != nil {
		var me *http.MaxBytesError
		if errors.As(err, &me) {
			return &onemap.Error{Code: errTooLarge, Message: fmt.Sprintf("body: more than %d bytes, the most this request takes", me.Limit)}
		}
		return onemap.Errorf(onemap.EINVALID, "body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if o.Optional {
			return nil
		}
		return onemap.Errorf(onemap.EINVALID, "body: a JSON value is required%s", want)
	}
	if !utf8.Valid(body) {
		at := 0
		for at < len(body) {
			r, size := utf8.DecodeRune(body[at:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			at += size
		}
		return onemap.Errorf(onemap.EINVALID, "body: byte %d is not UTF-8; send JSON in UTF-8", at+1)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if o.Strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return onemap.Errorf(onemap.EINVALID, "body: JSON syntax error at byte %d: %v%s", se.Offset, err, want)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return onemap.FieldErrorf(te.Field, onemap.EINVALID, "body: %q should be a %s, not a %s", te.Field, te.Type, te.Value)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return onemap.Errorf(onemap.EINVALID, "body: the JSON ends too early%s", want)
		}
		return onemap.Errorf(onemap.EINVALID, "body: %v%s", err, want)
	}
	if rest := bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return onemap.Errorf(onemap.EINVALID, "body: byte %d: more after the JSON value (%.20q); send one JSON value", len(body)-len(rest)+1, rest)
	}
	return nil
}
