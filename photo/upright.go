package photo

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
)

// Turning the pixels upright. A phone stores what its sensor saw and says
// in the EXIF Orientation tag how to turn it for display (orient.go).
// Services that take photos from phones and show them again to anyone
// (chat, social and map services alike) normalise: they turn the pixels
// upright, drop the tag and bound the photo's size, so that every viewer
// shows it upright, including those that ignore EXIF (many image
// libraries, GIS and office tools, a photo saved from the page and mailed
// on). So does Upright: a JPEG whose orientation is 2 to 8 (as Strip left
// it: that one tag and no other EXIF) is decoded, turned and encoded again
// (at UprightQuality, keeping its ICC colour profile), and keeps no EXIF
// at all. A JPEG already upright (orientation 1 or none) is not decoded:
// Strip took its metadata, losslessly, and Upright has nothing to do.
//
// A photo that is encoded again is also brought within UprightMaxSide on
// its long side (by averaging blocks of 2×2, 3×3, … pixels), as services
// that re-encode do (2,048 to 4,096 pixels): encoding a 12-megapixel photo
// takes about 0.35 s of a core, a quarter of it about 0.1 s. Its detail is
// still four times a phone screen's.
//
// Every JPEG is held to MaxPixels before anything is decoded, by the size
// its frame header declares: a few megabytes can declare gigapixels.

// MaxPixels is the most pixels a JPEG may have: 50 megapixels, a phone's
// full-resolution mode (48 or 50 megapixels; their everyday photos are 12).
const MaxPixels = 50_000_000

// UprightMaxSide is the most pixels on the long side of a photo that is
// turned (and so encoded again): 2,560.
const UprightMaxSide = 2560

// UprightQuality is the JPEG quality a turned photo is encoded at: what
// phones store at, so that the second encoding loses little.
const UprightQuality = 90

// jpegSize checks the size a JPEG's frame header declares against
// MaxPixels.
func jpegSize(b []byte) error {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("photo: JPEG: %v", err)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > MaxPixels {
		return fmt.Errorf("photo: JPEG of %d×%d pixels (%.1f megapixels); a photo may have at most %d megapixels",
			cfg.Width, cfg.Height, float64(px)/1e6, MaxPixels/1_000_000)
	}
	return nil
}

// Upright returns the JPEG b turned as its EXIF orientation says, encoded
// again with b's ICC profile segments and no EXIF, and whether it was
// turned: a photo whose orientation is 1 (or that is no JPEG) is b itself,
// untouched. b is a photo as Strip returns it; one whose frame declares
// more than MaxPixels is refused before it is decoded.
func Upright(b []byte) (out []byte, turned bool, err error) {
	o := Orientation(b)
	if o == 1 {
		return b, false, nil
	}
	if err := jpegSize(b); err != nil {
		return nil, false, err
	}
	out, err = upright(b, o)
	return out, err == nil, err
}

// upright returns the JPEG b turned as orientation o (2 to 8) says,
// encoded again with b's ICC profile segments and no EXIF.
func upright(b []byte, o int) ([]byte, error) {
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("photo: JPEG does not decode: %v", err)
	}
	var buf bytes.Buffer
	buf.Grow(len(b) + len(b)/4)
	if k := (max(img.Bounds().Dx(), img.Bounds().Dy()) + UprightMaxSide - 1) / UprightMaxSide; k > 1 {
		img = shrink(img, k)
	}
	if err := jpeg.Encode(&buf, orient(img, o), &jpeg.Options{Quality: UprightQuality}); err != nil {
		return nil, fmt.Errorf("photo: JPEG: encoding the turned photo: %v", err)
	}
	enc := buf.Bytes()
	out := make([]byte, 0, len(enc)+4096)
	out = append(out, enc[:2]...) // SOI
	out = append(out, iccSegments(b)...)
	return append(out, enc[2:]...), nil
}

// iccSegments returns the APP2 ICC_PROFILE segments of JPEG b, whole and
// in order (a profile may span several).
func iccSegments(b []byte) []byte {
	var out []byte
	for i := 2; i+4 <= len(b) && b[i] == 0xFF; {
		m := b[i+1]
		if m == mSOS || m == mEOI {
			break
		}
		n := int(b[i+2])<<8 | int(b[i+3])
		if n < 2 || i+2+n > len(b) {
			break
		}
		if m == mAPP2 && bytes.HasPrefix(b[i+4:i+2+n], []byte("ICC_PROFILE\x00")) {
			out = append(out, b[i:i+2+n]...)
		}
		i += 2 + n
	}
	return out
}

// orient returns img turned for display as EXIF orientation o (1 to 8)
// says. A YCbCr image (what a colour JPEG decodes to) is turned plane by
// plane and stays YCbCr, its chroma subsampling turned with it (4:2:2
// becomes 4:4:0); a grey one stays grey; anything else goes through RGBA.
func orient(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	swap := o >= 5 // the turns of a quarter: width and height change places
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	size := func(w, h int) image.Rectangle {
		if swap {
			return image.Rect(0, 0, h, w)
		}
		return image.Rect(0, 0, w, h)
	}
	switch m := img.(type) {
	case *image.YCbCr:
		ratio, ok := m.SubsampleRatio, true
		if swap {
			switch m.SubsampleRatio {
			case image.YCbCrSubsampleRatio422:
				ratio = image.YCbCrSubsampleRatio440
			case image.YCbCrSubsampleRatio440:
				ratio = image.YCbCrSubsampleRatio422
			case image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410:
				ok = false // their turns are no ratio Go has
			}
		}
		if ok {
			dst := image.NewYCbCr(size(w, h), ratio)
			turn(dst.Y, dst.YStride, m.Y[m.YOffset(r.Min.X, r.Min.Y):], m.YStride, w, h, 1, o)
			cw, ch := chromaSize(m.SubsampleRatio, w, h)
			c0 := m.COffset(r.Min.X, r.Min.Y)
			turn(dst.Cb, dst.CStride, m.Cb[c0:], m.CStride, cw, ch, 1, o)
			turn(dst.Cr, dst.CStride, m.Cr[c0:], m.CStride, cw, ch, 1, o)
			return dst
		}
	case *image.Gray:
		dst := image.NewGray(size(w, h))
		turn(dst.Pix, dst.Stride, m.Pix[m.PixOffset(r.Min.X, r.Min.Y):], m.Stride, w, h, 1, o)
		return dst
	}
	src := toRGBA(img)
	dst := image.NewRGBA(size(w, h))
	turn(dst.Pix, dst.Stride, src.Pix, src.Stride, w, h, 4, o)
	return dst
}

// chromaSize is the size of the chroma planes of a w×h YCbCr image.
func chromaSize(r image.YCbCrSubsampleRatio, w, h int) (int, int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return (w + 1) / 2, h
	case image.YCbCrSubsampleRatio420:
		return (w + 1) / 2, (h + 1) / 2
	case image.YCbCrSubsampleRatio440:
		return w, (h + 1) / 2
	case image.YCbCrSubsampleRatio411:
		return (w + 3) / 4, h
	case image.YCbCrSubsampleRatio410:
		return (w + 3) / 4, (h + 1) / 2
	}
	return w, h
}

// turn writes the w×h plane src (px bytes a pixel, rows stride apart) into
// dst turned as EXIF orientation o says: dst is w×h for 2 to 4, h×w for 5
// to 8. Each pixel (x, y) of dst is the pixel of src the orientation puts
// there (CIPA DC-008, Orientation):
//
//	2 mirrored left to right   (w-1-x, y)
//	3 turned half a turn       (w-1-x, h-1-y)
//	4 mirrored top to bottom   (x, h-1-y)
//	5 mirrored along the main diagonal           (y, x)
//	6 turned a quarter clockwise                 (y, h-1-x)
//	7 mirrored along the other diagonal          (w-1-y, h-1-x)
//	8 turned a quarter anticlockwise             (w-1-y, x)
func turn(dst []byte, dstStride int, src []byte, srcStride, w, h, px, o int) {
	// The source offset of dst's (x, y) is base + x*ax + y*ay.
	right, down := (w-1)*px, (h-1)*srcStride
	base, ax, ay := 0, px, srcStride
	switch o {
	case 2:
		base, ax, ay = right, -px, srcStride
	case 3:
		base, ax, ay = right+down, -px, -srcStride
	case 4:
		base, ax, ay = down, px, -srcStride
	case 5:
		base, ax, ay = 0, srcStride, px
	case 6:
		base, ax, ay = down, -srcStride, px
	case 7:
		base, ax, ay = right+down, -srcStride, -px
	case 8:
		base, ax, ay = right, srcStride, -px
	}
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	for y := range dh {
		row := dst[y*dstStride : y*dstStride+dw*px]
		s := base + y*ay
		if px == 1 {
			for x := range row {
				row[x] = src[s]
				s += ax
			}
			continue
		}
		for x := 0; x < len(row); x += px {
			copy(row[x:x+px], src[s:s+px])
			s += ax
		}
	}
}

// toRGBA returns img as an RGBA image at (0, 0).
func toRGBA(img image.Image) *image.RGBA {
	r := img.Bounds()
	if m, ok := img.(*image.RGBA); ok && r.Min == (image.Point{}) {
		return m
	}
	out := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := range r.Dy() {
		for x := range r.Dx() {
			out.Set(x, y, color.RGBAModel.Convert(img.At(r.Min.X+x, r.Min.Y+y)))
		}
	}
	return out
}

// shrink returns img k times smaller on each side (rounded up), each pixel
// the average of the k×k it stands for. A YCbCr image stays YCbCr of the
// same subsampling, a grey one grey; anything else becomes RGBA.
func shrink(img image.Image, k int) image.Image {
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	small := image.Rect(0, 0, (w+k-1)/k, (h+k-1)/k)
	switch m := img.(type) {
	case *image.YCbCr:
		dst := image.NewYCbCr(small, m.SubsampleRatio)
		box(dst.Y, dst.YStride, small.Dx(), small.Dy(), m.Y[m.YOffset(r.Min.X, r.Min.Y):], m.YStride, w, h, 1, k)
		cw, ch := chromaSize(m.SubsampleRatio, w, h)
		dw, dh := chromaSize(m.SubsampleRatio, small.Dx(), small.Dy())
		c0 := m.COffset(r.Min.X, r.Min.Y)
		box(dst.Cb, dst.CStride, dw, dh, m.Cb[c0:], m.CStride, cw, ch, 1, k)
		box(dst.Cr, dst.CStride, dw, dh, m.Cr[c0:], m.CStride, cw, ch, 1, k)
		return dst
	case *image.Gray:
		dst := image.NewGray(small)
		box(dst.Pix, dst.Stride, small.Dx(), small.Dy(), m.Pix[m.PixOffset(r.Min.X, r.Min.Y):], m.Stride, w, h, 1, k)
		return dst
	}
	src := toRGBA(img)
	dst := image.NewRGBA(small)
	box(dst.Pix, dst.Stride, small.Dx(), small.Dy(), src.Pix, src.Stride, w, h, 4, k)
	return dst
}

// box writes into the dw×dh plane dst the sw×sh plane src made k times
// smaller: each of dst's pixels (px bytes each, averaged byte by byte) is
// the mean of the block of src it stands for, cut at src's edges (a
// chroma plane's rounding may leave dst a pixel more than src gives: it
// repeats the last).
func box(dst []byte, dstStride, dw, dh int, src []byte, srcStride, sw, sh, px, k int) {
	sums := make([]int, dw*px)
	for y := range dh {
		y0 := min(y*k, sh-1)
		y1 := min(y0+k, sh)
		clear(sums)
		for sy := y0; sy < y1; sy++ {
			row := src[sy*srcStride : sy*srcStride+sw*px]
			for x := range dw {
				x0 := min(x*k, sw-1)
				x1 := min(x0+k, sw)
				for i := x0 * px; i < x1*px; i += px {
					for c := range px {
						sums[x*px+c] += int(row[i+c])
					}
				}
			}
		}
		out := dst[y*dstStride : y*dstStride+dw*px]
		for x := range dw {
			x0 := min(x*k, sw-1)
			n := (min(x0+k, sw) - x0) * (y1 - y0)
			for c := range px {
				out[x*px+c] = byte((sums[x*px+c] + n/2) / n)
			}
		}
	}
}
