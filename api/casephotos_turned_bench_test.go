package api_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"testing"

	"github.com/onemapgis/onemap/photo"
)

// turnedPhoto is a 12-megapixel phone photo held on its side: 4032×3024
// sensor pixels (a gradient with noise, the texture of a photo of a
// street) of at least n bytes at quality 90, with an Exif segment saying
// Orientation 6 (turn a quarter clockwise to show), as a phone held
// upright stores it.
func turnedPhoto(tb testing.TB, n int) []byte {
	tb.Helper()
	const w, h = 4032, 3024
	r := rand.New(rand.NewPCG(3, 4))
	for amp := 16; ; amp *= 2 {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				o := img.PixOffset(x, y)
				base := [3]int{x * 255 / w, y * 255 / h, (x + y) * 255 / (w + h)}
				for c := range 3 {
					img.Pix[o+c] = byte(min(255, max(0, base[c]+r.IntN(2*amp+1)-amp)))
				}
				img.Pix[o+3] = 255
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
			tb.Fatal(err)
		}
		if buf.Len() < n && amp < 128 {
			continue
		}
		e := buf.Bytes()
		seg := []byte{0xFF, 0xE1, 0, 34}
		seg = append(seg, "Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00"...)
		out := append(append(append([]byte{}, e[:2]...), seg...), e[2:]...)
		if photo.Orientation(out) != 6 {
			tb.Fatal("the turned photo has no orientation 6")
		}
		return out
	}
}

// varyTables writes i into two low-frequency steps of the first
// quantisation table (DQT), so that each report's photos decode to other
// pixels and, turned, are new to the store, as real ones are. Unlike
// vary, the entropy-coded data is left whole: the photo is decoded.
func varyTables(tb testing.TB, b []byte, i int) []byte {
	tb.Helper()
	out := bytes.Clone(b)
	at := bytes.Index(out, []byte{0xFF, 0xDB})
	if at < 0 {
		tb.Fatal("no quantisation table")
	}
	// FF DB, length (2), precision and id (1), then the 64 steps in zigzag order.
	out[at+5+1] = byte(1 + i%200)
	out[at+5+2] = byte(1 + i/200%200)
	return out
}
