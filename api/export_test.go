package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// RoutesForTest lists the routes of a handler made by NewServer, for the
// test that calls every route as every role.
func RoutesForTest(h http.Handler) gin.RoutesInfo {
	return h.(*streamHandler).plain.(*gin.Engine).Routes()
}
