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

// WaitRepackedForTest waits until the tiles that a handler made by
// NewServer queued to be gzipped again so far are done
// (tiles.Service.WaitRepacked).
func WaitRepackedForTest(h http.Handler) {
	h.(*streamHandler).server.tiles.WaitRepacked()
}
