// Package phototest makes photos for tests: real JPEG, PNG and WebP files
// that carry the metadata package photo strips (EXIF with a GPS position,
// text chunks, XMP), built here so that no tool is needed to make them.
package phototest

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
)

// GPSMarker is in every metadata block these photos carry, so that a test
// can tell it is gone by searching the bytes.
const GPSMarker = "GPS-25.530N-102.404E"

// Gradient is a w×h image with some texture (so that JPEG has work to do).
func Gradient(w, h int, seed byte) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{byte(x*7) ^ seed, byte(y * 5), byte((x * y) >> 3), 255})
		}
	}
	return img
}

// JPEG encodes img at quality q, with the APP1 Exif segment of ExifGPS, an
// XMP segment and a COM segment after its start, and junk after its end.
func JPEG(img image.Image, q int) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		panic(err)
	}
	b := buf.Bytes()
	var out []byte
	out = append(out, b[:2]...) // SOI
	out = append(out, segment(0xE1, ExifGPS())...)
	out = append(out, segment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>"+GPSMarker+"</x:xmpmeta>"))...)
	out = append(out, segment(0xFE, []byte("comment "+GPSMarker))...)
	out = append(out, b[2:]...)
	return append(out, []byte("trailing "+GPSMarker)...)
}

// segment is a JPEG marker segment.
func segment(marker byte, payload []byte) []byte {
	n := len(payload) + 2
	return append([]byte{0xFF, marker, byte(n >> 8), byte(n)}, payload...)
}

// ExifGPS is the payload of an APP1 Exif segment whose IFD0 points to a
// GPS IFD with a latitude, a longitude and their references (25°31'48"N,
// 102°24'14"E: 武定), and whose image description is GPSMarker.
func ExifGPS() []byte {
	be := binary.BigEndian
	var t []byte
	t = append(t, 'M', 'M', 0, 42, 0, 0, 0, 8) // TIFF header, IFD0 at 8
	// IFD0: 2 entries: ImageDescription (ASCII) and GPSInfo (LONG pointer).
	ifd0 := 8
	ifd0Len := 2 + 2*12 + 4
	desc := []byte(GPSMarker + "\x00")
	descAt := ifd0 + ifd0Len
	gpsAt := descAt + len(desc)
	entry := func(tag, typ uint16, count, value uint32) []byte {
		e := make([]byte, 12)
		be.PutUint16(e[0:], tag)
		be.PutUint16(e[2:], typ)
		be.PutUint32(e[4:], count)
		be.PutUint32(e[8:], value)
		return e
	}
	t = be.AppendUint16(t, 2)
	t = append(t, entry(0x010E, 2, uint32(len(desc)), uint32(descAt))...)
	t = append(t, entry(0x8825, 4, 1, uint32(gpsAt))...)
	t = be.AppendUint32(t, 0)
	t = append(t, desc...)
	// GPS IFD: LatitudeRef, Latitude, LongitudeRef, Longitude.
	gpsLen := 2 + 4*12 + 4
	latAt := gpsAt + gpsLen
	lonAt := latAt + 24
	t = be.AppendUint16(t, 4)
	t = append(t, entry(0x0001, 2, 2, uint32('N')<<24)...)
	t = append(t, entry(0x0002, 5, 3, uint32(latAt))...)
	t = append(t, entry(0x0003, 2, 2, uint32('E')<<24)...)
	t = append(t, entry(0x0004, 5, 3, uint32(lonAt))...)
	t = be.AppendUint32(t, 0)
	for _, r := range [][2]uint32{{25, 1}, {31, 1}, {48, 1}, {102, 1}, {24, 1}, {14, 1}} {
		t = be.AppendUint32(t, r[0])
		t = be.AppendUint32(t, r[1])
	}
	return append([]byte("Exif\x00\x00"), t...)
}

// PNG encodes img with tEXt, iTXt, tIME and eXIf chunks after its header,
// and junk after its end.
func PNG(img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	b := buf.Bytes()
	ihdrEnd := 8 + 12 + 13
	var out []byte
	out = append(out, b[:ihdrEnd]...)
	out = append(out, Chunk("tEXt", []byte("Comment\x00"+GPSMarker))...)
	out = append(out, Chunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00"+GPSMarker))...)
	out = append(out, Chunk("tIME", []byte{0x07, 0xEA, 12, 6, 1, 2, 3})...)
	out = append(out, Chunk("eXIf", ExifGPS()[6:])...)
	out = append(out, b[ihdrEnd:]...)
	return append(out, []byte(GPSMarker)...)
}

// Chunk is a PNG chunk with its CRC.
func Chunk(typ string, data []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[4:]))
}

// webpLossless is a 1×1 lossless WebP (a VP8L chunk in a RIFF).
const webpLossless = "UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA=="

// WebPPlain is a 1×1 lossless WebP without metadata.
func WebPPlain() []byte {
	b, err := base64.StdEncoding.DecodeString(webpLossless)
	if err != nil {
		panic(err)
	}
	return b
}

// WebP is WebPPlain's image in the extended format: a VP8X chunk whose
// flags say EXIF and XMP, the VP8L chunk, an EXIF chunk (ExifGPS) and an
// XMP chunk of odd length (padded).
func WebP() []byte {
	plain := WebPPlain()
	vp8l := plain[12:]
	le := binary.LittleEndian
	chunk := func(fourcc string, data []byte) []byte {
		out := append([]byte(fourcc), le.AppendUint32(nil, uint32(len(data)))...)
		out = append(out, data...)
		if len(data)%2 == 1 {
			out = append(out, 0)
		}
		return out
	}
	// VP8X: flags, 3 reserved bytes, canvas width-1 and height-1 (24 bits each).
	vp8x := chunk("VP8X", []byte{0x08 | 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	var body []byte
	body = append(body, "WEBP"...)
	body = append(body, vp8x...)
	body = append(body, vp8l...)
	body = append(body, chunk("EXIF", ExifGPS()[6:])...)
	body = append(body, chunk("XMP ", []byte("<x:xmpmeta>"+GPSMarker+"</x:xmpmeta>"))...)
	out := append([]byte("RIFF"), le.AppendUint32(nil, uint32(len(body)))...)
	return append(out, body...)
}
