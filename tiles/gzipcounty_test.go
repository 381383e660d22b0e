package tiles_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/onemapgis/onemap/tiles"
)

// BenchmarkGzipCounty gzips the demo county's mix of tiles (as
// BenchmarkEncodeCounty's "mix", encoded once) at the levels a tile could
// be sent at, in rounds that take turns, and reports for each the
// process's CPU time a tile and the gzipped bytes over the tile's bytes:
// what a cold tile's gzip costs beside its encode, and what a cheaper
// level would save and cost in bytes.
//
//	go test ./tiles -run '^$' -bench GzipCounty -benchtime 3x
func BenchmarkGzipCounty(b *testing.B) {
	county := loadCountyMix(b)
	specs := specsFor(county.catalog)
	e := tiles.NewEncoder(64 << 20)
	var mvts [][]byte
	raw := 0
	for _, t := range county.mix {
		mvt, err := e.Encode(county.snap, t, atZoom(specs, t.Z))
		if err != nil {
			b.Fatal(err)
		}
		if len(mvt) > 0 {
			mvts = append(mvts, mvt)
			raw += len(mvt)
		}
	}
	levels := []struct {
		name  string
		level int
	}{{"stateless", gzip.StatelessCompression}, {"huffman-only", gzip.HuffmanOnly}, {"level1", gzip.BestSpeed},
		{"level6", gzip.DefaultCompression}, {"level9", gzip.BestCompression}}
	cpu := make([]time.Duration, len(levels))
	out := make([]int, len(levels))
	writers := make([]*gzip.Writer, len(levels))
	for i, l := range levels {
		writers[i], _ = gzip.NewWriterLevel(nil, l.level)
	}
	var buf bytes.Buffer
	for b.Loop() {
		for i := range levels {
			c0 := processCPU(b)
			n := 0
			for _, mvt := range mvts {
				buf.Reset()
				writers[i].Reset(&buf)
				writers[i].Write(mvt)
				writers[i].Close()
				n += buf.Len()
			}
			cpu[i] += processCPU(b) - c0
			out[i] = n
		}
	}
	for i, l := range levels {
		b.ReportMetric(float64(cpu[i].Nanoseconds())/float64(b.N*len(mvts))/1000, l.name+"-cpu-µs/tile")
		b.ReportMetric(float64(out[i])/float64(raw), l.name+"-bytes/raw")
	}
	b.ReportMetric(float64(raw)/float64(len(mvts)), "raw-bytes/tile")
}
