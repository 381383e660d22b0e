package onemap

import "github.com/paulmach/orb"

// BasemapInfo describes an offline base map the server serves under the
// data (package basemap reads it from an MBTiles or PMTiles archive, or
// draws it): what its tiles are, where and at which zooms it has them.
type BasemapInfo struct {
	Name        string
	Attribution string
	// Format is the tiles' format: "png", "jpg", "webp" (raster) or "pbf"
	// (Mapbox Vector Tiles).
	Format string
	// Encoding is how the tiles are stored and served: "gzip" (the tiles
	// are gzipped, Content-Encoding: gzip) or "" (as they are).
	Encoding         string
	MinZoom, MaxZoom int
	// Bounds is where the base has tiles (WGS-84); the zero Bound is the
	// whole world. Center is [lon, lat, zoom], zero for none.
	Bounds orb.Bound
	Center [3]float64
	// VectorLayers are a vector base's layers and their fields.
	VectorLayers []BasemapLayer
	// Synthetic says the base is made up (the demo county's), not a survey.
	Synthetic bool
}

// Vector reports whether the base's tiles are vector tiles.
func (b *BasemapInfo) Vector() bool { return b.Format == "pbf" }

// BasemapLayer is one layer of a vector base: its id, its fields and their
// types ("String", "Number", "Boolean"), and its zooms.
type BasemapLayer struct {
	ID               string
	Fields           map[string]string
	MinZoom, MaxZoom int
}
