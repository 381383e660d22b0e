package postgis

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/packed"
	"github.com/onemapgis/onemap/internal/planar"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// The client-computed path of a bulk load of points (copyRun): where the
// staged path stages the rows and computes in SQL what the table's
// triggers would (each row's group grid by a join, new ids, the checks),
// this path computes it in Go and writes the rows by COPY straight into
// the layer table, its indexes kept (or, for a large load into a nearly
// empty layer, its secondary indexes built after the rows: bulkindex.go):
//
//   - the rows are read whole (a point and its fields' text a row);
//   - the region's envelope is checked in Go;
//   - each point's group grid is found in an R-tree of the group grids
//     under the load's extent, read once (the lowest id whose polygon
//     holds the point, its boundary included: the grid trigger's answer);
//   - the rows are put in place order (a Hilbert curve over the load's
//     extent), so that rows near each other on the map go into the same
//     index pages, and take ids from one block reserved of the table's
//     identity sequence, in that order;
//   - they are COPYed (text format) into the table, one COPY per set of
//     given fields, with the table's row triggers off as in the staged
//     path and its reference checks off (session_replication_role
//     replica), then checked set-based over the block of ids;
//   - their history is one entry for the block (feature_loads, migrations/
//     0044): version 1 of each is its row until it first changes, when the
//     row's trigger writes that version out (feature_history_of reads both).
//
// The path takes loads that insert only: a row that names a feature that
// is there, or that the database refuses (a check, a reference, a unique
// key, a point outside the envelope), rolls the path back (a savepoint)
// and the load runs again by the staged path from the rows already read,
// which updates, or names the row and the reason. So the path changes how
// fast a load of new points goes, never what a load does.

// errNotCopyable says the load is not one the client-computed path takes:
// the staged path runs it.
var errNotCopyable = errors.New("postgis: bulk import: not a load of new points")

// copyRow is a row of a load read whole: its point, the fields it gives
// (mask, as the staging table's given; lists: those given as lists) and
// their values, already in COPY's text form (tab-separated, in the order
// of b.fields) at arena[off:end], its grid and id once computed.
type copyRow struct {
	line     int32
	order    uint32
	mask     int64
	lists    int64
	pt       orb.Point
	grid, id int64
	off, end int
}

// copyable reports whether the layer's loads may take the client-computed
// path: a point layer whose every trigger the bulk path stands in for,
// whose grid trigger (if any) is the group grid of the point itself.
func (b *bulk) copyable(replaceable bool, o ImportOptions) bool {
	return replaceable && !o.rowReferences && !o.staged && b.layer.Geometry == onemap.GeometryPoint &&
		(b.gridPoint == "" || b.gridPoint == gridFunctions["assign_group_grid"]) && slices.Contains(b.columns, "id")
}

// replay returns next for the staged path: the rows of the chunks read
// (read back from the spill file, a chunk at a time), then rest and what
// next still has; or, if the reader stopped at an error (the file's, or a
// row's values), that error after the chunks, as the load would have
// met it. b.wheres and b.masks start again.
func (b *bulk) replay(f *copyFeed, next func() (ImportRow, bool, error)) func() (ImportRow, bool, error) {
	chunks, rest, readErr := f.all, f.rest, f.err
	b.wheres, b.masks = nil, nil
	var cur *copyChunk
	k, i := 0, 0
	return func() (ImportRow, bool, error) {
		for cur == nil || i == len(cur.rows) {
			if cur != nil { // read: let it go
				cur.rows, cur.arena, cur.wheres, cur = nil, nil, nil, nil
			}
			if k == len(chunks) {
				break
			}
			c := chunks[k]
			k++
			if err := f.load(c); err != nil {
				return ImportRow{}, false, err
			}
			slices.SortFunc(c.rows, func(a, b copyRow) int { return cmp.Compare(a.line, b.line) })
			cur, i = c, 0
		}
		if cur != nil {
			c := cur
			r := &c.rows[i]
			i++
			props := make(map[string]any, len(b.fields))
			texts := strings.Split(string(c.arena[r.off:r.end]), "\t")
			t := 0
			for j, f := range b.fields {
				if r.mask&(1<<j) == 0 {
					continue
				}
				v := unescapeCopyText(texts[t])
				t++
				if r.lists&(1<<j) != 0 {
					props[f.Name] = parseArrayLiteral(v)
				} else {
					props[f.Name] = v
				}
			}
			return ImportRow{Where: c.wheres[r.line-c.first], Feature: &onemap.Feature{Layer: b.layer.ID, Geometry: r.pt, Properties: props}}, true, nil
		}
		if readErr != nil {
			return ImportRow{}, false, readErr
		}
		if rest != nil {
			r := *rest
			rest = nil
			return r, true, nil
		}
		return next()
	}
}

// errRead wraps the error of a load's rows (the file's), which fails the
// load: the staged path does not run.
type errRead struct{ err error }

func (e errRead) Error() string { return e.err.Error() }
func (e errRead) Unwrap() error { return e.err }

// copyRun is the client-computed load of the rows of feed f (see above),
// in tx; it returns errNotCopyable, or the database's refusal of a row (a
// data or constraint error), when the staged path must run instead, and
// errRead if the rows cannot be read.
func (b *bulk) copyRun(ctx context.Context, tx pgx.Tx, f *copyFeed) (rep ImportReport, newBound []byte, err error) {
	// The region's envelope (the before-write trigger's check), if it is
	// a box; a point outside it, or NaN, is the staged path's to name.
	var (
		env orb.Bound
		box bool
	)
	if err := tx.QueryRow(ctx, `SELECT ST_XMin(envelope), ST_YMin(envelope), ST_XMax(envelope), ST_YMax(envelope),
		ST_Equals(envelope, ST_Envelope(envelope)) FROM region`).Scan(&env.Min[0], &env.Min[1], &env.Max[0], &env.Max[1], &box); err != nil {
		return rep, nil, mapError(fmt.Errorf("postgis: bulk import: region: %w", err))
	}
	if !box {
		return rep, nil, errNotCopyable
	}
	if err := b.alterTriggers(ctx, tx, "DISABLE"); err != nil {
		return rep, nil, err
	}
	ok, err := b.replicaRole(ctx, tx)
	if err != nil {
		return rep, nil, err
	}
	if !ok {
		return rep, nil, errNotCopyable
	}
	if err := b.idsPastRows(ctx, tx); err != nil {
		return rep, nil, err
	}
	b.step("region, triggers off")
	place := &copyPlace{ctx: ctx, env: env, gi: b.index("grid_id")}
	if b.gridPoint != "" {
		// The group grids are read as the chunks need them, under the
		// extent of the chunks so far, by the placing goroutine on a
		// connection of the pool: beside the load's writing (those under
		// the first rows already, beside the steps above: streamRows).
		place.loc, place.q = f.loc, f.grids
	}
	f.place <- place
	var seq *string
	if err := tx.QueryRow(ctx, `SELECT pg_get_serial_sequence($1, 'id')`, b.tbl).Scan(&seq); err != nil {
		return rep, nil, mapError(fmt.Errorf("postgis: bulk import: the ids' sequence: %w", err))
	}
	if seq == nil {
		return rep, nil, errNotCopyable
	}
	var actor string
	if err := tx.QueryRow(ctx, `SELECT onemap_actor()`).Scan(&actor); err != nil {
		return rep, nil, mapError(fmt.Errorf("postgis: bulk import: %w", err))
	}
	// Each chunk as it comes: ids from the block the load holds (the
	// table's writers are kept out by the triggers' ALTER TABLE above, so
	// no other insert takes an id between the chunks), its COPY (one a set
	// of given fields); then it goes to the spill file, in a goroutine of
	// its own while the next chunk is written (the staged path reads the
	// file only after endSpill).
	var (
		first, n             int64
		ext                  orb.Bound
		firstWait            time.Duration // until the first chunk came: the database idle
		wait, copying, spill time.Duration
		dropped              []droppedIndex         // the indexes built after the rows
		grids                = map[int64]struct{}{} // the grids the load placed its points in
		// keyVals are the distinct values of each text field that a
		// foreign key checks, as the rows give them (COPY's text), by
		// field; valuesOf tells which rows do not (then the key is
		// checked over the block instead).
		keyVals = map[int]map[string]struct{}{}
	)
	for _, k := range b.keys {
		if i := b.index(k.column); i >= 0 && b.fields[i].Type == onemap.FieldString && k.column != "grid_id" {
			keyVals[i] = map[string]struct{}{}
		}
	}
	spills, spilled := make(chan *copyChunk), make(chan error, 1)
	go func(spills <-chan *copyChunk) {
		var err error
		for c := range spills {
			if err == nil {
				err = f.store(c)
			}
		}
		spilled <- err
	}(spills)
	endSpill := func() error {
		if spills == nil {
			return nil
		}
		close(spills)
		spills = nil
		return <-spilled
	}
	defer endSpill()
	t := time.Now()
	for c := range f.out {
		if c.err != nil {
			return rep, nil, c.err
		}
		if c.outside {
			return rep, nil, errNotCopyable
		}
		t1 := time.Now()
		if n == 0 {
			firstWait = t1.Sub(t)
		} else {
			wait += t1.Sub(t)
		}
		if n == 0 {
			if err := tx.QueryRow(ctx, `SELECT nextval($1::regclass)`, *seq).Scan(&first); err != nil {
				return rep, nil, mapError(fmt.Errorf("postgis: bulk import: ids: %w", err))
			}
			ext = c.ext
			// A full first chunk into a table of fewer rows: the
			// indexes are built after the last row (bulkindex.go).
			if len(c.rows) == b.chunkRows {
				ok, err := b.rebuildable(ctx, tx, len(c.rows))
				if err != nil {
					return rep, nil, err
				}
				if ok {
					t := time.Now()
					var busy bool
					if dropped, busy, err = b.dropIndexesNoWait(ctx, tx); err != nil {
						return rep, nil, err
					}
					if b.steps != nil && busy {
						b.steps("indexes kept: the layer is being read", time.Since(t))
					} else if b.steps != nil {
						b.steps(fmt.Sprintf("drop %d indexes, to build after the rows", len(dropped)), time.Since(t))
					}
				}
			}
		}
		lo, hi := first+n, first+n+int64(len(c.rows))-1
		if hi > first {
			if _, err := tx.Exec(ctx, `SELECT setval($1::regclass, $2)`, *seq, hi); err != nil {
				return rep, nil, mapError(fmt.Errorf("postgis: bulk import: ids: %w", err))
			}
		}
		last := int64(0)
		for i := range c.rows {
			c.rows[i].id = lo + int64(i)
			if g := c.rows[i].grid; g != 0 && g != last { // in place order, neighbours share grids
				grids[g], last = struct{}{}, g
			}
			for j, vals := range keyVals {
				if v, ok := c.rows[i].field(c.arena, j); ok && string(v) != `\N` {
					if _, seen := vals[string(v)]; !seen {
						vals[string(v)] = struct{}{}
					}
				}
			}
		}
		ext = ext.Union(c.ext)
		for _, m := range c.masks {
			cols := []string{"id", "geom", "created_by", "updated_by"}
			grid := b.gridPoint != "" && m&(1<<place.gi) == 0
			if grid {
				cols = append(cols, "grid_id")
			}
			for i, f := range b.fields {
				if m&(1<<i) != 0 {
					cols = append(cols, pgx.Identifier{f.Name}.Sanitize())
				}
			}
			src := &copyReader{rows: c.rows, arena: c.arena, mask: m, grid: grid, actor: actor}
			if _, err := tx.Conn().PgConn().CopyFrom(ctx, src, `COPY `+b.tbl+` (`+strings.Join(cols, ", ")+`) FROM STDIN`); err != nil {
				return rep, nil, err // mapped by the caller: a data error runs the staged path
			}
		}
		t2 := time.Now()
		copying += t2.Sub(t1)
		n += int64(len(c.rows))
		spills <- c
		t = time.Now()
		spill += t.Sub(t2)
	}
	t2 := time.Now()
	if err := endSpill(); err != nil {
		return rep, nil, err
	}
	spill += time.Since(t2)
	f.finish()
	switch {
	case f.err != nil:
		return rep, nil, errRead{f.err}
	case f.rest != nil:
		return rep, nil, errNotCopyable
	}
	if b.steps != nil {
		b.steps("wait for the first chunk (read, its grids read, placed)", firstWait)
		b.steps("wait for the rows (read and placed beside)", wait)
		b.steps("copy into the table", copying)
		b.steps("keep the chunks for a fallback", spill)
	}
	b.t0 = time.Now()
	if len(dropped) > 0 {
		if err := b.buildIndexes(ctx, tx, dropped); err != nil {
			return rep, nil, err // a data error (a unique key) runs the staged path
		}
		b.step(fmt.Sprintf("build %d indexes after the rows", len(dropped)))
	}
	if n > 0 {
		// The history: one entry for the load's block of ids
		// (migrations/0044_feature_loads.sql).
		if err := tx.QueryRow(ctx, loadEntrySQL, b.layer.ID, first, first+n-1).Scan(&b.load); err != nil {
			return rep, nil, mapError(fmt.Errorf("postgis: bulk import: the load's history entry: %w", err))
		}
		b.step("history (one entry for the load)")
	}
	// The references, checked set-based over the block: a row that refers
	// to nothing is the staged path's to name.
	for _, k := range b.keys {
		if !b.writes(k.column) {
			continue
		}
		col, ref := pgx.Identifier{k.column}.Sanitize(), pgx.Identifier{k.refColumn}.Sanitize()
		if k.column == "grid_id" && b.gridPoint != "" && !b.given(k.column) {
			// Every grid is one the load placed a point in: the rows
			// referred to are those, locked and counted by their ids,
			// without reading the block again.
			ids := slices.Collect(maps.Keys(grids))
			found, err := b.lockRefs(ctx, tx, k, `r.`+ref+` = ANY($1::bigint[])`, ids)
			if err != nil {
				return rep, nil, err
			}
			if found != len(ids) {
				return rep, nil, errNotCopyable
			}
			continue
		}
		if i := b.index(k.column); keyVals[i] != nil && b.allGive(i) {
			// Every row gives the field: the rows referred to are those
			// its values name, locked and counted by them.
			var vals []string
			for v := range keyVals[i] {
				vals = append(vals, unescapeCopyText(v))
			}
			found, err := b.lockRefs(ctx, tx, k, `r.`+ref+` = ANY($1::text[])`, vals)
			if err != nil {
				return rep, nil, err
			}
			if found != len(vals) {
				return rep, nil, errNotCopyable
			}
			continue
		}
		if _, err := b.lockRefs(ctx, tx, k, `r.`+ref+` IN (SELECT DISTINCT t.`+col+` FROM `+b.tbl+` t WHERE t.id BETWEEN $1 AND $2)`, first, first+n-1); err != nil {
			return rep, nil, err
		}
		var missing bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM `+b.tbl+` t WHERE t.id BETWEEN $1 AND $2 AND t.`+col+` IS NOT NULL
			AND NOT EXISTS (SELECT FROM `+k.refTable+` r WHERE r.`+ref+` = t.`+col+`))`, first, first+n-1).Scan(&missing); err != nil {
			return rep, nil, mapError(fmt.Errorf("postgis: bulk import: check %s: %w", k.name, err))
		}
		if missing {
			return rep, nil, errNotCopyable
		}
	}
	b.step("check and lock references")
	if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = origin`); err != nil {
		return rep, nil, mapError(fmt.Errorf("postgis: bulk import: %w", err))
	}
	if err := b.alterTriggers(ctx, tx, "ENABLE"); err != nil {
		return rep, nil, err
	}
	rep.Inserted = int(n)
	if err := tx.QueryRow(ctx, `SELECT ST_AsBinary(ST_SetSRID(ST_MakeBox2D(ST_Point($1, $2), ST_Point($3, $4))::geometry, 4326))`,
		ext.Min[0], ext.Min[1], ext.Max[0], ext.Max[1]).Scan(&newBound); err != nil {
		return rep, nil, mapError(fmt.Errorf("postgis: bulk import: %w", err))
	}
	return rep, newBound, nil
}

// loadEntrySQL writes a load's history entry: its layer ($1), block of ids
// ($2 to $3), author, reason, and the code and file the history's reason
// trigger would give its rows (onemap_history_reason, migrations/0010).
const loadEntrySQL = `WITH c AS (SELECT coalesce(nullif(current_setting('onemap.reason_code', true), ''), 'create') AS code)
	INSERT INTO feature_loads (layer, first_id, last_id, changed_by, reason, reason_code, import_file)
	SELECT $1, $2, $3, onemap_actor(), onemap_reason(), c.code,
		CASE WHEN c.code = 'import' THEN nullif(current_setting('onemap.import_file', true), '') END
	FROM c RETURNING id`

// given reports whether a row of the load gives column col.
func (b *bulk) given(col string) bool {
	i := b.index(col)
	if i < 0 {
		return false
	}
	for _, m := range b.masks {
		if m&(1<<i) != 0 {
			return true
		}
	}
	return false
}

// allGive reports whether every row of the load gives field i.
func (b *bulk) allGive(i int) bool {
	for _, m := range b.masks {
		if m&(1<<i) == 0 {
			return false
		}
	}
	return len(b.masks) > 0
}

// field returns the COPY text of field i of row r (its fields' text in
// arena), and whether r gives it.
func (r *copyRow) field(arena []byte, i int) ([]byte, bool) {
	if r.mask&(1<<i) == 0 {
		return nil, false
	}
	k := bits.OnesCount64(uint64(r.mask) & (1<<i - 1)) // the given fields before it
	t := arena[r.off:r.end]
	for ; k > 0; k-- {
		t = t[bytes.IndexByte(t, '\t')+1:]
	}
	if j := bytes.IndexByte(t, '\t'); j >= 0 {
		t = t[:j]
	}
	return t, true
}

// writes reports whether the client-computed path writes column col.
func (b *bulk) writes(col string) bool {
	return col == "grid_id" && b.gridPoint != "" || b.given(col)
}

// isDataError reports whether err is the database's refusal of a row's
// data (SQLSTATE class 22, 23): the staged path finds and names it.
func isDataError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "22") || strings.HasPrefix(pe.Code, "23"))
}

// copyReader is the text-format COPY of the rows that give the fields of
// mask: id, geometry (hex EWKB), authors, grid (if grid) and the given
// fields.
type copyReader struct {
	rows  []copyRow
	arena []byte
	mask  int64
	grid  bool
	actor string
	i     int
	buf   []byte
	off   int
}

func (c *copyReader) Read(p []byte) (int, error) {
	for c.off == len(c.buf) {
		if c.i == len(c.rows) {
			return 0, io.EOF
		}
		c.buf, c.off = c.buf[:0], 0
		for c.i < len(c.rows) && len(c.buf) < 64<<10 {
			r := &c.rows[c.i]
			c.i++
			if r.mask != c.mask {
				continue
			}
			c.buf = c.row(c.buf, r)
		}
	}
	n := copy(p, c.buf[c.off:])
	c.off += n
	return n, nil
}

// row appends r's line of the COPY.
func (c *copyReader) row(buf []byte, r *copyRow) []byte {
	buf = strconv.AppendInt(buf, r.id, 10)
	buf = append(buf, '\t')
	buf = appendEWKBPoint(buf, r.pt)
	buf = append(buf, '\t')
	buf = appendCopyText(buf, c.actor)
	buf = append(buf, '\t')
	buf = appendCopyText(buf, c.actor)
	if c.grid {
		buf = append(buf, '\t')
		if r.grid == 0 {
			buf = append(buf, `\N`...)
		} else {
			buf = strconv.AppendInt(buf, r.grid, 10)
		}
	}
	if r.end > r.off {
		buf = append(buf, '\t')
		buf = append(buf, c.arena[r.off:r.end]...)
	}
	return append(buf, '\n')
}

// appendEWKBPoint appends p as hex EWKB with SRID 4326 (little-endian).
func appendEWKBPoint(buf []byte, p orb.Point) []byte {
	var b [25]byte
	b[0] = 1
	binary.LittleEndian.PutUint32(b[1:], 0x20000001) // a point with an SRID
	binary.LittleEndian.PutUint32(b[5:], 4326)
	binary.LittleEndian.PutUint64(b[9:], math.Float64bits(p[0]))
	binary.LittleEndian.PutUint64(b[17:], math.Float64bits(p[1]))
	return hex.AppendEncode(buf, b[:])
}

// appendCopyText appends s escaped for COPY's text format.
func appendCopyText(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			buf = append(buf, '\\', '\\')
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		default:
			buf = append(buf, c)
		}
	}
	return buf
}

// unescapeCopyText undoes appendCopyText.
func unescapeCopyText(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			sb.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		default:
			sb.WriteByte(s[i])
		}
	}
	return sb.String()
}

// parseArrayLiteral undoes arrayLiteral.
func parseArrayLiteral(s string) []string {
	out := []string{}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	for i := 0; i < len(s); i++ {
		if s[i] != '"' {
			continue // a comma
		}
		var sb strings.Builder
		for i++; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
			}
			sb.WriteByte(s[i])
		}
		out = append(out, sb.String())
	}
	return out
}

// arrayLiteral is a text[] value's literal: each element quoted.
func arrayLiteral(v []string) string {
	var sb strings.Builder
	sb.WriteByte('{')
	for i, s := range v {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('"')
		for j := 0; j < len(s); j++ {
			if s[j] == '"' || s[j] == '\\' {
				sb.WriteByte('\\')
			}
			sb.WriteByte(s[j])
		}
		sb.WriteByte('"')
	}
	sb.WriteByte('}')
	return sb.String()
}

// hilbertOf is p's place on a Hilbert curve of 2^16 × 2^16 cells over ext.
func hilbertOf(p orb.Point, ext orb.Bound) uint32 {
	cell := func(v, lo, hi float64) uint32 {
		if hi <= lo {
			return 0
		}
		return uint32(math.Min(65535, math.Max(0, (v-lo)/(hi-lo)*65535)))
	}
	return planar.Hilbert16(cell(p[0], ext.Min[0], ext.Max[0]), cell(p[1], ext.Min[1], ext.Max[1]))
}

// gridLocator finds a point's group grid as the grids' trigger does
// (assign_group_grid: the lowest id of the group grids that the point
// intersects), over the group grids read so far: every one whose bounds
// meet the box covered, read in parts as the load's chunks need more (each
// a packed R-tree of the grids that meet the grown box and did not meet
// the box before it: the parts hold no grid twice).
type gridLocator struct {
	parts   []*gridPart
	covered orb.Bound
	any     bool
}

// gridPart is a part of a gridLocator's grids.
type gridPart struct {
	tree  *packed.Tree[int32] // a grid's place in ids plus one
	ids   []int64             // ascending
	geoms []orb.Geometry
	cands []int32
}

// coverParts is how many queries, each on a connection of its own, read
// the group grids of a locator's first cover side by side, each a range of
// their ids: the first cover of a load that spans a province reads every
// group grid (193,500 polygons) while the database has nothing to write
// yet, and one backend's reading them is the larger part of that wait.
const coverParts = 2

// cover reads, by q, the group grids that meet ext and are not read yet.
// The first cover reads them in coverParts ranges of ids side by side if q
// is a pool (a querier that runs queries at once).
func (l *gridLocator) cover(ctx context.Context, q querier, ext orb.Bound) error {
	if l.any && l.covered.Contains(ext.Min) && l.covered.Contains(ext.Max) {
		return nil
	}
	box := ext
	if l.any {
		box = l.covered.Union(ext)
	}
	ranges := [][2]int64{{math.MinInt64, math.MaxInt64}}
	if _, pool := q.(*pgxpool.Pool); pool && !l.any {
		var lo, hi *int64
		rows, err := q.Query(ctx, `SELECT min(id), max(id) FROM grids WHERE level = 'group'`)
		if err != nil {
			return mapError(fmt.Errorf("postgis: bulk import: group grids: %w", err))
		}
		for rows.Next() {
			if err := rows.Scan(&lo, &hi); err != nil {
				rows.Close()
				return mapError(fmt.Errorf("postgis: bulk import: group grids: %w", err))
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return mapError(fmt.Errorf("postgis: bulk import: group grids: %w", err))
		}
		if lo != nil && hi != nil && *hi-*lo >= coverParts {
			ranges = ranges[:0]
			step := (*hi - *lo + 1) / coverParts
			for i := range int64(coverParts) {
				r := [2]int64{*lo + i*step, *lo + (i+1)*step - 1}
				if i == coverParts-1 {
					r[1] = *hi
				}
				ranges = append(ranges, r)
			}
		}
	}
	// What is new: box, or the strips of it around the box covered (a grid
	// that meets box and not the box covered meets one of them), each
	// found by the grids' spatial index: not every grid of box again.
	news := []orb.Bound{box}
	if l.any {
		c := l.covered
		news = news[:0]
		strips := []struct {
			grows bool
			s     orb.Bound
		}{
			{box.Min[0] < c.Min[0], orb.Bound{Min: box.Min, Max: orb.Point{c.Min[0], box.Max[1]}}},                       // west
			{box.Max[0] > c.Max[0], orb.Bound{Min: orb.Point{c.Max[0], box.Min[1]}, Max: box.Max}},                       // east
			{box.Min[1] < c.Min[1], orb.Bound{Min: orb.Point{c.Min[0], box.Min[1]}, Max: orb.Point{c.Max[0], c.Min[1]}}}, // south
			{box.Max[1] > c.Max[1], orb.Bound{Min: orb.Point{c.Min[0], c.Max[1]}, Max: orb.Point{c.Max[0], box.Max[1]}}}, // north
		}
		for _, s := range strips {
			if s.grows {
				news = append(news, s.s)
			}
		}
		if len(news) == 0 {
			l.covered = box
			return nil
		}
	}
	reads := make([]gridRead, len(ranges))
	var wg sync.WaitGroup
	for i, r := range ranges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reads[i] = l.read(ctx, q, news, r)
		}()
	}
	wg.Wait()
	// The ranges ascend: their grids, one after the other, ascend too.
	part := &gridPart{}
	var bounds []orb.Bound
	for _, r := range reads {
		if r.err != nil {
			return r.err
		}
		part.ids = append(part.ids, r.ids...)
		part.geoms = append(part.geoms, r.geoms...)
		bounds = append(bounds, r.bounds...)
	}
	// The tree's items are the grids' places plus one (its zero item is
	// a removed one).
	items := make([]int32, len(part.ids))
	for i := range items {
		items[i] = int32(i + 1)
	}
	part.tree = packed.Build(items, func(i int32) (min, max [2]float64) { return bounds[i-1].Min, bounds[i-1].Max })
	l.parts = append(l.parts, part)
	l.covered, l.any = box, true
	return nil
}

// gridRead is the group grids of one query of a cover, by ascending id.
type gridRead struct {
	ids    []int64
	geoms  []orb.Geometry
	bounds []orb.Bound
	err    error
}

// read reads, by q, the group grids whose ids lie in ids (both ends
// included) that meet one of boxes and do not meet the box covered.
func (l *gridLocator) read(ctx context.Context, q querier, boxes []orb.Bound, ids [2]int64) (r gridRead) {
	args := []any{ids[0], ids[1], l.any, l.covered.Min[0], l.covered.Min[1], l.covered.Max[0], l.covered.Max[1]}
	var meets []string
	for _, b := range boxes {
		n := len(args)
		meets = append(meets, fmt.Sprintf("geom && ST_MakeEnvelope($%d, $%d, $%d, $%d, 4326)", n+1, n+2, n+3, n+4))
		args = append(args, b.Min[0], b.Min[1], b.Max[0], b.Max[1])
	}
	rows, err := q.Query(ctx, `SELECT id, ST_AsBinary(geom) FROM grids WHERE level = 'group' AND id BETWEEN $1 AND $2
		AND (`+strings.Join(meets, " OR ")+`) AND NOT ($3 AND geom && ST_MakeEnvelope($4, $5, $6, $7, 4326)) ORDER BY id`, args...)
	if err != nil {
		r.err = mapError(fmt.Errorf("postgis: bulk import: group grids: %w", err))
		return r
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id int64
			g  []byte
		)
		if err := rows.Scan(&id, &g); err != nil {
			r.err = mapError(fmt.Errorf("postgis: bulk import: group grids: %w", err))
			return r
		}
		geom, err := wkb.Unmarshal(g)
		if err != nil {
			r.err = fmt.Errorf("postgis: bulk import: group grid %d: %w", id, err)
			return r
		}
		r.ids = append(r.ids, id)
		r.geoms = append(r.geoms, geom)
		r.bounds = append(r.bounds, geom.Bound())
	}
	if err := rows.Err(); err != nil {
		r.err = mapError(fmt.Errorf("postgis: bulk import: group grids: %w", err))
	}
	return r
}

// place returns the id of p's group grid, 0 if none holds it; p lies in
// the box covered.
func (l *gridLocator) place(p orb.Point) int64 {
	var best int64
	for _, part := range l.parts {
		if id := part.place(p); id != 0 && (best == 0 || id < best) {
			best = id
		}
	}
	return best
}

// place returns the lowest id of the part's grids that holds p, 0 if none.
func (l *gridPart) place(p orb.Point) int64 {
	l.cands = l.cands[:0]
	l.tree.Search(p, p, func(_, _ [2]float64, i int32) bool {
		l.cands = append(l.cands, i-1)
		return true
	})
	slices.Sort(l.cands) // by id
	for _, i := range l.cands {
		if geomContains(l.geoms[i], p) {
			return l.ids[i]
		}
	}
	return 0
}

// geomContains reports whether polygon or multipolygon g holds p, its
// boundary included, as ST_Intersects answers for a point (a hole's
// boundary as well): planar.Intersects, the rule the in-memory replica
// places points by too.
func geomContains(g orb.Geometry, p orb.Point) bool { return planar.Intersects(g, p) }
