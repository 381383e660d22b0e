package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/postgis"
	"github.com/onemapgis/onemap/tiles"
)

// mvtType is the media type of Mapbox Vector Tiles.
const mvtType = "application/vnd.mapbox-vector-tile"

// tileLayers returns what a tileset holds for a role: its layers, their
// features' level filter and the fields the role may see unmasked (masked
// fields are left out of tiles).
func (s *Server) tileLayers(role onemap.Role, tileset string) ([]postgis.TileLayer, error) {
	var layers []onemap.Layer
	switch tileset {
	case tiles.SetAll:
		layers = s.policy.Readable(role, s.catalog)
	case tiles.SetPublic:
		role = onemap.RolePublic
		layers = s.policy.Readable(role, s.catalog)
	default:
		l, err := s.catalog.Layer(tileset)
		if err != nil || !s.policy.CanRead(role, tileset) {
			return nil, onemap.Errorf(onemap.ENOTFOUND, "tileset %q not found", tileset)
		}
		layers = []onemap.Layer{l}
	}
	out := make([]postgis.TileLayer, 0, len(layers))
	for _, l := range layers {
		tl := postgis.TileLayer{Layer: l, Levels: s.policy.Rule(role, l.ID).Levels}
		for _, f := range l.Fields {
			if s.policy.Field(role, &l, f.Name) == onemap.FieldAllow {
				tl.Fields = append(tl.Fields, f)
			}
		}
		out = append(out, tl)
	}
	return out, nil
}

// handleTile answers /tiles/{tileset}/{z}/{x}/{y}.mvt. An empty tile is 204
// No Content. Tiles are gzipped when the client accepts it and carry an ETag.
func (s *Server) handleTile(c *gin.Context) {
	t, err := tiles.ParseZXY(c.Param("z"), c.Param("x"), c.Param("y"))
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	layers, err := s.tileLayers(roleOf(c), c.Param("tileset"))
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	mvt, err := s.store.Tile(c.Request.Context(), t, layers)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	if s.cfg.TileCacheControl != "" {
		c.Header("Cache-Control", s.cfg.TileCacheControl)
	}
	c.Header("Vary", "Accept-Encoding")
	if len(mvt) == 0 {
		c.Status(http.StatusNoContent)
		return
	}
	sum := sha256.Sum256(mvt)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	c.Header("ETag", etag)
	if inm := c.GetHeader("If-None-Match"); inm != "" && strings.Contains(inm, etag) {
		c.Status(http.StatusNotModified)
		return
	}
	if strings.Contains(c.GetHeader("Accept-Encoding"), "gzip") {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		zw.Write(mvt)
		zw.Close()
		c.Header("Content-Encoding", "gzip")
		mvt = buf.Bytes()
	}
	c.Data(http.StatusOK, mvtType, mvt)
}
