package geofile

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Limits on a zip upload (a zipped Shapefile or a KMZ), against zip bombs:
// the sum of the members' sizes once inflated, and how many members there
// may be.
const (
	MaxZipMembers      = 64
	MaxUnzippedSize    = MaxFileSize
	maxCompressionRate = 1000 // a member may inflate at most this much
)

// zipMember is one file of an archive, read whole.
type zipMember struct {
	name string // path inside the zip, decoded to UTF-8
	data []byte
}

// readZip returns the members of a zip for which want(base name, lower
// case) is true, inflating at most MaxUnzippedSize bytes in all. Folders,
// macOS resource forks (__MACOSX/, ._x) and hidden files are skipped.
func readZip(data []byte, want func(lowerBase string) bool) ([]zipMember, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, invalid("the file is not a readable zip archive: %v", err)
	}
	if len(zr.File) > MaxZipMembers {
		return nil, invalid("the zip holds %d files; at most %d are accepted", len(zr.File), MaxZipMembers)
	}
	var (
		out   []zipMember
		total uint64
	)
	for _, f := range zr.File {
		name := zipName(f)
		base := path.Base(strings.ReplaceAll(name, "\\", "/"))
		if f.FileInfo().IsDir() || strings.HasPrefix(name, "__MACOSX/") || strings.HasPrefix(base, ".") {
			continue
		}
		if !want(strings.ToLower(base)) {
			continue
		}
		total += f.UncompressedSize64
		if total > MaxUnzippedSize {
			return nil, invalid("zip member %s: the archive inflates to more than %d MiB", name, MaxUnzippedSize>>20)
		}
		if f.CompressedSize64 > 0 && f.UncompressedSize64/f.CompressedSize64 > maxCompressionRate {
			return nil, invalid("zip member %s: compressed %d times, which is not a plausible data file", name, f.UncompressedSize64/f.CompressedSize64)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, invalid("zip member %s: %v", name, err)
		}
		// The declared size may lie; never read more than it says.
		b, err := io.ReadAll(io.LimitReader(rc, int64(f.UncompressedSize64)+1))
		rc.Close()
		if err == nil && uint64(len(b)) > f.UncompressedSize64 {
			err = errors.New("larger than its header says")
		}
		if err != nil {
			return nil, invalid("zip member %s: %v", name, err)
		}
		out = append(out, zipMember{name: name, data: b})
	}
	return out, nil
}

// zipName returns a member's name in UTF-8. Archives made on Chinese
// Windows store names in GBK without the UTF-8 flag.
func zipName(f *zip.File) string {
	if !f.NonUTF8 || utf8.ValidString(f.Name) {
		return f.Name
	}
	if s, err := simplifiedchinese.GB18030.NewDecoder().String(f.Name); err == nil {
		return s
	}
	return fmt.Sprintf("%q", f.Name)
}
