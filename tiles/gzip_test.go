package tiles

import (
	"bytes"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"
)

// TestGzipTile checks the service's gzip (stateless deflate) on bytes of a
// tile's sizes, across the 32 KB blocks it cuts its input into: each comes
// back whole through the standard library's reader, with the writer kept
// from one to the next, and none is much larger than level 1 makes it.
func TestGzipTile(t *testing.T) {
	s := NewService(ServiceConfig{})
	rng := rand.New(rand.NewPCG(1, 2))
	// Bytes like a tile's: runs of varint-like noise and repeated
	// property keys and values.
	tile := func(n int) []byte {
		b := make([]byte, 0, n)
		words := [][]byte{[]byte("risk_point"), []byte("level"), []byte("red"), []byte("kind"), []byte("camera")}
		for len(b) < n {
			if rng.IntN(3) == 0 {
				b = append(b, words[rng.IntN(len(words))]...)
			} else {
				b = append(b, byte(rng.IntN(64)), byte(rng.IntN(256)))
			}
		}
		return b[:n]
	}
	for _, n := range []int{1, 40, 900, 4096, 24_700, 32_767, 32_768, 60_000, 74_000, 200_000} {
		mvt := tile(n)
		got := s.gzip([]byte("kept"), mvt)
		if string(got[:4]) != "kept" {
			t.Fatalf("%d bytes: what dst held was overwritten", n)
		}
		zr, err := gzip.NewReader(bytes.NewReader(got[4:]))
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		back, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(back, mvt) {
			t.Fatalf("%d bytes: read back %d bytes, equal %v, %v", n, len(back), bytes.Equal(back, mvt), err)
		}
		var l1 bytes.Buffer
		zw, _ := kgzip.NewWriterLevel(&l1, kgzip.BestSpeed)
		zw.Write(mvt)
		zw.Close()
		if len(got)-4 > l1.Len()+l1.Len()/50+16 {
			t.Errorf("%d bytes: gzipped to %d, level 1 to %d", n, len(got)-4, l1.Len())
		}
	}
}
