package api

import (
	"bytes"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// buffers keeps the byte buffers of the answers the server writes itself
// (the nearest features, the public stations), so that a busy server does
// not allocate one per answer. Safe for concurrent use.
type buffers struct{ pool sync.Pool }

// buffer is one answer's: b for its JSON, and the gzip writer and output
// of buffer.gzip, made on first use.
type buffer struct {
	b  []byte
	gz bytes.Buffer
	zw *gzip.Writer
}

// maxKept is the largest buffer put back: an outsized answer is not kept.
const maxKept = 1 << 20

func (bs *buffers) get() *buffer {
	if b, ok := bs.pool.Get().(*buffer); ok {
		return b
	}
	return &buffer{b: make([]byte, 0, 16<<10)}
}

func (bs *buffers) put(b *buffer) {
	if cap(b.b) <= maxKept && b.gz.Cap() <= maxKept {
		bs.pool.Put(b)
	}
}

// gzip returns p gzipped at the fastest level, in the buffer's own memory:
// valid until the next call or until the buffer is put back.
func (b *buffer) gzip(p []byte) []byte {
	if b.zw == nil {
		b.zw, _ = gzip.NewWriterLevel(nil, gzip.BestSpeed) // never fails: the level is valid
	}
	b.gz.Reset()
	b.zw.Reset(&b.gz)
	b.zw.Write(p) // writes to memory: never fails
	b.zw.Close()
	return b.gz.Bytes()
}
