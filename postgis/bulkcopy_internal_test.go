package postgis

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

// TestCopyText: a value written for COPY's text format (appendCopyText,
// arrayLiteral for a list) reads back the same (unescapeCopyText,
// parseArrayLiteral), as the staged path reads a load's rows again when the
// client-computed path gives way; a raw tab never appears inside a value.
func TestCopyText(t *testing.T) {
	for _, s := range []string{"", "plain", "摄像头 1", "a\tb", "line\nbreak\r", `back\slash`, `\N`, `"quoted"`, "\\t"} {
		enc := string(appendCopyText(nil, s))
		if slices.Contains([]byte(enc), '\t') || slices.Contains([]byte(enc), '\n') {
			t.Errorf("%q encodes as %q: a raw tab or newline", s, enc)
		}
		if got := unescapeCopyText(enc); got != s {
			t.Errorf("%q encodes as %q, reads back %q", s, enc, got)
		}
	}
	for _, l := range [][]string{{}, {""}, {"a"}, {"a", "b,c"}, {`say "hi"`, `c:\dir`, "{}", "tab\there"}} {
		enc := string(appendCopyText(nil, arrayLiteral(l)))
		if got := parseArrayLiteral(unescapeCopyText(enc)); !slices.Equal(got, l) {
			t.Errorf("%q encodes as %q, reads back %q", l, enc, got)
		}
	}
}

// TestGeomContains: a point meets a polygon inside it, on its outer edge
// and on the edge of a hole, not inside the hole nor outside (as
// ST_Intersects answers, which the grid trigger asks).
func TestGeomContains(t *testing.T) {
	holed := orb.Polygon{{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}, {{4, 4}, {6, 4}, {6, 6}, {4, 6}, {4, 4}}}
	for _, tc := range []struct {
		p    orb.Point
		want bool
	}{
		{orb.Point{1, 1}, true}, {orb.Point{0, 5}, true}, {orb.Point{10, 10}, true},
		{orb.Point{4, 5}, true}, {orb.Point{5, 6}, true}, {orb.Point{6, 6}, true},
		{orb.Point{5, 5}, false}, {orb.Point{11, 5}, false}, {orb.Point{-0.1, 0}, false},
	} {
		for _, g := range []orb.Geometry{holed, orb.MultiPolygon{{{{20, 20}, {21, 20}, {21, 21}, {20, 20}}}, holed}} {
			if got := geomContains(g, tc.p); got != tc.want {
				t.Errorf("%T holds %v: %v, want %v", g, tc.p, got, tc.want)
			}
		}
	}
}

// BenchmarkCopyRows is the importer's own work a row on the
// client-computed path, the file's reading and the database aside: the
// rows read as a stream of chunks (their values as COPY text), each chunk
// put in place order, and written as the COPY's text (the group grids
// aside).
func BenchmarkCopyRows(bm *testing.B) {
	l, err := onemap.NewCatalog().Layer(onemap.LayerCameras)
	if err != nil {
		bm.Fatal(err)
	}
	const n = 200_000
	rows := make([]ImportRow, n)
	for i := range rows {
		rows[i] = ImportRow{Where: "line " + strconv.Itoa(i+2), Feature: &onemap.Feature{Layer: l.ID,
			Geometry: orb.Point{98 + float64(i%997)*0.007, 22 + float64(i/997)*0.03},
			Properties: map[string]any{"device_code": fmt.Sprintf("53%018d", i), "name": "摄像头" + strconv.Itoa(i),
				"kind": "dome", "status": "online", "heading": float64(i % 360)}}}
	}
	bm.ResetTimer()
	for range bm.N {
		b := &bulk{layer: &l}
		for _, f := range l.Fields {
			if !f.ReadOnly {
				b.fields = append(b.fields, f)
			}
		}
		i := 0
		f := b.streamRows(context.Background(), func() (ImportRow, bool, error) {
			if i == n {
				return ImportRow{}, false, nil
			}
			i++
			return rows[i-1], true, nil
		})
		f.place <- &copyPlace{env: orb.Bound{Min: orb.Point{98, 22}, Max: orb.Point{105, 28}}, gi: b.index("grid_id")}
		id := int64(1)
		for c := range f.out {
			for j := range c.rows {
				c.rows[j].id = id
				id++
			}
			for _, m := range c.masks {
				if _, err := io.Copy(io.Discard, &copyReader{rows: c.rows, arena: c.arena, mask: m, grid: true, actor: "bench"}); err != nil {
					bm.Fatal(err)
				}
			}
		}
		f.finish()
		if f.err != nil || id != n+1 {
			bm.Fatal(f.err, id)
		}
	}
	bm.ReportMetric(float64(bm.Elapsed().Nanoseconds())/float64(bm.N)/n, "ns/row")
}

// TestCopyRowField: a row's field is read from its fields' COPY text by
// the fields it gives before it, escapes and all.
func TestCopyRowField(t *testing.T) {
	arena := []byte("x\tone\\ttab\t\\N\tlast")
	r := copyRow{mask: 1<<1 | 1<<4 | 1<<6, off: 2, end: len(arena)} // after another row's "x\t"
	for i, want := range map[int]string{1: `one\ttab`, 4: `\N`, 6: "last"} {
		if got, ok := r.field(arena, i); !ok || string(got) != want {
			t.Errorf("field %d = %q, %v; want %q", i, got, ok, want)
		}
	}
	for _, i := range []int{0, 2, 3, 5} {
		if _, ok := r.field(arena, i); ok {
			t.Errorf("field %d given", i)
		}
	}
}

// TestCopyFeed_chunkSizes: the stream's first chunk holds copyChunkRows
// rows (the database starts writing soon), each later one twice the one
// before up to copyLaterChunkRows (fewer sweeps of a large layer's index
// pages), the last what is left; each chunk is in place order, and every
// row comes once.
func TestCopyFeed_chunkSizes(t *testing.T) {
	l, err := onemap.NewCatalog().Layer(onemap.LayerCameras)
	if err != nil {
		t.Fatal(err)
	}
	b := &bulk{layer: &l}
	for _, f := range l.Fields {
		if !f.ReadOnly {
			b.fields = append(b.fields, f)
		}
	}
	n := copyChunkRows + 2*copyChunkRows + copyLaterChunkRows + copyLaterChunkRows + 1000
	i := 0
	f := b.streamRows(context.Background(), func() (ImportRow, bool, error) {
		if i == n {
			return ImportRow{}, false, nil
		}
		i++
		return ImportRow{Where: "line " + strconv.Itoa(i+1), Feature: &onemap.Feature{Layer: l.ID,
			Geometry:   orb.Point{98 + float64(i%997)*0.007, 22 + float64(i/997)*0.02},
			Properties: map[string]any{"device_code": fmt.Sprintf("53%018d", i), "name": "摄像头", "kind": "dome", "status": "online"}}}, true, nil
	})
	f.place <- &copyPlace{env: orb.Bound{Min: orb.Point{98, 22}, Max: orb.Point{105, 28}}, gi: b.index("grid_id")}
	var sizes []int
	seen := make([]bool, n+1)
	for c := range f.out {
		sizes = append(sizes, len(c.rows))
		for j, r := range c.rows {
			if j > 0 && r.order < c.rows[j-1].order {
				t.Fatalf("chunk %d: row %d out of place order", len(sizes), j)
			}
			if seen[r.line] {
				t.Fatalf("line %d twice", r.line)
			}
			seen[r.line] = true
		}
	}
	f.finish()
	if f.err != nil {
		t.Fatal(f.err)
	}
	if want := []int{copyChunkRows, 2 * copyChunkRows, copyLaterChunkRows, copyLaterChunkRows, 1000}; !slices.Equal(sizes, want) {
		t.Errorf("chunks of %v rows; want %v", sizes, want)
	}
}
