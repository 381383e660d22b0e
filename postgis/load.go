package postgis

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"regexp"
	"runtime"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// LoadLayer reads every feature of one layer as of one moment, calling fn
// for each, and returns the sequence number of the last change that moment
// includes (inmem.LayerFeed: a follower reloads a layer after a bulk load).
func (db *DB) LoadLayer(ctx context.Context, layer string, fn func(r *onemap.Record) error) (int64, error) {
	if _, err := db.catalog.Layer(layer); err != nil {
		return 0, err
	}
	return db.LoadLayersWith(ctx, LoadOptions{Layers: []string{layer}}, func(_ string, recs []*onemap.Record) error {
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}, nil)
}

// LoadOptions tune LoadLayersWith.
type LoadOptions struct {
	// Workers is how many connections read at once (default: the CPUs,
	// at least 2, at most the pool's connections less one).
	Workers int
	// SplitAbove is the estimated size of a layer (rows) above which it is
	// read in Workers ranges of ids at once (default 100,000).
	SplitAbove int
	// Layers, if set, are the only layers read.
	Layers []string
}

// LoadLayers reads every layer of the catalogue and the open cases as of
// one moment, as LoadRecordsAndCases does, but in parallel: the moment is
// a snapshot exported from one transaction (pg_export_snapshot) that the
// other connections import, each reading a layer, or a range of ids of a
// large one, decoding the rows from the binary wire format into records
// without boxing a value (onemap.RecordBuilder). It calls layer once per
// layer with all its records, from whichever goroutine read its last
// part, so calls for different layers may run at once; open is called
// from one goroutine. It returns the sequence number of the last change
// the moment includes (inmem.ParallelFeed).
func (db *DB) LoadLayers(ctx context.Context, layer func(id string, recs []*onemap.Record) error, open func(*onemap.Case) error) (int64, error) {
	return db.LoadLayersWith(ctx, LoadOptions{}, layer, open)
}

// loadPart is a range of ids of a layer, [from, to) (0, 0: all).
type loadPart struct {
	layer    *onemap.Layer
	from, to int64
	est      float64
	recs     []*onemap.Record
}

// LoadLayersWith is LoadLayers with options.
func (db *DB) LoadLayersWith(ctx context.Context, o LoadOptions, layer func(id string, recs []*onemap.Record) error, open func(*onemap.Case) error) (int64, error) {
	if o.Workers <= 0 {
		o.Workers = max(2, runtime.GOMAXPROCS(0))
	}
	o.Workers = max(1, min(o.Workers, int(db.pool.Config().MaxConns)-1))
	if o.SplitAbove <= 0 {
		o.SplitAbove = 100_000
	}
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, mapError(fmt.Errorf("postgis: load layers: %w", err))
	}
	defer tx.Rollback(ctx)
	var (
		seq  int64
		snap string
	)
	if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
		return 0, mapError(fmt.Errorf("postgis: load layers: %w", err))
	}
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0), pg_export_snapshot() FROM change_feed`).Scan(&seq, &snap); err != nil {
		return 0, mapError(fmt.Errorf("postgis: load layers: %w", err))
	}
	if !snapshotID.MatchString(snap) {
		return 0, fmt.Errorf("postgis: load layers: snapshot %q", snap)
	}
	// The parts: each layer, and the large ones in ranges of ids; the
	// largest first.
	layers := db.catalog.Layers()
	var parts []*loadPart
	for i := range layers {
		l := &layers[i]
		if o.Layers != nil && !slices.Contains(o.Layers, l.ID) {
			continue
		}
		var (
			est      float64
			min, max int64
		)
		// The planner's estimate of the rows; the span of the ids if the
		// table was never analysed.
		if err := tx.QueryRow(ctx, `SELECT c.reltuples, coalesce((SELECT min(id) FROM `+pgx.Identifier{l.ID}.Sanitize()+`), 0),
			coalesce((SELECT max(id) FROM `+pgx.Identifier{l.ID}.Sanitize()+`), 0) FROM pg_class c WHERE c.oid = $1::regclass`,
			l.ID).Scan(&est, &min, &max); err != nil {
			return 0, mapError(fmt.Errorf("postgis: load %s: %w", l.ID, err))
		}
		if est < 0 {
			est = float64(max - min + 1)
		}
		n := 1
		if est > float64(o.SplitAbove) && o.Workers > 1 {
			n = o.Workers
		}
		if n == 1 {
			parts = append(parts, &loadPart{layer: l, est: est})
			continue
		}
		step := (max - min + int64(n)) / int64(n)
		for k := range n {
			from := min + int64(k)*step
			to := from + step
			if k == n-1 {
				to = max + 1
			}
			parts = append(parts, &loadPart{layer: l, from: from, to: to, est: est / float64(n)})
		}
	}
	slices.SortStableFunc(parts, func(a, b *loadPart) int { return cmp.Compare(b.est, a.est) })
	left := map[string]int{}
	for _, p := range parts {
		left[p.layer.ID]++
	}
	var (
		mu    sync.Mutex
		next  int
		wg    sync.WaitGroup
		errs  = make([]error, o.Workers)
		wctx  context.Context
		abort context.CancelFunc
	)
	wctx, abort = context.WithCancel(ctx)
	defer abort()
	for w := range o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = db.loadWorker(wctx, snap, func() *loadPart {
				mu.Lock()
				defer mu.Unlock()
				if next == len(parts) {
					return nil
				}
				next++
				return parts[next-1]
			}, func(p *loadPart) error {
				mu.Lock()
				left[p.layer.ID]--
				last := left[p.layer.ID] == 0
				mu.Unlock()
				if !last {
					return nil
				}
				var all []*loadPart
				for _, q := range parts {
					if q.layer.ID == p.layer.ID {
						all = append(all, q)
					}
				}
				slices.SortFunc(all, func(a, b *loadPart) int { return cmp.Compare(a.from, b.from) })
				n := 0
				for _, q := range all {
					n += len(q.recs)
				}
				recs := make([]*onemap.Record, 0, n)
				for _, q := range all {
					recs = append(recs, q.recs...)
					q.recs = nil
				}
				return layer(p.layer.ID, recs)
			})
			if errs[w] != nil {
				abort()
			}
		}()
	}
	var caseErr error
	if open != nil {
		caseErr = loadOpenCases(ctx, tx, open)
		if caseErr != nil {
			abort()
		}
	}
	wg.Wait()
	if err := errors.Join(append(errs, caseErr)...); err != nil {
		return 0, err
	}
	return seq, tx.Commit(ctx)
}

// snapshotID is the form of pg_export_snapshot's answer, which
// SET TRANSACTION SNAPSHOT takes as a literal (it takes no parameter).
var snapshotID = regexp.MustCompile(`^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$`)

// loadWorker reads the parts that take returns, in a transaction of its own
// that sees the exported snapshot snap, until take returns nil; done is
// called after each.
func (db *DB) loadWorker(ctx context.Context, snap string, take func() *loadPart, done func(*loadPart) error) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return mapError(fmt.Errorf("postgis: load layers: %w", err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SET TRANSACTION SNAPSHOT '`+snap+`'`); err != nil {
		return mapError(fmt.Errorf("postgis: load layers: import the snapshot: %w", err))
	}
	if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
		return mapError(fmt.Errorf("postgis: load layers: %w", err))
	}
	var d rawDecoder
	for p := take(); p != nil; p = take() {
		q := `SELECT ` + recordColumns(p.layer) + ` FROM ` + pgx.Identifier{p.layer.ID}.Sanitize() + ` t`
		args := []any{pgx.QueryResultFormats{pgx.BinaryFormatCode}}
		if p.to > p.from {
			q += ` WHERE t.id >= $1 AND t.id < $2`
			args = append(args, p.from, p.to)
		}
		p.recs = make([]*onemap.Record, 0, int(p.est)+16)
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return mapError(fmt.Errorf("postgis: load %s: %w", p.layer.ID, err))
		}
		for rows.Next() {
			r, err := d.record(p.layer, rows.RawValues())
			if err != nil {
				rows.Close()
				return err
			}
			p.recs = append(p.recs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return mapError(fmt.Errorf("postgis: load %s: %w", p.layer.ID, err))
		}
		if err := done(p); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// rawDecoder turns rows of recordColumns, in the binary wire format, into
// records.
type rawDecoder struct {
	b     onemap.RecordBuilder
	items [][]byte
}

// record decodes one row: id (int8), version (int4), the geometry as WKB
// (bytea), then each field in the form fieldSQL gives it.
func (d *rawDecoder) record(l *onemap.Layer, vals [][]byte) (*onemap.Record, error) {
	if len(vals) != 3+len(l.Fields) || len(vals[0]) != 8 || len(vals[1]) != 4 {
		return nil, fmt.Errorf("postgis: load %s: a row of %d columns", l.ID, len(vals))
	}
	id := int64(binary.BigEndian.Uint64(vals[0]))
	version := int32(binary.BigEndian.Uint32(vals[1]))
	g, err := decodeWKB(vals[2])
	if err != nil {
		return nil, fmt.Errorf("postgis: %s/%d geometry: %w", l.ID, id, err)
	}
	for i, f := range l.Fields {
		v := vals[3+i]
		if v == nil {
			d.b.Null()
			continue
		}
		switch f.Type {
		case onemap.FieldInteger:
			if len(v) != 8 {
				return nil, fmt.Errorf("postgis: %s/%d %s: %d bytes", l.ID, id, f.Name, len(v))
			}
			d.b.Int(int64(binary.BigEndian.Uint64(v)))
		case onemap.FieldNumber:
			if len(v) != 8 {
				return nil, fmt.Errorf("postgis: %s/%d %s: %d bytes", l.ID, id, f.Name, len(v))
			}
			d.b.Float(math.Float64frombits(binary.BigEndian.Uint64(v)))
		case onemap.FieldBoolean:
			d.b.Bool(len(v) > 0 && v[0] != 0)
		case onemap.FieldStrings:
			items, err := textArray(d.items[:0], v)
			if err != nil {
				return nil, fmt.Errorf("postgis: %s/%d %s: %w", l.ID, id, f.Name, err)
			}
			d.items = items
			d.b.Strings(items)
		default:
			d.b.String(v)
		}
	}
	return d.b.Record(id, version, g)
}

// decodeWKB decodes a geometry; a 2D point, most of what a replica holds,
// without the general decoder.
func decodeWKB(b []byte) (orb.Geometry, error) {
	if len(b) == 21 {
		switch {
		case b[0] == 1 && binary.LittleEndian.Uint32(b[1:]) == 1:
			return orb.Point{math.Float64frombits(binary.LittleEndian.Uint64(b[5:])), math.Float64frombits(binary.LittleEndian.Uint64(b[13:]))}, nil
		case b[0] == 0 && binary.BigEndian.Uint32(b[1:]) == 1:
			return orb.Point{math.Float64frombits(binary.BigEndian.Uint64(b[5:])), math.Float64frombits(binary.BigEndian.Uint64(b[13:]))}, nil
		}
	}
	return wkb.Unmarshal(b)
}

// textArray appends the elements of a one-dimensional text[] in the binary
// wire format to items (a NULL element as an empty string, as pgx scans
// one into a []string).
func textArray(items [][]byte, b []byte) ([][]byte, error) {
	if len(b) < 12 {
		return nil, fmt.Errorf("a text[] of %d bytes", len(b))
	}
	ndim := binary.BigEndian.Uint32(b)
	p := 12
	if items == nil {
		items = [][]byte{} // an empty list, not none
	}
	if ndim == 0 {
		return items, nil
	}
	if ndim != 1 || len(b) < 20 {
		return nil, fmt.Errorf("a text[] of %d dimensions", ndim)
	}
	n := int(binary.BigEndian.Uint32(b[p:]))
	p += 8
	for range n {
		if len(b) < p+4 {
			return nil, fmt.Errorf("a short text[]")
		}
		size := int(int32(binary.BigEndian.Uint32(b[p:])))
		p += 4
		if size < 0 {
			items = append(items, []byte{})
			continue
		}
		if len(b) < p+size {
			return nil, fmt.Errorf("a short text[]")
		}
		items = append(items, b[p:p+size])
		p += size
	}
	return items, nil
}
