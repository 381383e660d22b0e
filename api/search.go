package api

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// searchFields returns the fields of a layer that search matches: names
// anywhere in them, codes from their start. Households are never searched:
// they have no name but their people's.
func searchFields(layer string) (names, codes []string) {
	switch layer {
	case onemap.LayerGrids:
		return []string{"name"}, []string{"code"}
	case onemap.LayerStations:
		return []string{"name", "address"}, nil
	case onemap.LayerRiskPoints:
		return []string{"name"}, nil
	case onemap.LayerCameras:
		return []string{"name"}, []string{"device_code"}
	}
	return nil, nil
}

type searchResultJSON struct {
	Layer  string     `json:"layer"`
	ID     int64      `json:"id"`
	Name   any        `json:"name"`
	Code   any        `json:"code,omitempty"`
	Kind   any        `json:"kind,omitempty"`
	Level  any        `json:"level,omitempty"`
	Field  string     `json:"matched"`
	Center orb.Point  `json:"center"`
	BBox   [4]float64 `json:"bbox"`
}

// handleSearch answers /api/search?q=: coordinates (lon,lat in decimal
// degrees, or degrees-minutes-seconds with hemispheres) give the point and
// the grids that hold it; any other text finds features by name (partial,
// Chinese or not) or by code prefix (statistical and grid codes, camera
// device codes), in the layers and fields the caller may read.
func (s *Server) handleSearch(c *gin.Context) {
	q := c.Request.URL.Query()
	if err := checkQuery(q, "q", "limit", "crs"); err != nil {
		writeError(c, s.log, err)
		return
	}
	if _, err := queryCRS(q); err != nil {
		writeError(c, s.log, err)
		return
	}
	text := strings.TrimSpace(q.Get("q"))
	if text == "" {
		writeError(c, s.log, onemap.Errorf(onemap.EINVALID, "q is required: a name, a code or coordinates"))
		return
	}
	if utf8.RuneCountInString(text) > 100 {
		writeError(c, s.log, onemap.Errorf(onemap.EINVALID, "q: %d characters, at most 100", utf8.RuneCountInString(text)))
		return
	}
	limit, err := parseInt("limit", q.Get("limit"), 20, 1, 100)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	v := s.view(c)
	snap := s.snapshot(c)
	if p, ok, err := onemap.ParseCoordinates(text); ok {
		if err == nil {
			p, err = toWGS84(q, p) // typed in the system crs names
		}
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		out := gin.H{"query": text, "point": p, "results": []searchResultJSON{}}
		if v.CanRead(onemap.LayerGrids) {
			out["grids"] = s.gridsAt(snap, v, p)
		}
		c.JSON(http.StatusOK, out)
		return
	}
	var queries []inmem.TextQuery
	for _, l := range v.Readable() {
		names, codes := searchFields(l.ID)
		if names == nil && codes == nil {
			continue
		}
		allowed := func(names []string) []string {
			var out []string
			for _, n := range names {
				// A masked field is not searched: a match would tell what it hides.
				if v.Field(l.ID, n) == onemap.FieldAllow {
					out = append(out, n)
				}
			}
			return out
		}
		queries = append(queries, inmem.TextQuery{Layer: l, Names: allowed(names), Codes: allowed(codes),
			Keep: levelKeep(&l, v.Levels(l.ID))})
	}
	results := s.searchCase(c, text) // a tracking code: casemap.go
	if results == nil {
		results = []searchResultJSON{}
	}
	for _, m := range snap.MatchText(text, queries, int(limit)) {
		l, _ := s.catalog.Layer(m.Layer)
		props := s.recordJSON(v.Role(), &l, inmem.Hit{Record: m.Record}, false).Properties
		b := m.Record.Bound
		results = append(results, searchResultJSON{Layer: m.Layer, ID: m.Record.ID, Name: props["name"], Code: firstOf(props, "code", "device_code"),
			Kind: props["kind"], Level: props["level"], Field: m.Field, Center: b.Center(),
			BBox: [4]float64{b.Min.Lon(), b.Min.Lat(), b.Max.Lon(), b.Max.Lat()}})
	}
	c.JSON(http.StatusOK, gin.H{"query": text, "results": results})
}

func firstOf(props map[string]any, names ...string) any {
	for _, n := range names {
		if v, ok := props[n]; ok && v != nil {
			return v
		}
	}
	return nil
}
