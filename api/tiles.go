package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/negotiate"
	"github.com/onemapgis/onemap/tiles"
	"github.com/paulmach/orb"
)

// mvtType is the media type of Mapbox Vector Tiles.
const mvtType = "application/vnd.mapbox-vector-tile"

// The values of a tile answer's constant headers, shared by every answer:
// each a slice whose capacity is its length, so that a value added to one
// (Header.Add) goes into a new slice. Nothing changes them.
var (
	hitTiming                = []string{`cache;desc="hit"`}[:1:1]
	varyAcceptEncoding       = []string{"Accept-Encoding"}[:1:1]
	varyCookieAcceptEncoding = []string{"Cookie", "Accept-Encoding"}[:2:2] // a tile of a signed-in caller (withCaller)
	gzipEncoding             = []string{"gzip"}[:1:1]
	mvtContentType           = []string{mvtType}[:1:1]
)

// handleTile answers /tiles/{tileset}/{z}/{x}/{y}.mvt. An empty tile is 204
// No Content. Tiles are gzipped when the client accepts it and carry an ETag.
func (s *Server) handleTile(c *gin.Context) {
	t, err := tiles.ParseZXY(c.Param("z"), c.Param("x"), c.Param("y"))
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	set := c.Param("tileset")
	if set == onemap.LayerCases {
		s.handleCaseTile(c, t) // the open cases: casemap.go
		return
	}
	if set == onemap.LayerTags {
		s.handleTagTile(c, t) // the tags' last positions: tags.go
		return
	}
	e, err := s.tiles.Tile(c.Request.Context(), s.view(c), set, t)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	defer e.Release() // an uncached tile's memory, once written
	// The headers are set straight into the map under their canonical
	// names: a cached tile's answer is a lookup and a write, and
	// Header().Set's canonicalising was a part of its cost.
	h := c.Writer.Header()
	if e.Hit {
		h["Server-Timing"] = hitTiming
	} else {
		// How long the tile took to encode, for benchmarks and browsers'
		// developer tools.
		h["Server-Timing"] = []string{`render;desc=` + strconv.Quote(s.cfg.TileRenderer) + `;dur=` +
			strconv.FormatFloat(float64(e.Render.Microseconds())/1000, 'f', 3, 64)}
	}
	if s.cfg.TileCacheControl != "" {
		h["Cache-Control"] = []string{s.cfg.TileCacheControl}
	}
	switch vary := h["Vary"]; {
	case len(vary) == 0:
		h["Vary"] = varyAcceptEncoding
	case len(vary) == 1 && vary[0] == "Cookie":
		h["Vary"] = varyCookieAcceptEncoding
	default:
		h["Vary"] = append(vary, "Accept-Encoding")
	}
	if len(e.MVT) == 0 {
		c.Status(http.StatusNoContent)
		return
	}
	tag, mvtLength, gzipLength := e.HeaderValues()
	h["Etag"] = tag
	// The request's headers are read by their canonical names straight
	// from the map, as net/http filed them, without Header.Get's
	// canonicalising of the name.
	req := c.Request.Header
	if inm := first(req["If-None-Match"]); inm != "" && (strings.Contains(inm, e.ETag) || strings.TrimSpace(inm) == "*") {
		c.Status(http.StatusNotModified)
		return
	}
	body, length := e.MVT, mvtLength
	if negotiate.Gzip(first(req["Accept-Encoding"])) {
		h["Content-Encoding"] = gzipEncoding
		body, length = e.Gzip, gzipLength
	}
	// The length is said outright rather than left to net/http, which
	// would otherwise decide between a length and chunks.
	h["Content-Type"] = mvtContentType
	h["Content-Length"] = length
	c.Status(http.StatusOK)
	c.Writer.Write(body)
}

// first returns the first of a header's values, or "".
func first(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[0]
}

// isTilePath says whether path is a vector tile's, /tiles/{tileset}/{z}/{x}/{y}
// (not a TileJSON document's, /tiles/{tileset}.json).
func isTilePath(path string) bool {
	return strings.HasPrefix(path, "/tiles/") && strings.Count(path, "/") == 5
}

// invalidate evicts the cached tiles that changes touch: where each feature
// was and where it is.
func (s *Server) invalidate(changes []onemap.Change) {
	s.events.publish(changes) // to the open event streams (/api/events)
	s.metrics.noteApplied(changes)
	bounds := make([]orb.Bound, 0, 2*len(changes))
	for _, c := range changes {
		if c.Layer == onemap.LayerCases {
			continue // no cached tile holds cases (handleCaseTile)
		}
		if c.OldBound != nil {
			bounds = append(bounds, *c.OldBound)
		}
		if c.NewBound != nil {
			bounds = append(bounds, *c.NewBound)
		}
	}
	if n := s.tiles.Invalidate(bounds...); n > 0 {
		s.log.Debug("tile cache: evicted changed tiles", "changes", len(changes), "tiles", n)
	}
}
