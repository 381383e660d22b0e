package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
)

// handleHealthz answers while the process serves.
func (s *Server) handleHealthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok", "version": onemap.Version})
}

// handleReadyz answers 200 when the database answers, 503 otherwise, with
// the change-feed position of the replica that tiles are cut from.
func (s *Server) handleReadyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if s.standby != nil {
		s.readyStandby(c)
		return
	}
	seq := s.replica.Snapshot().Seq()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("not ready", "error", err)
		c.Header("Retry-After", "5")
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "database": "unreachable", "replica_seq": seq})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "database": "ok", "replica_seq": seq})
}
