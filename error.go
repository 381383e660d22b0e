package onemap

import (
	"errors"
	"fmt"
)

// Application error codes. The HTTP layer maps each to one status.
const (
	ECONFLICT     = "conflict"
	EINTERNAL     = "internal"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	EUNAVAILABLE  = "unavailable"
	ETOOMANY      = "too_many_requests" // a client or account asks too often; Retry-After says when to come back
)

// Error is an error a caller may act on: Code says what kind, Message says
// what and where in words safe to show to the user. Err, if set, is the cause.
type Error struct {
	Code    string
	Message string
	Field   string // the field a refused value was given for, if any
	// Feature and Line locate a refusal about one feature of a file (an
	// import): its 1-based number and the 1-based line it starts on; 0:
	// none (a Shapefile has no lines).
	Feature, Line int
	Err           error
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("onemap error: code=%s message=%s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("onemap error: code=%s message=%s", e.Code, e.Message)
}

// Unwrap returns the cause, so that errors.Is sees through an Error.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// FieldErrorf is Errorf for a value refused for field: the answer names it,
// so that a form can show the message next to it.
func FieldErrorf(field, code string, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorField returns the field of the first *Error in err's chain, or "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic message for any other error.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorPlace returns the feature and line of the first *Error in err's
// chain (ImportFeature.Errorf), zeros when it has none.
func ErrorPlace(err error) (feature, line int) {
	var e *Error
	if errors.As(err, &e) {
		return e.Feature, e.Line
	}
	return 0, 0
}

// Conflict is the cause of an ECONFLICT error of a write based on a version
// that is no longer the current one (an If-Match that went stale): the
// version the write was based on, the current version (0: the thing is not
// made yet) and the current thing itself. The transport answers it 412 with
// the current version as the ETag and the current thing as it renders it
// (Body; nil when there is none), so that a client can show what changed
// and try again.
type Conflict struct {
	Based   int
	Version int
	// Current is the current thing as the store returned it (a *Grid, a
	// *Dispute, a *Feature), for the transport to render into Body.
	Current any
	// Body is Current as the caller may see it, set by the transport
	// before the error is answered.
	Body any
}

// Error implements error.
func (e *Conflict) Error() string {
	return fmt.Sprintf("based on version %d, now at version %d", e.Based, e.Version)
}

// ConflictOf returns the Conflict in err's chain, or nil.
func ConflictOf(err error) *Conflict {
	var c *Conflict
	if errors.As(err, &c) {
		return c
	}
	return nil
}
