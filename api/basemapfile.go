package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/tiles"
	"github.com/paulmach/orb/maptile"
)

// baseTiles is an offline base map: an archive's tiles or a drawn base
// (package basemap).
type baseTiles interface {
	// Info describes the base.
	Info() onemap.BasemapInfo
	// Tile returns tile t as stored (gzipped when Info's Encoding says so),
	// or nil when the base has none there.
	Tile(ctx context.Context, t maptile.Tile) ([]byte, error)
}

// baseExt is the extension of the base's tile URLs.
func baseExt(in onemap.BasemapInfo) string {
	if in.Vector() {
		return "pbf"
	}
	return in.Format
}

// baseContentType is the Content-Type of tiles of a format.
func baseContentType(format string) string {
	switch format {
	case "png":
		return "image/png"
	case "jpg":
		return "image/jpeg"
	case "webp":
		return "image/webp"
	}
	return "application/vnd.mapbox-vector-tile"
}

// serveBaseTile answers /basemap/{z}/{x}/{y}[.ext] from the offline base:
// the tile as stored, with its Content-Type and, for gzipped vector tiles,
// Content-Encoding: gzip; 404 where the base has no tile.
func (s *Server) serveBaseTile(c *gin.Context) {
	y := c.Param("y")
	if i := strings.LastIndexByte(y, '.'); i >= 0 {
		switch y[i+1:] {
		case "png", "jpg", "jpeg", "webp", "pbf", "mvt":
			y = y[:i]
		}
	}
	t, err := tiles.ParseZXY(c.Param("z"), c.Param("x"), y+".mvt")
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	in := s.base.Info()
	if int(t.Z) < in.MinZoom || int(t.Z) > in.MaxZoom {
		writeError(c, s.log, onemap.Errorf(onemap.ENOTFOUND, "the base map has zooms %d to %d", in.MinZoom, in.MaxZoom))
		return
	}
	b, err := s.base.Tile(c.Request.Context(), t)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	if b == nil {
		writeError(c, s.log, onemap.Errorf(onemap.ENOTFOUND, "the base map has no tile %d/%d/%d", t.Z, t.X, t.Y))
		return
	}
	if in.Encoding != "" {
		c.Header("Content-Encoding", in.Encoding)
	}
	c.Header("Cache-Control", "public, max-age=86400")
	c.Data(http.StatusOK, baseContentType(in.Format), b)
}

// baseTileJSON is TileJSON 3.0.0 of the base map, with the format (as
// MBTiles names it) and whether it is synthetic beside.
type baseTileJSON struct {
	TileJSON     string            `json:"tilejson"`
	Name         string            `json:"name,omitempty"`
	Attribution  string            `json:"attribution,omitempty"`
	Scheme       string            `json:"scheme"`
	Tiles        []string          `json:"tiles"`
	MinZoom      int               `json:"minzoom"`
	MaxZoom      int               `json:"maxzoom"`
	Bounds       *[4]float64       `json:"bounds,omitempty"`
	Center       *[3]float64       `json:"center,omitempty"`
	Format       string            `json:"format"`
	VectorLayers []vectorLayerJSON `json:"vector_layers,omitempty"`
	Synthetic    bool              `json:"synthetic,omitempty"`
}

// handleBasemapJSON answers /basemap.json with the TileJSON of the base map
// (the offline one, or else the online one), 404 when there is none.
func (s *Server) handleBasemapJSON(c *gin.Context) {
	var out baseTileJSON
	switch {
	case s.base != nil:
		in := s.base.Info()
		out = baseTileJSON{Name: in.Name, Attribution: in.Attribution, MinZoom: in.MinZoom, MaxZoom: in.MaxZoom,
			Format: in.Format, Synthetic: in.Synthetic,
			Tiles: []string{s.baseURL(c) + "/basemap/{z}/{x}/{y}." + baseExt(in)}}
		if b := in.Bounds; !b.IsZero() {
			out.Bounds = &[4]float64{b.Min.Lon(), b.Min.Lat(), b.Max.Lon(), b.Max.Lat()}
		}
		if in.Center != [3]float64{} {
			out.Center = &in.Center
		}
		for _, l := range in.VectorLayers {
			out.VectorLayers = append(out.VectorLayers, vectorLayerJSON{ID: l.ID, MinZoom: l.MinZoom, MaxZoom: l.MaxZoom, Fields: l.Fields})
		}
	case s.basemap != nil:
		out = baseTileJSON{Attribution: s.basemap.cfg.Attribution, MaxZoom: s.basemap.cfg.MaxZoom, Format: "png",
			Tiles: []string{s.baseURL(c) + "/basemap/{z}/{x}/{y}.png"}}
	default:
		writeError(c, s.log, onemap.Errorf(onemap.ENOTFOUND, "no base map is configured (--basemap-file or --basemap-url)"))
		return
	}
	out.TileJSON, out.Scheme = "3.0.0", "xyz"
	c.Header("Cache-Control", "no-cache")
	c.JSON(http.StatusOK, out)
}

// baseStyle returns the style's source and layer of the offline base: a
// raster source and layer, or a vector source (its TileJSON's URL) and no
// layer, which the web client styles (frontend/src/basemap.js).
func (s *Server) baseStyle(c *gin.Context) (source, layer map[string]any) {
	in := s.base.Info()
	if in.Vector() {
		return map[string]any{"type": "vector", "url": s.baseURL(c) + "/basemap.json"}, nil
	}
	source = map[string]any{"type": "raster", "tiles": []string{s.baseURL(c) + "/basemap/{z}/{x}/{y}." + in.Format},
		"tileSize": 256, "minzoom": in.MinZoom, "maxzoom": in.MaxZoom}
	if in.Attribution != "" {
		source["attribution"] = in.Attribution
	}
	if b := in.Bounds; !b.IsZero() {
		source["bounds"] = []float64{b.Min.Lon(), b.Min.Lat(), b.Max.Lon(), b.Max.Lat()}
	}
	return source, map[string]any{"id": "basemap", "type": "raster", "source": "basemap"}
}
