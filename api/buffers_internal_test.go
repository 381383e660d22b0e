package api

import (
	"bytes"
	"compress/gzip"
	"io"
	"strconv"
	"testing"
)

// TestBuffer_gzip: a pooled buffer gzips one answer after another, a long
// one and then a short one, each whole and nothing of the one before.
func TestBuffer_gzip(t *testing.T) {
	var bs buffers
	long := []byte{}
	for i := range 20000 {
		long = strconv.AppendInt(append(long, `{"id":`...), int64(i*7919%100003), 10)
		long = append(long, "},"...)
	}
	short := []byte(`{"features":[]}`)
	for i, p := range [][]byte{long, short, long} {
		buf := bs.get()
		buf.b = append(buf.b[:0], p...)
		zr, err := gzip.NewReader(bytes.NewReader(buf.gzip(buf.b)))
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		if !bytes.Equal(got, p) {
			t.Errorf("answer %d: gunzipped %d bytes, want the %d written", i, len(got), len(p))
		}
		bs.put(buf)
	}
}
