package postgis

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
// the layer table, its indexes kept:
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
//   - their history rows are written by one INSERT … SELECT over the block.
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

// collect reads the rows of next whole for copyRun, as copyRows (their
// Where in b.wheres, their values in arena). If a row's geometry is not a
// point it stops there: rest is the row it stopped at (to be staged after
// the rows read).
func (b *bulk) collect(next func() (ImportRow, bool, error)) (rows []copyRow, arena []byte, rest *ImportRow, err error) {
	vals := make([]any, len(b.fields))
	for {
		r, ok, err := next()
		if err != nil {
			return nil, nil, nil, err
		}
		if !ok {
			return rows, arena, nil, nil
		}
		p, isPoint := r.Feature.Geometry.(orb.Point)
		if !isPoint {
			return rows, arena, &r, nil
		}
		b.wheres = append(b.wheres, r.Where)
		clear(vals)
		mask, err := b.values(r, vals)
		if err != nil {
			return nil, nil, nil, err
		}
		if !containsMask(b.masks, mask) {
			b.masks = append(b.masks, mask)
		}
		c := copyRow{line: int32(len(b.wheres)), mask: mask, pt: p, off: len(arena)}
		sep := false
		for i, v := range vals {
			if v == nil {
				continue
			}
			if sep {
				arena = append(arena, '\t')
			}
			sep = true
			switch v := v.(type) {
			case string:
				arena = appendCopyText(arena, v)
			case []string:
				arena = appendCopyText(arena, arrayLiteral(v))
				c.lists |= 1 << i
			}
		}
		c.end = len(arena)
		rows = append(rows, c)
	}
}

// replay returns next for the staged path: the rows collect read, then
// rest and what next still has. b.wheres and b.masks start again.
func (b *bulk) replay(rows []copyRow, arena []byte, rest *ImportRow, next func() (ImportRow, bool, error)) func() (ImportRow, bool, error) {
	wheres := b.wheres
	b.wheres, b.masks = nil, nil
	slices.SortFunc(rows, func(a, b copyRow) int { return cmp.Compare(a.line, b.line) })
	i := 0
	return func() (ImportRow, bool, error) {
		if i < len(rows) {
			r := &rows[i]
			i++
			props := make(map[string]any, len(b.fields))
			texts := strings.Split(string(arena[r.off:r.end]), "\t")
			k := 0
			for j, f := range b.fields {
				if r.mask&(1<<j) == 0 {
					continue
				}
				v := unescapeCopyText(texts[k])
				k++
				if r.lists&(1<<j) != 0 {
					props[f.Name] = parseArrayLiteral(v)
				} else {
					props[f.Name] = v
				}
			}
			return ImportRow{Where: wheres[r.line-1], Feature: &onemap.Feature{Layer: b.layer.ID, Geometry: r.pt, Properties: props}}, true, nil
		}
		if rest != nil {
			r := *rest
			rest = nil
			return r, true, nil
		}
		return next()
	}
}

// copyRun is the client-computed load of rows (see above), in tx; it
// returns errNotCopyable, or the database's refusal of a row (a data or
// constraint error), when the staged path must run instead.
func (b *bulk) copyRun(ctx context.Context, tx pgx.Tx, rows []copyRow, arena []byte) (rep ImportReport, newBound []byte, err error) {
	n := len(rows)
	ext := orb.Bound{Min: rows[0].pt, Max: rows[0].pt}
	for _, r := range rows {
		ext = ext.Extend(r.pt)
	}
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
	for _, r := range rows {
		if !(r.pt[0] >= env.Min[0] && r.pt[0] <= env.Max[0] && r.pt[1] >= env.Min[1] && r.pt[1] <= env.Max[1]) {
			return rep, nil, errNotCopyable
		}
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
	b.step("check envelope, triggers off")
	gi := b.index("grid_id")
	if b.gridPoint != "" {
		loc, err := loadGridLocator(ctx, tx, ext)
		if err != nil {
			return rep, nil, err
		}
		b.step("read the group grids")
		for i := range rows {
			if rows[i].mask&(1<<gi) == 0 {
				rows[i].grid = loc.place(rows[i].pt)
			}
		}
		b.step("assign grids (R-tree in Go)")
	}
	// Place order, then ids from one block.
	for i := range rows {
		rows[i].order = hilbertOf(rows[i].pt, ext)
	}
	slices.SortFunc(rows, func(a, b copyRow) int { return cmp.Or(cmp.Compare(a.order, b.order), cmp.Compare(a.line, b.line)) })
	var seq *string
	if err := tx.QueryRow(ctx, `SELECT pg_get_serial_sequence($1, 'id')`, b.tbl).Scan(&seq); err != nil {
		return rep, nil, mapError(fmt.Errorf("postgis: bulk import: the ids' sequence: %w", err))
	}
	if seq == nil {
		return rep, nil, errNotCopyable
	}
	// The table's writers are kept out (the triggers' ALTER TABLE above),
	// so no other insert takes an id of the block between these two.
	var first int64
	if err := tx.QueryRow(ctx, `SELECT nextval($1::regclass)`, *seq).Scan(&first); err != nil {
		return rep, nil, mapError(fmt.Errorf("postgis: bulk import: ids: %w", err))
	}
	if n > 1 {
		if _, err := tx.Exec(ctx, `SELECT setval($1::regclass, $2)`, *seq, first+int64(n)-1); err != nil {
			return rep, nil, mapError(fmt.Errorf("postgis: bulk import: ids: %w", err))
		}
	}
	for i := range rows {
		rows[i].id = first + int64(i)
	}
	b.step("place order, ids")
	var actor string
	if err := tx.QueryRow(ctx, `SELECT onemap_actor()`).Scan(&actor); err != nil {
		return rep, nil, mapError(fmt.Errorf("postgis: bulk import: %w", err))
	}
	for _, m := range b.masks {
		cols := []string{"id", "geom", "created_by", "updated_by"}
		grid := b.gridPoint != "" && m&(1<<gi) == 0
		if grid {
			cols = append(cols, "grid_id")
		}
		for i, f := range b.fields {
			if m&(1<<i) != 0 {
				cols = append(cols, pgx.Identifier{f.Name}.Sanitize())
			}
		}
		src := &copyReader{rows: rows, arena: arena, mask: m, grid: grid, actor: actor}
		if _, err := tx.Conn().PgConn().CopyFrom(ctx, src, `COPY `+b.tbl+` (`+strings.Join(cols, ", ")+`) FROM STDIN`); err != nil {
			return rep, nil, err // mapped by the caller: a data error runs the staged path
		}
	}
	b.step("copy into the table")
	var h int
	if err := tx.QueryRow(ctx, `WITH w AS (SELECT * FROM `+b.tbl+` WHERE id BETWEEN $1 AND $2)`+b.historySQL("insert"), first, first+int64(n)-1).Scan(&h); err != nil {
		return rep, nil, err
	}
	if h != n {
		return rep, nil, fmt.Errorf("postgis: bulk import: %d history rows for %d rows", h, n)
	}
	b.step("history (one insert)")
	// The references, checked set-based over the block: a row that refers
	// to nothing is the staged path's to name.
	for _, k := range b.keys {
		if !b.writes(k.column) {
			continue
		}
		col, ref := pgx.Identifier{k.column}.Sanitize(), pgx.Identifier{k.refColumn}.Sanitize()
		if _, err := tx.Exec(ctx, `SELECT FROM `+k.refTable+` r WHERE r.`+ref+` IN (SELECT DISTINCT t.`+col+` FROM `+b.tbl+` t WHERE t.id BETWEEN $1 AND $2) FOR KEY SHARE OF r`,
			first, first+int64(n)-1); err != nil {
			return rep, nil, mapError(fmt.Errorf("postgis: bulk import: lock the rows %s refers to: %w", k.name, err))
		}
		var missing bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM `+b.tbl+` t WHERE t.id BETWEEN $1 AND $2 AND t.`+col+` IS NOT NULL
			AND NOT EXISTS (SELECT FROM `+k.refTable+` r WHERE r.`+ref+` = t.`+col+`))`, first, first+int64(n)-1).Scan(&missing); err != nil {
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
	rep.Inserted = n
	if err := tx.QueryRow(ctx, `SELECT ST_AsBinary(ST_SetSRID(ST_MakeBox2D(ST_Point($1, $2), ST_Point($3, $4))::geometry, 4326))`,
		ext.Min[0], ext.Min[1], ext.Max[0], ext.Max[1]).Scan(&newBound); err != nil {
		return rep, nil, mapError(fmt.Errorf("postgis: bulk import: %w", err))
	}
	return rep, newBound, nil
}

// writes reports whether the client-computed path writes column col.
func (b *bulk) writes(col string) bool {
	if col == "grid_id" && b.gridPoint != "" {
		return true
	}
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
// intersects), over the group grids read once into a packed R-tree.
type gridLocator struct {
	tree  *packed.Tree[int32] // a grid's place in ids plus one
	ids   []int64             // ascending
	geoms []orb.Geometry
	cands []int32
}

// loadGridLocator reads the group grids whose bounds meet ext.
func loadGridLocator(ctx context.Context, tx pgx.Tx, ext orb.Bound) (*gridLocator, error) {
	rows, err := tx.Query(ctx, `SELECT id, ST_AsBinary(geom) FROM grids WHERE level = 'group'
		AND geom && ST_MakeEnvelope($1, $2, $3, $4, 4326) ORDER BY id`, ext.Min[0], ext.Min[1], ext.Max[0], ext.Max[1])
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: bulk import: group grids: %w", err))
	}
	defer rows.Close()
	l := &gridLocator{}
	var bounds []orb.Bound
	for rows.Next() {
		var (
			id int64
			g  []byte
		)
		if err := rows.Scan(&id, &g); err != nil {
			return nil, mapError(fmt.Errorf("postgis: bulk import: group grids: %w", err))
		}
		geom, err := wkb.Unmarshal(g)
		if err != nil {
			return nil, fmt.Errorf("postgis: bulk import: group grid %d: %w", id, err)
		}
		l.ids = append(l.ids, id)
		l.geoms = append(l.geoms, geom)
		bounds = append(bounds, geom.Bound())
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(fmt.Errorf("postgis: bulk import: group grids: %w", err))
	}
	// The tree's items are the grids' places plus one (its zero item is
	// a removed one).
	items := make([]int32, len(l.ids))
	for i := range items {
		items[i] = int32(i + 1)
	}
	l.tree = packed.Build(items, func(i int32) (min, max [2]float64) { return bounds[i-1].Min, bounds[i-1].Max })
	return l, nil
}

// place returns the id of p's group grid, 0 if none holds it.
func (l *gridLocator) place(p orb.Point) int64 {
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
