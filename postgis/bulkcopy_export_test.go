package postgis

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
