package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/tiles"
)

// baseURL returns the server's address as the client reached it.
func (s *Server) baseURL(c *gin.Context) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimSuffix(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

// tileJSONFieldType is the type name that TileJSON's vector_layers fields
// carry (as tippecanoe writes them, and GDAL's MVT driver reads them).
func tileJSONFieldType(t onemap.FieldType) string {
	switch t {
	case onemap.FieldInteger, onemap.FieldNumber:
		return "Number"
	case onemap.FieldBoolean:
		return "Boolean"
	}
	return "String"
}

type vectorLayerJSON struct {
	ID          string            `json:"id"`
	Description string            `json:"description"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
	Fields      map[string]string `json:"fields"`
}

type tileJSON struct {
	TileJSON     string            `json:"tilejson"`
	Name         string            `json:"name"`
	Description  string            `json:"description"`
	Version      string            `json:"version"`
	Attribution  string            `json:"attribution"`
	Scheme       string            `json:"scheme"`
	Tiles        []string          `json:"tiles"`
	MinZoom      int               `json:"minzoom"`
	MaxZoom      int               `json:"maxzoom"`
	Bounds       [4]float64        `json:"bounds"`
	Center       [3]float64        `json:"center"`
	VectorLayers []vectorLayerJSON `json:"vector_layers"`
}

// handleTileJSON answers /tiles/{tileset}.json with TileJSON 3.0.0: the
// tile URL, zooms, the region's bounds, and every layer with the fields the
// caller's tiles carry.
func (s *Server) handleTileJSON(c *gin.Context) {
	name, ok := strings.CutSuffix(c.Param("tileset"), ".json")
	if !ok {
		writeError(c, s.log, onemap.Errorf(onemap.ENOTFOUND, "no route %s: want /tiles/{tileset}.json or /tiles/{tileset}/{z}/{x}/{y}.mvt", c.Request.URL.Path))
		return
	}
	ts, err := s.tiles.Tileset(s.view(c), name)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	region, err := s.region(c.Request.Context())
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	b := region.Bound
	center := b.Center()
	out := tileJSON{
		TileJSON:    "3.0.0",
		Name:        "OneMap " + ts.Name,
		Description: region.Name + " 一张图",
		Version:     "1.0.0",
		Attribution: "OneMap " + region.Name,
		Scheme:      "xyz",
		Tiles:       []string{s.baseURL(c) + "/tiles/" + ts.Name + "/{z}/{x}/{y}.mvt"},
		MinZoom:     0,
		MaxZoom:     tiles.MaxZoom,
		Bounds:      [4]float64{b.Min.Lon(), b.Min.Lat(), b.Max.Lon(), b.Max.Lat()},
		Center:      [3]float64{center.Lon(), center.Lat(), 10},
	}
	snap := s.snapshot(c)
	for _, spec := range ts.Layers {
		vl := vectorLayerJSON{ID: spec.Layer.ID, Description: spec.Layer.Title + " " + spec.Layer.TitleEN,
			MinZoom: int(spec.MinZoom), MaxZoom: int(spec.MaxZoom), Fields: map[string]string{}}
		for _, name := range spec.Fields {
			f, _ := spec.Layer.Field(name)
			vl.Fields[name] = tileJSONFieldType(f.Type)
		}
		if spec.ClusterBelow > 0 {
			vl.Fields[tiles.PointCount] = "Number"
			if f, ok := spec.Layer.Field("level"); ok && slices.Contains(spec.Fields, "level") {
				for _, lv := range f.Enum[:min(len(f.Enum), onemap.ClusterLevels)] {
					vl.Fields[tiles.LevelCountPrefix+lv] = "Number"
				}
			}
			if by := spec.Layer.ClusterCountBy; by != "" && slices.Contains(spec.Fields, by) {
				// The values a cluster counts apart are those the layer's
				// features hold (a kind has no fixed list): one count each.
				for _, v := range countedValues(snap, &spec.Layer, by) {
					vl.Fields[tiles.CountByPrefix(by)+v] = "Number"
				}
			}
		}
		out.VectorLayers = append(out.VectorLayers, vl)
	}
	c.Header("Cache-Control", "no-cache")
	c.JSON(http.StatusOK, out)
}

// countedValues returns the values of field that the layer's features in
// snap hold, but the empty one: from the tallies the replica keeps with
// every change when it counts the layer by that field (stations by kind),
// else read from every feature.
func countedValues(snap *inmem.Snapshot, l *onemap.Layer, field string) []string {
	var out []string
	if totals, ok := snap.Totals(); ok && inmem.TallyField(l.ID) == field {
		for v := range totals[l.ID] {
			if v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	at := l.FieldIndex(field)
	seen := map[string]bool{}
	snap.Ascend(l.ID, 0, func(r *onemap.Record) bool {
		if v := r.Raw(at).Text(); v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
		return true
	})
	return out
}
