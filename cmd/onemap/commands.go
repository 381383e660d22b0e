package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/geofile"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
)

func versionString() string { return "onemap " + onemap.Version }

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	f := newFlags("migrate", "migrate [flags]", getenv, stderr)
	f.database(&c)
	f.str(&c.Envelope, "envelope", "", "minLon,minLat,maxLon,maxLat every geometry must lie in")
	if err := f.parse(args); err != nil {
		return ignoreHelp(err)
	}
	if err := c.needDatabase(); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	db, err := openAndMigrate(ctx, &c, onemap.NewCatalog(), log)
	if err != nil {
		return err
	}
	db.Close()
	fmt.Fprintln(stdout, "onemap: database is migrated")
	return nil
}

func runSeed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "demo" {
		return fmt.Errorf("usage: onemap seed demo [--if-empty] [--prefecture] [flags]")
	}
	var c config
	f := newFlags("seed demo", "seed demo [flags]", getenv, stderr)
	f.database(&c)
	f.boolean(&c.IfEmpty, "if-empty", false, "do nothing when the database already holds grids")
	f.boolean(&c.History, "history", true, "seed two years of cases (about 54,000, bulk-loaded) before the day too")
	f.str(&c.AsOf, "as-of", "", "the day the demo describes, YYYY-MM-DD: its risk assessments fall before it, a few overdue (default: today in China)")
	var prefecture bool
	var scale float64
	f.boolean(&prefecture, "prefecture", false, "seed the ten counties of 楚雄州 (Wuding as without it, nine synthetic counties) instead of Wuding alone")
	f.fs.Float64Var(&scale, "scale", 1, "with --prefecture: the synthetic counties' contents, times Wuding's per area")
	if err := f.parse(args[1:]); err != nil {
		return ignoreHelp(err)
	}
	asOf := demoDay(time.Now())
	if c.AsOf != "" {
		day, err := time.Parse(time.DateOnly, c.AsOf)
		if err != nil {
			return fmt.Errorf("seed demo: --as-of %q: want a day as YYYY-MM-DD", c.AsOf)
		}
		asOf = day
	}
	db, log, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	if prefecture {
		if scale <= 0 || scale > 4 {
			return fmt.Errorf("seed demo: --scale %g: want more than 0 and at most 4", scale)
		}
		return seedPrefectureDemo(ctx, db, c.IfEmpty, asOf, c.History, scale, log)
	}
	return seedDemo(ctx, db, c.IfEmpty, asOf, c.History, log)
}

// importHeapFloorMB is the import's heap floor (--heap-floor-mb): with
// 128 MiB the collector's goal over 200,000 cameras is some 400 MB instead
// of 150, 5 cycles instead of 18: the importer's user CPU a fifth less,
// its user and system CPU together about 8 % less (the larger heap's pages
// are faulted in), for a peak of some 450 MB resident instead of 200.
const importHeapFloorMB = 128

func runImport(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	var c config
	f := newFlags("import", "import --layer LAYER [flags] FILE|-", getenv, stderr)
	f.database(&c)
	f.str(&c.Layer, "layer", "", "layer to import into: grids, risk_points, households, cameras or stations")
	f.str(&c.Format, "format", "", "geojson or csv (default: from the file name)")
	f.str(&c.LonColumn, "lon", "lon", "CSV column of longitudes (WGS-84)")
	f.str(&c.LatColumn, "lat", "lat", "CSV column of latitudes (WGS-84)")
	f.str(&c.Actor, "actor", "import", "who the history records as the author")
	f.str(&c.Reason, "reason", "", "why, for the history (which records the file's name beside it)")
	dryRun := false
	f.boolean(&dryRun, "dry-run", false, "say what would be inserted, updated and left unchanged, and write nothing")
	bulk := "auto"
	f.str(&bulk, "bulk", "auto", "write set-based (history set-based, one change-feed entry that servers answer by reloading the layer, one audit record): on, off, or auto (on from "+fmt.Sprint(bulkFrom)+" rows)")
	f.integer(&c.HeapFloorMB, "heap-floor-mb", importHeapFloorMB, "MiB the garbage collector counts as live while the file is imported, never written nor scanned: it collects that much less often (0: none)")
	if err := f.parse(args); err != nil {
		return ignoreHelp(err)
	}
	if f.fs.NArg() != 1 {
		return fmt.Errorf("import needs one FILE (or - for standard input)")
	}
	if bulk != "auto" && bulk != "on" && bulk != "off" {
		return fmt.Errorf("--bulk %q: want on, off or auto", bulk)
	}
	if c.HeapFloorMB < 0 || c.HeapFloorMB > 1<<20 {
		return fmt.Errorf("--heap-floor-mb %d: want 0 (none) to 1048576", c.HeapFloorMB)
	}
	// An import allocates a row's values (a map each, read and checked)
	// and lets them go at once, over a live heap of some 70 MiB (the
	// chunks being placed and sent, the group grids under the file): the
	// collector ran every 70 MiB, some 18 cycles for 200,000 cameras.
	// With a floor (heapfloor.go) it runs a few times.
	floor := newHeapFloor(c.HeapFloorMB)
	defer floor.release()
	if err := c.needDatabase(); err != nil {
		return err
	}
	catalog := onemap.NewCatalog()
	layer, err := catalog.Layer(c.Layer)
	if err != nil {
		return fmt.Errorf("--layer: %w", err)
	}
	name := f.fs.Arg(0)
	format := strings.ToLower(c.Format)
	if format == "" {
		switch strings.ToLower(filepath.Ext(name)) {
		case ".csv":
			format = "csv"
		default:
			format = "geojson"
		}
	}
	var r io.Reader = stdin
	if name != "-" {
		file, err := os.Open(name)
		if err != nil {
			return err
		}
		defer file.Close()
		r = file
	}
	var (
		next   geofile.Next
		direct *csvFields
	)
	switch format {
	case "geojson", "json":
		next = geofile.GeoJSONRecords(r)
	case "csv":
		if layer.Geometry != onemap.GeometryPoint {
			return fmt.Errorf("CSV imports points; layer %s holds %s", layer.ID, layer.Geometry)
		}
		types := map[string]onemap.FieldType{}
		for _, fl := range layer.Fields {
			types[fl.Name] = fl.Type
		}
		var t *geofile.CSVRows
		if t, err = geofile.NewCSVRows(r, c.LonColumn, c.LatColumn, types); err == nil {
			next, direct = t.Records(), newCSVFields(&layer, t)
		}
	default:
		return fmt.Errorf("--format %q: want geojson or csv", c.Format)
	}
	if err != nil {
		return fmt.Errorf("%s: %s; nothing was imported", name, onemap.ErrorMessage(err))
	}
	// The file is read as a stream: the bulk path writes its rows as they
	// are read, holding none; the row path, and the choice between the
	// two (--bulk auto), read the rows they need first.
	rows := importRows(&layer, next)
	rows.direct = direct
	var head []postgis.ImportRow
	if bulk != "on" {
		limit := bulkFrom
		if bulk == "off" {
			limit = -1
		}
		if head, err = rows.take(limit); err != nil {
			return fmt.Errorf("%s: %s; nothing was imported", name, onemap.ErrorMessage(err))
		}
	}
	useBulk := bulk == "on" || bulk == "auto" && !rows.done
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	db, err := openAndMigrate(ctx, &c, catalog, log)
	if err != nil {
		return err
	}
	defer db.Close()
	// A row whose natural key (layer.Key) names a feature that is there
	// already updates it (postgis.ImportWith).
	opts := postgis.ImportOptions{Actor: c.Actor, Reason: c.Reason, File: filepath.Base(name), DryRun: dryRun,
		Steps: func(step string, took time.Duration) { log.Debug("bulk import step", "step", step, "took", took) }}
	var rep postgis.ImportReport
	if useBulk {
		// The rest of a CSV table's rows with their fields by place.
		rows.byPlace = true
		rep, err = db.BulkImportFrom(ctx, layer.ID, rows.after(head), opts)
	} else {
		rep, err = db.ImportWith(ctx, layer.ID, head, opts)
	}
	if err != nil {
		if onemap.ErrorCode(err) == onemap.EINTERNAL {
			return err
		}
		return fmt.Errorf("%s: %s; nothing was imported", name, onemap.ErrorMessage(err))
	}
	if dryRun {
		fmt.Fprintf(stdout, "onemap: dry run: %d features for %s: %d would be inserted, %d updated, %d left unchanged; nothing was written\n",
			rows.n, layer.ID, rep.Inserted, rep.Updated, rep.Unchanged)
		return nil
	}
	fmt.Fprintf(stdout, "onemap: imported %d features into %s: %d inserted, %d updated, %d unchanged\n",
		rows.n, layer.ID, rep.Inserted, rep.Updated, rep.Unchanged)
	return nil
}

// bulkFrom is how many rows a file has from which `onemap import --bulk
// auto` writes it set-based (postgis.DB.BulkImport): below it, row by row
// (postgis.DB.ImportWith), a change-feed entry per feature.
const bulkFrom = 5000

// importStream is a file's records as import rows, each checked against
// the layer (onemap.Layer.Normalize) as it is read.
type importStream struct {
	layer *onemap.Layer
	next  geofile.Next
	// direct, if not nil, reads the same CSV table's rows with their
	// fields by place (no map a row: csvFields); row takes them from it
	// once byPlace is set (the bulk path's, which takes such rows).
	direct  *csvFields
	byPlace bool
	n       int  // rows read
	done    bool // the file has no more
}

func importRows(l *onemap.Layer, next geofile.Next) *importStream {
	return &importStream{layer: l, next: next}
}

// row returns the next row, false at the end of the file.
func (s *importStream) row() (postgis.ImportRow, bool, error) {
	if s.done {
		return postgis.ImportRow{}, false, nil
	}
	if s.direct != nil && s.byPlace {
		r, ok, err := s.direct.row()
		if ok {
			s.n++
		} else if err == nil {
			s.done = true
		}
		return r, ok, err
	}
	rec, ok, err := s.next()
	if err != nil {
		return postgis.ImportRow{}, false, err
	}
	if !ok {
		s.done = true
		return postgis.ImportRow{}, false, nil
	}
	s.n++
	return normalizedRow(s.layer, rec)
}

// normalizedRow is record rec of an import file as a row of layer l,
// checked by onemap.Layer.Normalize; its error names the record.
func normalizedRow(l *onemap.Layer, rec geofile.Record) (postgis.ImportRow, bool, error) {
	g, props, err := l.Normalize(rec.Geometry, rec.Properties)
	if err != nil {
		return postgis.ImportRow{}, false, onemap.Errorf(onemap.EINVALID, "%s: %s", rec.Where, onemap.ErrorMessage(err))
	}
	return postgis.ImportRow{Where: rec.Where, Feature: &onemap.Feature{Layer: l.ID, Geometry: g, Properties: props}}, true, nil
}

// take reads up to limit rows (all of them if limit < 0).
func (s *importStream) take(limit int) ([]postgis.ImportRow, error) {
	var rows []postgis.ImportRow
	for limit < 0 || len(rows) < limit {
		r, ok, err := s.row()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// after returns the rows of head, then the rest of the file's.
func (s *importStream) after(head []postgis.ImportRow) func() (postgis.ImportRow, bool, error) {
	return func() (postgis.ImportRow, bool, error) {
		if len(head) > 0 {
			r := head[0]
			head = head[1:]
			return r, true, nil
		}
		return s.row()
	}
}

func runExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	f := newFlags("export", "export --layer LAYER [flags]", getenv, stderr)
	f.database(&c)
	f.str(&c.Layer, "layer", "", "layer to export: grids, risk_points, households, cameras or stations")
	f.str(&c.Role, "role", "", "write only what this role may see (default: every stored field)")
	f.str(&c.Out, "out", "-", "file to write, - for standard output")
	if err := f.parse(args); err != nil {
		return ignoreHelp(err)
	}
	if err := c.needDatabase(); err != nil {
		return err
	}
	catalog := onemap.NewCatalog()
	layer, err := catalog.Layer(c.Layer)
	if err != nil {
		return fmt.Errorf("--layer: %w", err)
	}
	policy := onemap.DefaultPolicy()
	var filter onemap.FeatureFilter
	var role onemap.Role
	if c.Role != "" {
		if role, err = onemap.ParseRole(c.Role); err != nil {
			return err
		}
		if !policy.CanRead(role, layer.ID) {
			return fmt.Errorf("role %s may not read layer %s", role, layer.ID)
		}
		filter.Levels = policy.Rule(role, layer.ID).Levels
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	db, err := openAndMigrate(ctx, &c, catalog, log)
	if err != nil {
		return err
	}
	defer db.Close()
	fs, err := db.FindFeatures(ctx, layer.ID, filter)
	if err != nil {
		return err
	}
	if role != "" {
		for _, ft := range fs {
			ft.Properties = policy.Project(role, &layer, ft.Properties)
		}
	}
	w := stdout
	if c.Out != "-" {
		file, err := os.Create(c.Out)
		if err != nil {
			return err
		}
		defer file.Close()
		w = file
	}
	if err := geofile.WriteGeoJSON(w, fs); err != nil {
		return err
	}
	// Every export enters the audit trail, from the command line too.
	ctx = onemap.NewContext(ctx, onemap.Caller{Name: "system", Role: "system", Client: "command line"})
	return db.Audit(ctx, onemap.AuditExport, layer.ID, map[string]any{"rows": len(fs), "role": role, "out": c.Out})
}

// parseEnvelope parses "minLon,minLat,maxLon,maxLat".
func parseEnvelope(s string) (orb.Bound, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return orb.Bound{}, fmt.Errorf("want minLon,minLat,maxLon,maxLat, got %q", s)
	}
	var v [4]float64
	for i, p := range parts {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return orb.Bound{}, fmt.Errorf("value %d (%q) is not a number", i+1, p)
		}
		v[i] = x
	}
	if v[0] >= v[2] || v[1] >= v[3] || v[0] < -180 || v[2] > 180 || v[1] < -90 || v[3] > 90 {
		return orb.Bound{}, fmt.Errorf("%q is not a lon/lat box with min below max", s)
	}
	return orb.Bound{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}, nil
}
