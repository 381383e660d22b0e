package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/tiles"
)

// Colours of the map. Risk levels follow the county's four-colour scheme:
// 红 重大, 橙 较大, 黄 一般, 蓝 低, and these four hues mean a risk level
// and nothing else: cameras are muted (sage, grey, a dark fault) and
// stations take greens, teals, browns, purple and slate
// (TestStyle_hazardColours).
var (
	riskColours   = []string{"red", "#d7191c", "orange", "#fd8d3c", "yellow", "#fecc5c", "blue", "#2c7bb6"}
	cameraColours = []string{"online", "#6b8f7a", "offline", "#b0bec5", "fault", "#1b1b1b"}
	// Station kinds are reference data; a kind not listed is drawn grey.
	stationColours = []string{"governance_centre", "#4e342e", "service_hall", "#00695c", "service_station", "#26a69a",
		"mediation", "#8e24aa", "police", "#263238", "clinic", "#43a047", "hospital", "#1b5e20", "legal_aid", "#8d6e63"}
	riskSortKey = match("level", []any{"red", 4, "orange", 3, "yellow", 2, "blue", 1}, 0)
)

const (
	styleSource     = "onemap"
	styleMetaLayer  = "onemap:layer"
	styleBackground = "#dfe5ea"
	styleUnknown    = "#757575"
)

// gridLevelStyle is how one level of grids is drawn.
type gridLevelStyle struct {
	level, fill, line string
	fillOpacity       float64
	width             [2]float64 // px at z8 and z14
	minZoom           int
}

var gridLevels = []gridLevelStyle{
	{"county", "#f4efe1", "#3e2f1f", 0.55, [2]float64{2.2, 3.5}, 0},
	{"township", "#e3b866", "#6d5536", 0.10, [2]float64{1.1, 2.2}, 0},
	{"village", "#8cbf7f", "#8d7c68", 0.07, [2]float64{0.5, 1.1}, 8},
	{"group", "#7fb2d1", "#a89c8e", 0.05, [2]float64{0.3, 0.6}, 11},
}

// match is MapLibre's ["match", ["get", prop], k1, v1, …, fallback].
func match[T any](prop string, pairs []T, fallback any) []any {
	out := []any{"match", []any{"get", prop}}
	for _, p := range pairs {
		out = append(out, p)
	}
	return append(out, fallback)
}

// byZoom interpolates linearly between [zoom, value] stops.
func byZoom(stops ...any) []any {
	return append([]any{"interpolate", []any{"linear"}, []any{"zoom"}}, stops...)
}

// clustered grows a point's radius, given as [zoom, px] stops, with the
// points it stands for (tiles.PointCount). A zoom expression must stay at the
// top, so the growth goes into each stop.
func clustered(stops ...float64) []any {
	grow := []any{"*", 1.5, []any{"ln", []any{"coalesce", []any{"get", tiles.PointCount}, 1}}}
	var out []any
	for i := 0; i+1 < len(stops); i += 2 {
		out = append(out, stops[i], []any{"+", stops[i+1], grow})
	}
	return byZoom(out...)
}

// styleLayers returns the style layers of one data layer, bottom to top.
func styleLayers(id string) []map[string]any {
	circle := func(colour any, radius []any, stroke string, strokeWidth any, sortKey bool) []map[string]any {
		l := map[string]any{"id": id, "type": "circle", "paint": map[string]any{
			"circle-color": colour, "circle-radius": radius,
			"circle-stroke-color": stroke, "circle-stroke-width": strokeWidth,
		}}
		if sortKey {
			l["layout"] = map[string]any{"circle-sort-key": riskSortKey}
		}
		return []map[string]any{l}
	}
	switch id {
	case onemap.LayerGrids:
		var fills, lines []map[string]any
		for _, g := range gridLevels {
			filter := []any{"==", []any{"get", "level"}, g.level}
			fills = append(fills, map[string]any{"id": "grids-fill-" + g.level, "type": "fill", "minzoom": g.minZoom, "filter": filter,
				"paint": map[string]any{"fill-color": g.fill, "fill-opacity": g.fillOpacity}})
			// Outlines fine to coarse, so the county line is drawn on top.
			lines = append([]map[string]any{{"id": "grids-line-" + g.level, "type": "line", "minzoom": g.minZoom, "filter": filter,
				"layout": map[string]any{"line-join": "round"},
				"paint":  map[string]any{"line-color": g.line, "line-width": byZoom(8, g.width[0], 14, g.width[1])}}}, lines...)
		}
		return append(fills, lines...)
	case onemap.LayerCameras:
		return circle(match("status", cameraColours, styleUnknown), clustered(8, 1.3, 13, 3, 17, 5), "#ffffff", byZoom(12, 0, 14, 0.8), false)
	case onemap.LayerStations:
		return circle(match("kind", stationColours, "#78909c"),
			byZoom(8, match("level", []any{"county", 6, "township", 5}, 3.5), 14, match("level", []any{"county", 10, "township", 9}, 7.5)),
			"#ffffff", 1.5, false)
	case onemap.LayerHouseholds:
		return circle(match("level", riskColours, styleUnknown), clustered(8, 2, 13, 3.5, 17, 6), "#ffffff", 1, true)
	case onemap.LayerRiskPoints:
		return circle(match("level", riskColours, styleUnknown), clustered(8, 3, 13, 5.5, 17, 8), "rgba(40, 20, 20, 0.55)", 0.8, true)
	case onemap.LayerHazardZones, onemap.LayerShelters:
		return emergencyStyle(id) // affected.go
	}
	return nil
}

// drawOrder lists the data layers bottom to top.
var drawOrder = []string{onemap.LayerGrids, onemap.LayerHazardZones, onemap.LayerCameras, onemap.LayerStations, onemap.LayerShelters, onemap.LayerHouseholds, onemap.LayerRiskPoints}

// handleStyle answers /styles/{tileset}.json with a MapLibre style (version
// 8) over the tileset's TileJSON, drawing the layers the caller may read,
// over the online basemap when one is configured (fetched through this
// server). It has no text layers: the map needs no glyph server.
func (s *Server) handleStyle(c *gin.Context) {
	name, ok := strings.CutSuffix(c.Param("tileset"), ".json")
	if !ok {
		writeError(c, s.log, onemap.Errorf(onemap.ENOTFOUND, "no route %s: want /styles/{tileset}.json", c.Request.URL.Path))
		return
	}
	ts, err := s.tiles.Tileset(s.view(c), name)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	has := map[string]bool{}
	for _, spec := range ts.Layers {
		has[spec.Layer.ID] = true
	}
	layers := []map[string]any{{"id": "background", "type": "background", "paint": map[string]any{"background-color": styleBackground}}}
	for _, id := range drawOrder {
		if !has[id] {
			continue
		}
		for _, l := range styleLayers(id) {
			l["source"], l["source-layer"], l["metadata"] = styleSource, id, map[string]any{styleMetaLayer: id}
			layers = append(layers, l)
		}
	}
	sources := gin.H{styleSource: gin.H{"type": "vector", "url": s.baseURL(c) + "/tiles/" + ts.Name + ".json"}}
	if src, l := s.basemapStyle(c); src != nil {
		// The basemap, when one is configured, lies under the data (a
		// vector base's layers are the web client's to draw).
		sources["basemap"] = src
		if l != nil {
			layers = append(layers[:1], append([]map[string]any{l}, layers[1:]...)...)
		}
	}
	c.Header("Cache-Control", "no-cache")
	c.JSON(http.StatusOK, gin.H{
		"version": 8,
		"name":    "OneMap " + ts.Name,
		"sources": sources,
		"layers":  layers,
	})
}
