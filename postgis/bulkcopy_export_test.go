package postgis

// WithStagedPath makes a bulk load of points with o take the staged path
// (the staging table, the grids by one join), not the client-computed one.
func WithStagedPath(o ImportOptions) ImportOptions {
	o.staged = true
	return o
}
