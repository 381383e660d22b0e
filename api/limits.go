package api

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
)

// DefaultMaxBodyBytes bounds a request's body unless Config.MaxBodyBytes
// says otherwise.
const DefaultMaxBodyBytes = 16 << 20

// errTooLarge is the transport's own code for a body past the limit (413).
const errTooLarge = "too_large"

// limitBody refuses a body that announces more than the limit, and cuts off
// one that turns out longer while it is read (the handler's read fails), so
// that no request makes the server hold more than the limit. Slow clients
// are the http.Server's to cut off (ReadHeaderTimeout, ReadTimeout,
// WriteTimeout; see cmd/onemap).
func (s *Server) limitBody() gin.HandlerFunc {
	limit := s.cfg.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	return func(c *gin.Context) {
		if c.Request.ContentLength > limit {
			// The connection closes after the answer: the rest of the body is
			// not read.
			c.Header("Connection", "close")
			writeError(c, s.log, &onemap.Error{Code: errTooLarge,
				Message: fmt.Sprintf("the request body is %d bytes, more than the %d this server takes", c.Request.ContentLength, limit)})
			return
		}
		if c.Request.Body != nil && c.Request.Body != http.NoBody {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		}
		c.Next()
	}
}
