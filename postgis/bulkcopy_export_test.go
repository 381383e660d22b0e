package postgis

import (
	"context"

	"github.com/paulmach/orb"
)

// WithStagedPath makes a bulk load of points with o take the staged path
// (the staging table, the grids by one join), not the client-computed one.
func WithStagedPath(o ImportOptions) ImportOptions {
	o.staged = true
	return o
}

// WithChunkRows makes the client-computed path of a bulk load with o
// stream its rows in chunks of n.
func WithChunkRows(o ImportOptions, n int) ImportOptions {
	o.chunkRows = n
	return o
}

// WithRebuildMin makes a bulk load with o build the layer's indexes after
// its rows from n rows on (in a nearly empty layer).
func WithRebuildMin(o ImportOptions, n int) ImportOptions {
	o.rebuildMin = n
	return o
}

// GridLocator is the bulk load's locator of group grids, covered step by
// step as a load's chunks grow its extent.
type GridLocator struct {
	db  *DB
	loc gridLocator
}

// NewGridLocator returns an empty locator over db's group grids.
func NewGridLocator(db *DB) *GridLocator { return &GridLocator{db: db} }

// Cover reads the grids under ext not read yet.
func (l *GridLocator) Cover(ctx context.Context, ext orb.Bound) error {
	return l.loc.cover(ctx, l.db.pool, ext)
}

// Place returns p's group grid (0: none); p lies in the box covered.
func (l *GridLocator) Place(p orb.Point) int64 { return l.loc.place(p) }

// Read returns the ids of the grids read, in the order read.
func (l *GridLocator) Read() []int64 {
	var ids []int64
	for _, p := range l.loc.parts {
		ids = append(ids, p.ids...)
	}
	return ids
}
