package api

import (
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
)

// handlePublicShelters answers /api/public/shelters?lon=&lat=&limit=&radius=:
// the shelters and evacuation sites (安置点) nearest a point (WGS-84, or
// the system crs= names), nearest first, each with its public fields (kind
// and its names, name, capacity, address) and its distance in metres
// (geodesic, from the point rounded to about 10 m); limit 1–50 (default
// 10), radius in metres. Like the stations it is answered from the public
// index, built from the database's public views only.
func (s *Server) handlePublicShelters(c *gin.Context) {
	if s.public == nil {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAVAILABLE, "the public index is not loaded"))
		return
	}
	pq, ok := publicQueryRaw(c.Request.URL.RawQuery, false)
	if !ok {
		var err error
		if pq, err = publicSheltersQuery(c.Request.URL.Query()); err != nil {
			writeError(c, s.log, err)
			return
		}
	}
	buf := s.buffers.get()
	defer s.buffers.put(buf)
	b, err := s.public.AppendSheltersJSON(buf.b[:0], pq)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	buf.b = b
	c.Writer.Header()["Cache-Control"] = publicCacheControlValue
	writeJSONBytes(c, b) // with its length: see handlePublicStations
}

// publicSheltersQuery reads the query of /api/public/shelters.
func publicSheltersQuery(q url.Values) (onemap.PublicQuery, error) {
	return publicURLQuery(q, "limit", "radius")
}
