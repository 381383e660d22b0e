package onemap

import "github.com/paulmach/orb/maptile"

// TileExtent and TileBuffer are the size of a vector tile and the margin
// around it that features are kept in, in tile units. Both renderers (the Go
// encoder over the replica and PostGIS's ST_AsMVT) cut tiles with them, so
// that they cut the same tiles.
const (
	TileExtent = 4096
	TileBuffer = 256
)

// TileMaxZoom is the deepest zoom a tile is served at.
const TileMaxZoom = 22

// TileLayer is one layer of a vector tile as one caller may see it: which
// layer, which fields and which levels, at which zooms, and how its points
// are clustered.
type TileLayer struct {
	Layer  Layer    // the tile layer is named Layer.ID; a Record's values follow Layer.Fields
	Fields []string // names of the fields written as properties, beside the feature id
	Levels []string // if not nil, only records whose "level" value is listed
	// Outside MinZoom to MaxZoom the layer is absent from the tile; a MaxZoom
	// of 0 means TileMaxZoom. Lines and polygons are simplified below
	// MaxZoom and kept at full detail (to the tile unit) at MaxZoom.
	MinZoom, MaxZoom maptile.Zoom
	// ClusterBelow clusters a point layer at zooms below it; 0 never
	// clusters.
	ClusterBelow maptile.Zoom
	// ClusterFields are the fields, of Fields, that a clustered point
	// standing for more than one keeps; nil keeps them all.
	ClusterFields []string
}

// TopZoom returns the deepest zoom the layer is drawn at: MaxZoom, or
// TileMaxZoom when MaxZoom is 0.
func (l *TileLayer) TopZoom() maptile.Zoom {
	if l.MaxZoom == 0 {
		return maptile.Zoom(TileMaxZoom)
	}
	return l.MaxZoom
}

// ClusterLevels is how many levels of a layer's level field, the first (most
// severe) of its Enum, a clustered point counts apart.
const ClusterLevels = 4

// LevelCounts counts points by level: the i-th, the points of the i-th level
// of the level field's Enum.
type LevelCounts [ClusterLevels]int32
