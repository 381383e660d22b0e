package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
)

// addRoutes lists the whole URL surface.
func (s *Server) addRoutes(r *gin.Engine) {
	r.GET("/healthz", s.handleHealthz)
	r.GET("/readyz", s.handleReadyz)

	r.GET("/api/region", s.handleRegion)
	r.GET("/api/regions", s.handleRegions)
	r.GET("/api/layers", s.handleLayersList)
	r.GET("/api/layers/:layer", s.handleLayerGet)
	r.GET("/api/layers/:layer/features", s.handleFeaturesList)
	r.GET("/api/layers/:layer/features/:id", s.handleFeatureGet)

	s.addQueryRoutes(r)
	s.addSessionRoutes(r)
	r.GET("/api/purposes", s.handlePurposes)
	s.addPublicRoutes(r)
	s.addGridRoutes(r)
	s.addCaseRoutes(r)
	s.addVisitRoutes(r)
	s.addIngestRoutes(r)
	s.addAlarmRoutes(r)
	s.addVideoRoutes(r)
	s.addDisputeRoutes(r)
	s.addAssessRoutes(r)
	s.addTagRoutes(r)
	s.addFeatureEditRoutes(r)
	s.addPeopleRoutes(r)

	r.GET("/tiles/:tileset", s.handleTileJSON)
	r.GET("/tiles/:tileset/:z/:x/:y", s.handleTile)
	r.GET("/styles/:tileset", s.handleStyle)
	r.GET("/basemap/:z/:x/:y", s.handleBasemap)
	r.GET("/basemap.json", s.handleBasemapJSON)

	s.addOGCRoutes(r)
	s.addEventRoutes(r)

	r.NoRoute(func(c *gin.Context) {
		p := c.Request.URL.Path
		if strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/tiles/") || strings.HasPrefix(p, "/styles/") || strings.HasPrefix(p, "/basemap/") ||
			strings.HasPrefix(p, "/ogc/") || p == "/api" || p == "/tiles" || p == "/styles" ||
			p == "/metrics" { // served on --metrics-addr only (MetricsHandler), never here

			writeError(c, s.log, onemap.Errorf(onemap.ENOTFOUND, "no route %s %s", c.Request.Method, p))
			return
		}
		if c.Request.Method != "GET" && c.Request.Method != "HEAD" {
			writeError(c, s.log, onemap.Errorf(onemap.ENOTFOUND, "no route %s %s", c.Request.Method, p))
			return
		}
		// gin answers NoRoute with 404 unless told otherwise; the web
		// client's handler sets its own status.
		c.Status(http.StatusOK)
		s.static.ServeHTTP(c.Writer, c.Request)
	})
	r.NoMethod(func(c *gin.Context) {
		writeError(c, s.log, &onemap.Error{Code: errMethod, Message: "method " + c.Request.Method + " is not allowed on " + c.Request.URL.Path})
	})
}
