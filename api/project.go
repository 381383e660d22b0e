package api

import "github.com/onemapgis/onemap"

// recordFeature returns a record of the replica of layer l as a feature with
// the properties the view shows: denied fields dropped and masked ones
// masked by View.Project, the same projection as /api's features.
func (s *Server) recordFeature(v *onemap.View, l *onemap.Layer, r *onemap.Record) *onemap.Feature {
	props := make(map[string]any, len(l.Fields))
	for i, f := range l.Fields {
		props[f.Name] = r.Value(i)
	}
	return &onemap.Feature{ID: r.ID, Layer: l.ID, Version: int(r.Version), Geometry: r.Geometry,
		Properties: v.Project(l.ID, props)}
}
