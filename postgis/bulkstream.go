package postgis

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"slices"
	"sync"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

// The client-computed path's rows go as a stream (copyFeed): one goroutine
// reads the file a chunk of rows at a time, another checks and places each
// chunk's points and puts the chunk in place order, and the load writes
// each chunk (its COPY and its history) as it comes, so that the file's
// reading and the placing run beside the database's writing, not before
// it; the group grids under the load's first rows are read while the
// rest of its first chunk is read (previewRows). The chunks read are kept: if the path gives way to the staged one,
// that path reads them again, then the rest of the file.

// copyChunkRows is how many rows the stream's first chunk holds: ids
// follow place within a chunk (a chunk's inserts sweep the map once).
const copyChunkRows = 32 << 10

// copyLaterChunkRows is how many rows the chunks after the first grow to:
// each holds twice the rows of the one before, up to this. Each chunk's
// inserts sweep the map once, so into a layer that holds millions of
// points every chunk goes over nearly every page of the layer's GiST
// index and of its grid B-tree; once those are more pages than the
// server's shared buffers keep, a sweep reads them back and writes them
// out again. Into a layer of about 5,000,000 cameras (PostgreSQL's
// default 128 MB of shared buffers), fewer sweeps (200,000 cameras in
// three chunks, not seven) read 22–31 % fewer index pages from outside
// the shared buffers (pg_statio) and cost the database some 7 % less CPU
// a row; into the province's 2,000,000, whose GiST (80 MB) and grid
// B-tree (20 MB) mostly stay in the buffers, neither moved. The first chunk
// stays small so that the database starts writing as soon as before, and
// the chunks grow by no more than twice so that the next chunk is read
// and placed while the database writes the one before (the database's
// CPU a row is about two and a half times the importer's): a chunk four
// times its predecessor kept the database waiting for it. A chunk of
// 131,072 rows holds some 25 MB.
const copyLaterChunkRows = 128 << 10

// previewRows is how many rows the reader reads of the first chunk before
// it tells the placer their extent (copyFeed.preview), so that the placer
// reads the group grids under it while the rest of the chunk is read and
// the load gets the table ready, instead of after: for a load that spans
// a province that read is every group grid (193,500 polygons), and the
// database writes nothing until the first chunk is placed.
const previewRows = 2048

// copyAhead is how many chunks may wait between the reading and the
// placing, and between the placing and the writing: the load holds at
// most 2×copyAhead+3 chunks.
const copyAhead = 2

// copyChunk is a run of rows read together, their values' COPY text in
// arena; once placed, in place order, with their grids.
type copyChunk struct {
	rows  []copyRow
	arena []byte
	masks []int64 // the distinct sets of given fields of its rows, in order of first use
	// wheres are its rows' Where, by line-first.
	wheres []string
	first  int32
	ext    orb.Bound
	// outside says a point lies outside the region's envelope (or is not
	// a number): the staged path names it.
	outside bool
	err     error // reading the group grids failed
	// spilled says the chunk, once written, went to the feed's spill file
	// (at, size bytes, n rows): rows, arena and wheres are nil until read
	// back.
	spilled  bool
	at, size int64
	n        int
}

// copyPlace is what placing a chunk needs from the database.
type copyPlace struct {
	ctx context.Context
	q   querier // reads the group grids

	env orb.Bound    // the region's envelope (a box): the place order's extent too
	loc *gridLocator // the group grids, nil if the load assigns none
	gi  int          // the grid's field, whose given value a row keeps
}

// copyFeed is a load's rows as a stream of placed chunks (out).
type copyFeed struct {
	b     *bulk
	ctx   context.Context // the load's, cancelled by finish
	grids querier         // where the placer reads the group grids
	// loc is the load's group grids, read as the chunks need them (the
	// placer's: copyPlace.loc), nil if the load assigns none.
	loc *gridLocator
	// preview is the extent of the first previewRows rows (the reader
	// sends it once, if the first chunk holds more rows and their
	// coordinates are numbers): the placer reads the grids under it first.
	preview chan orb.Bound
	cancel  context.CancelFunc
	next    func() (ImportRow, bool, error)
	raw     chan *copyChunk // read, not yet placed
	out     chan *copyChunk // placed, in the order read
	place   chan *copyPlace // what the placer waits for (sent once)
	stop    chan struct{}
	halt    sync.Once
	done    sync.WaitGroup // the reader and the placer
	// Set by the reader before raw closes (so before out closes):
	all  []*copyChunk // every chunk read, in line order
	rest *ImportRow   // the row that is not a point where the reader stopped
	err  error        // next's error
	eof  bool         // next reported the end
	line int32        // the rows read (the reader's)
	// spill holds the chunks written (the load's goroutine's), read back
	// only if the staged path takes over.
	spill *os.File
	end   int64
}

// streamRows starts reading next as a feed: the reader runs at once; the
// placer reads the group grids under the first rows (by b.pool, if the load
// assigns grids and has a pool), then waits for its copyPlace.
func (b *bulk) streamRows(ctx context.Context, next func() (ImportRow, bool, error)) *copyFeed {
	f := &copyFeed{b: b, next: next, raw: make(chan *copyChunk, copyAhead), out: make(chan *copyChunk, copyAhead),
		place: make(chan *copyPlace, 1), stop: make(chan struct{}), preview: make(chan orb.Bound, 1)}
	f.grids = b.pool
	f.ctx, f.cancel = context.WithCancel(ctx)
	if b.gridPoint != "" && f.grids != nil {
		f.loc = &gridLocator{}
	}
	f.done.Add(2)
	go f.read()
	go f.placeAll()
	return f
}

// stopped reports whether the feed was told to stop.
func (f *copyFeed) stopped() bool {
	select {
	case <-f.stop:
		return true
	default:
		return false
	}
}

// read reads chunks until the end, an error, a row that is not a point or
// a stop.
func (f *copyFeed) read() {
	defer f.done.Done()
	defer close(f.raw)
	vals := make([]any, len(f.b.fields))
	size, perRow := 0, 0
	for !f.stopped() {
		// The first chunk's size, then each twice the last up to the
		// later chunks' (copyLaterChunkRows).
		size = max(cmp.Or(f.b.chunkRows, copyChunkRows), min(2*size, cmp.Or(f.b.laterChunkRows, copyLaterChunkRows)))
		// Its rows' text in one arena the size the last chunk's rows
		// took a row, and a little more: grown by appends, a chunk's
		// arena was copied some ten times over, into pages the kernel
		// had to give it each time.
		c := &copyChunk{rows: make([]copyRow, 0, size), wheres: make([]string, 0, size), arena: make([]byte, 0, size*perRow), first: f.line + 1}
		for len(c.rows) < size {
			r, ok, err := f.next()
			if err != nil {
				f.err = err
				break
			}
			if !ok {
				f.eof = true
				break
			}
			p, isPoint := r.Feature.Geometry.(orb.Point)
			if !isPoint {
				f.rest = &r
				break
			}
			f.line++
			if err := f.b.collectRow(c, f.line, r, p, vals); err != nil {
				f.err = err
				break
			}
			if f.line == previewRows && size > previewRows {
				f.sendPreview(c.rows)
			}
		}
		if len(c.rows) > 0 {
			perRow = len(c.arena)/len(c.rows) + 8
			f.all = append(f.all, c)
			select {
			case f.raw <- c:
			case <-f.stop:
				return
			}
		}
		if f.err != nil || f.eof || f.rest != nil {
			return
		}
	}
}

// sendPreview sends the placer the extent of rows (copyFeed.preview), if
// their coordinates are numbers.
func (f *copyFeed) sendPreview(rows []copyRow) {
	ext := orb.Bound{Min: rows[0].pt, Max: rows[0].pt}
	for i := range rows {
		p := rows[i].pt
		if math.IsNaN(p[0]) || math.IsInf(p[0], 0) || math.IsNaN(p[1]) || math.IsInf(p[1], 0) {
			return
		}
		ext = ext.Extend(p)
	}
	// A quarter of its size more on each side: the first chunk's extent
	// (that of some 30,000 rows more) then most often lies inside it, and
	// its own read of the grids finds nothing left to read.
	dx, dy := (ext.Max[0]-ext.Min[0])/4, (ext.Max[1]-ext.Min[1])/4
	ext.Min[0], ext.Min[1], ext.Max[0], ext.Max[1] = ext.Min[0]-dx, ext.Min[1]-dy, ext.Max[0]+dx, ext.Max[1]+dy
	f.preview <- ext // buffered, sent once
}

// placeAll places the chunks read, once told how (or stops). Until then
// it reads the group grids under the first rows' extent (preview), if
// that comes first.
func (f *copyFeed) placeAll() {
	defer f.done.Done()
	defer close(f.out)
	var p *copyPlace
	if f.loc != nil {
		select {
		case ext := <-f.preview:
			// An error here is left to the chunk's own read of the grids,
			// which reports it (a failed read leaves the locator as it was).
			_ = f.loc.cover(f.ctx, f.grids, ext)
		case p = <-f.place:
		case <-f.stop:
			return
		}
	}
	if p == nil {
		select {
		case p = <-f.place:
		case <-f.stop:
			return
		}
	}
	for c := range f.raw {
		if f.stopped() {
			return
		}
		c.placeRows(p)
		select {
		case f.out <- c:
		case <-f.stop:
			return
		}
	}
}

// close finishes the feed and closes its spill file.
func (f *copyFeed) close() {
	f.finish()
	if f.spill != nil {
		f.spill.Close()
		f.spill = nil
	}
}

// store writes chunk c, written to the database, to the spill file and
// lets its rows go: the load holds only the chunks in flight.
func (f *copyFeed) store(c *copyChunk) error {
	if f.spill == nil {
		var err error
		if f.spill, err = os.CreateTemp("", "onemap-bulk-*"); err != nil {
			return fmt.Errorf("postgis: bulk import: spill file: %w", err)
		}
		// Unlinked at once (readable only by this process, 0600 until
		// then): no name is left behind, even by a crash.
		os.Remove(f.spill.Name())
	}
	// The rows in line order (c.rows are in place order): at(k) is the
	// row of line c.first+k.
	at := make([]int32, len(c.rows))
	for i := range c.rows {
		at[c.rows[i].line-c.first] = int32(i)
	}
	buf := make([]byte, 0, len(c.arena)+len(c.rows)*48)
	for i, k := range at {
		r := &c.rows[k]
		buf = binary.LittleEndian.AppendUint64(buf, uint64(r.mask))
		buf = binary.LittleEndian.AppendUint64(buf, uint64(r.lists))
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(r.pt[0]))
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(r.pt[1]))
		buf = binary.AppendUvarint(buf, uint64(r.end-r.off))
		buf = append(buf, c.arena[r.off:r.end]...)
		buf = binary.AppendUvarint(buf, uint64(len(c.wheres[i])))
		buf = append(buf, c.wheres[i]...)
	}
	if _, err := f.spill.Write(buf); err != nil {
		return fmt.Errorf("postgis: bulk import: spill file: %w", err)
	}
	c.spilled, c.at, c.size = true, f.end, int64(len(buf))
	f.end += int64(len(buf))
	c.n = len(c.rows)
	c.rows, c.arena, c.wheres = nil, nil, nil
	return nil
}

// load reads a spilled chunk back (its rows in line order).
func (f *copyFeed) load(c *copyChunk) error {
	if !c.spilled {
		return nil
	}
	buf := make([]byte, c.size)
	if _, err := f.spill.ReadAt(buf, c.at); err != nil {
		return fmt.Errorf("postgis: bulk import: spill file: %w", err)
	}
	n := c.n
	c.rows, c.wheres = make([]copyRow, 0, n), make([]string, 0, n)
	for i := range n {
		r := copyRow{line: c.first + int32(i)}
		r.mask = int64(binary.LittleEndian.Uint64(buf))
		r.lists = int64(binary.LittleEndian.Uint64(buf[8:]))
		r.pt[0] = math.Float64frombits(binary.LittleEndian.Uint64(buf[16:]))
		r.pt[1] = math.Float64frombits(binary.LittleEndian.Uint64(buf[24:]))
		buf = buf[32:]
		k, w := binary.Uvarint(buf)
		r.off = len(c.arena)
		c.arena = append(c.arena, buf[w:w+int(k)]...)
		r.end = len(c.arena)
		buf = buf[w+int(k):]
		k, w = binary.Uvarint(buf)
		c.wheres = append(c.wheres, string(buf[w:w+int(k)]))
		buf = buf[w+int(k):]
		c.rows = append(c.rows, r)
	}
	c.spilled = false
	return nil
}

// finish stops the feed and waits for its goroutines: after it, the
// chunks read (all), rest, err and next are the caller's.
func (f *copyFeed) finish() {
	f.halt.Do(func() { close(f.stop); f.cancel() })
	f.done.Wait()
}

// collectRow adds row r, line line (its point p), to c: its Where, its
// values as COPY text to c.arena.
func (b *bulk) collectRow(c *copyChunk, line int32, r ImportRow, p orb.Point, vals []any) error {
	c.wheres = append(c.wheres, r.Where)
	if r.Fields != nil && len(r.Fields) == len(b.fields) {
		return b.collectFields(c, line, r, p)
	}
	clear(vals)
	mask, err := b.values(r, vals)
	if err != nil {
		return err
	}
	row := copyRow{line: line, mask: mask, pt: p, off: len(c.arena)}
	sep := false
	for i, v := range vals {
		if v != nil {
			c.appendField(&row, i, v, sep) // a string or a list: values' own
			sep = true
		}
	}
	b.addRow(c, row)
	return nil
}

// appendField appends field i's value v to row's COPY text in c.arena,
// after a tab if sep (every field but the row's first): a text, a list as
// an array literal, or a number or boolean as appendScalar writes it;
// false, with nothing written, for a value of another type.
func (c *copyChunk) appendField(row *copyRow, i int, v any, sep bool) bool {
	start := len(c.arena)
	if sep {
		c.arena = append(c.arena, '\t')
	}
	switch v := v.(type) {
	case string:
		c.arena = appendCopyText(c.arena, v)
	case []string:
		c.arena = appendCopyText(c.arena, arrayLiteral(v))
		row.lists |= 1 << i
	default:
		var ok bool
		if c.arena, ok = appendScalar(c.arena, v); !ok {
			c.arena = c.arena[:start]
			return false
		}
	}
	return true
}

// addRow ends row, whose COPY text ends c.arena, and adds it to c, its
// set of fields to the load's and the chunk's.
func (b *bulk) addRow(c *copyChunk, row copyRow) {
	if !containsMask(b.masks, row.mask) {
		b.masks = append(b.masks, row.mask)
	}
	if !containsMask(c.masks, row.mask) {
		c.masks = append(c.masks, row.mask)
	}
	row.end = len(c.arena)
	c.rows = append(c.rows, row)
}

// collectFields is collectRow of a row that gives its fields by place
// (ImportRow.Fields): their COPY text goes to c.arena as it is made, with
// no value of the staging table's between (values), the same text.
func (b *bulk) collectFields(c *copyChunk, line int32, r ImportRow, p orb.Point) error {
	row := copyRow{line: line, pt: p, off: len(c.arena)}
	for i, v := range r.Fields {
		if v == nil {
			continue
		}
		if !c.appendField(&row, i, v, row.mask != 0) {
			name := b.fields[i].Name
			return onemap.FieldErrorf(name, onemap.EINVALID, "%s: field %q: a value of type %T", r.Where, name, v)
		}
		row.mask |= 1 << i
	}
	b.addRow(c, row)
	return nil
}

// placeRows checks c's points against the region's envelope, finds each
// one's group grid (unless the row gives it) and puts the rows in place
// order (a Hilbert curve over the envelope), then line.
func (c *copyChunk) placeRows(p *copyPlace) {
	c.ext = orb.Bound{Min: c.rows[0].pt, Max: c.rows[0].pt}
	for i := range c.rows {
		r := &c.rows[i]
		if !(r.pt[0] >= p.env.Min[0] && r.pt[0] <= p.env.Max[0] && r.pt[1] >= p.env.Min[1] && r.pt[1] <= p.env.Max[1]) {
			c.outside = true
			return
		}
		c.ext = c.ext.Extend(r.pt)
	}
	if p.loc != nil {
		if c.err = p.loc.cover(p.ctx, p.q, c.ext); c.err != nil {
			return
		}
	}
	// Sorted by one key a row, its place then its index (the rows are in
	// line order), and moved once: sorting the rows themselves (72 bytes
	// each, by a function) took some 7 % of the importer's CPU.
	keys := make([]uint64, len(c.rows))
	for i := range c.rows {
		r := &c.rows[i]
		if p.loc != nil && r.mask&(1<<p.gi) == 0 {
			r.grid = p.loc.place(r.pt)
		}
		r.order = hilbertOf(r.pt, p.env)
		keys[i] = uint64(r.order)<<32 | uint64(i)
	}
	slices.Sort(keys)
	sorted := make([]copyRow, len(c.rows))
	for k, key := range keys {
		sorted[k] = c.rows[uint32(key)]
	}
	c.rows = sorted
}
