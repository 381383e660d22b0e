package api

import (
	"log/slog"
	"net/http"

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
	case onemap.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case onemap.ETOOMANY:
		return http.StatusTooManyRequests
	case errTooLarge:
		return http.StatusRequestEntityTooLarge
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
	}
	body := gin.H{"error": msg, "code": code}
	if f := onemap.ErrorField(err); f != "" {
		body["field"] = f // for a form to show the message next to the field
	}
	c.AbortWithStatusJSON(status, body)
}
