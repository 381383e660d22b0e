package geofile

// Zipped Shapefiles, read and written after the ESRI Shapefile Technical
// Description (ESRI White Paper J-7855, July 1998): the main file (.shp) and
// its index (.shx) with big-endian record headers and little-endian shape
// contents, and the attribute table (.dbf) in dBASE III form, plus the .prj
// (coordinate system as WKT) and .cpg (code page) that ArcGIS and GDAL add.
//
// No Go library was taken: github.com/jonas-p/go-shp, the one in wide use,
// has had no release since 2018, reads from files on disk rather than from a
// zip in memory, and trusts the counts in the file (a crafted file makes it
// allocate or index past its slices). Reading from bytes with every count
// checked against the bytes present is short enough to own.

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/crs"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Shape types of the Technical Description, table 1.
const (
	shpNull        = 0
	shpPoint       = 1
	shpPolyLine    = 3
	shpPolygon     = 5
	shpMultiPoint  = 8
	shpPointZ      = 11
	shpPolyLineZ   = 13
	shpPolygonZ    = 15
	shpMultiPointZ = 18
	shpPointM      = 21
	shpPolyLineM   = 23
	shpPolygonM    = 25
	shpMultiPointM = 28
	shpMultiPatch  = 31
)

var shpTypeNames = map[int32]string{
	shpNull: "Null", shpPoint: "Point", shpPolyLine: "PolyLine", shpPolygon: "Polygon", shpMultiPoint: "MultiPoint",
	shpPointZ: "PointZ", shpPolyLineZ: "PolyLineZ", shpPolygonZ: "PolygonZ", shpMultiPointZ: "MultiPointZ",
	shpPointM: "PointM", shpPolyLineM: "PolyLineM", shpPolygonM: "PolygonM", shpMultiPointM: "MultiPointM",
	shpMultiPatch: "MultiPatch",
}

// baseType maps the Z and M variants to their 2D type.
func baseType(t int32) int32 {
	switch t {
	case shpPointZ, shpPointM:
		return shpPoint
	case shpPolyLineZ, shpPolyLineM:
		return shpPolyLine
	case shpPolygonZ, shpPolygonM:
		return shpPolygon
	case shpMultiPointZ, shpMultiPointM:
		return shpMultiPoint
	}
	return t
}

func be32(b []byte) int32        { return int32(binary.BigEndian.Uint32(b)) }
func le32(b []byte) int32        { return int32(binary.LittleEndian.Uint32(b)) }
func le64f(b []byte) float64     { return math.Float64frombits(binary.LittleEndian.Uint64(b)) }
func lePoint(b []byte) orb.Point { return orb.Point{le64f(b), le64f(b[8:])} }

// readShapefile reads a zipped Shapefile: exactly one .shp with its .dbf
// (and .prj, .cpg if present) of the same name, anywhere in the archive.
// It returns the records in the file's own coordinates and, if readPRJ, the
// CRS its .prj names ("" without a .prj). encodingName, if set, overrides
// the .cpg.
func readShapefile(data []byte, encodingName string, readPRJ bool) ([]Record, crs.CRS, error) {
	members, err := readZip(data, func(b string) bool {
		switch path.Ext(b) {
		case ".shp", ".dbf", ".prj", ".cpg", ".shx":
			return true
		}
		return false
	})
	if err != nil {
		return nil, "", err
	}
	var shps []zipMember
	for _, m := range members {
		if strings.EqualFold(path.Ext(m.name), ".shp") {
			shps = append(shps, m)
		}
	}
	switch len(shps) {
	case 0:
		return nil, "", invalid("the zip holds no .shp file; a Shapefile upload is a zip of the .shp, .shx, .dbf and .prj files")
	case 1:
	default:
		names := make([]string, len(shps))
		for i, s := range shps {
			names[i] = s.name
		}
		return nil, "", invalid("the zip holds %d Shapefiles (%s); upload one at a time", len(shps), strings.Join(names, ", "))
	}
	shp := shps[0]
	stem := strings.TrimSuffix(shp.name, path.Ext(shp.name))
	sibling := func(ext string) *zipMember {
		for i, m := range members {
			if strings.EqualFold(m.name, stem+ext) {
				return &members[i]
			}
		}
		return nil
	}
	dbf := sibling(".dbf")
	if dbf == nil {
		return nil, "", invalid("%s has no %s.dbf beside it in the zip; the attribute table is needed", shp.name, path.Base(stem))
	}
	var fileCRS crs.CRS
	if prj := sibling(".prj"); readPRJ && prj != nil && len(bytes.TrimSpace(prj.data)) > 0 {
		if fileCRS, err = crs.FromWKT(string(prj.data)); err != nil {
			return nil, "", invalid("%s: %v", prj.name, err)
		}
	}
	encName, from := encodingName, "the chosen encoding"
	if encName == "" {
		if cpg := sibling(".cpg"); cpg != nil {
			encName, from = strings.TrimSpace(string(cpg.data)), cpg.name
		}
	}
	geoms, err := parseSHP(shp.name, shp.data)
	if err != nil {
		return nil, "", err
	}
	rows, err := parseDBF(dbf.name, dbf.data, encName, from)
	if err != nil {
		return nil, "", err
	}
	if len(rows) != len(geoms) {
		return nil, "", invalid("%s has %d shapes but %s has %d records; the two files must match", shp.name, len(geoms), dbf.name, len(rows))
	}
	recs := make([]Record, len(geoms))
	for i, g := range geoms {
		// A Shapefile has no lines: a record's place is its number.
		recs[i] = Record{Where: fmt.Sprintf("feature %d (%s record %d)", i+1, path.Base(shp.name), i+1), Feature: i + 1,
			Geometry: g, Properties: rows[i]}
		if g == nil {
			return nil, "", recs[i].Errorf("", "the shape is null (no geometry)")
		}
	}
	return recs, fileCRS, nil
}

// parseSHP decodes every record of a .shp into orb geometries (nil for a
// Null shape). Polygons come out as orb.Polygon or orb.MultiPolygon with
// RFC 7946 orientation (outer rings counter-clockwise).
func parseSHP(name string, b []byte) ([]orb.Geometry, error) {
	if len(b) < 100 {
		return nil, invalid("%s: %d bytes is too short for a Shapefile (the header alone is 100 bytes)", name, len(b))
	}
	if code := be32(b); code != 9994 {
		return nil, invalid("%s: not a Shapefile (file code %d, want 9994)", name, code)
	}
	fileLen := int64(be32(b[24:])) * 2
	if fileLen < 100 || fileLen > int64(len(b)) {
		return nil, invalid("%s: the header gives a length of %d bytes but the file has %d; it is truncated or damaged", name, fileLen, len(b))
	}
	b = b[:fileLen]
	fileType := le32(b[32:])
	if _, ok := shpTypeNames[fileType]; !ok {
		return nil, invalid("%s: unknown shape type %d", name, fileType)
	}
	if fileType == shpMultiPatch {
		return nil, invalid("%s: MultiPatch (3D surface) shapes are not supported; export polygons", name)
	}
	var geoms []orb.Geometry
	for off, i := 100, 1; off < len(b); i++ {
		if off+8 > len(b) {
			return nil, invalid("%s record %d: the file ends inside the record header", name, i)
		}
		n := int64(be32(b[off+4:])) * 2
		off += 8
		if n < 4 || int64(off)+n > int64(len(b)) {
			return nil, invalid("%s record %d: content length %d runs past the end of the file", name, i, n)
		}
		g, err := parseShape(b[off:off+int(n)], fileType)
		if err != nil {
			return nil, invalid("%s record %d: %v", name, i, err)
		}
		off += int(n)
		geoms = append(geoms, g)
	}
	return geoms, nil
}

func parseShape(c []byte, fileType int32) (orb.Geometry, error) {
	t := le32(c)
	if t == shpNull {
		return nil, nil
	}
	if t != fileType {
		return nil, fmt.Errorf("shape type %s in a file of %s", shpTypeNames[t], shpTypeNames[fileType])
	}
	need := func(n int64) error {
		if n > int64(len(c)) {
			return fmt.Errorf("the record holds %d bytes, too few for its %s (%d)", len(c), shpTypeNames[t], n)
		}
		return nil
	}
	switch baseType(t) {
	case shpPoint:
		if err := need(20); err != nil {
			return nil, err
		}
		p := lePoint(c[4:])
		return p, finite(p)
	case shpMultiPoint:
		if err := need(40); err != nil {
			return nil, err
		}
		n := int64(le32(c[36:]))
		if n < 1 {
			return nil, fmt.Errorf("a MultiPoint with %d points", n)
		}
		if err := need(40 + 16*n); err != nil {
			return nil, err
		}
		mp := make(orb.MultiPoint, n)
		for i := range mp {
			mp[i] = lePoint(c[40+16*i:])
			if err := finite(mp[i]); err != nil {
				return nil, err
			}
		}
		return mp, nil
	case shpPolyLine, shpPolygon:
		if err := need(44); err != nil {
			return nil, err
		}
		nParts, nPoints := int64(le32(c[36:])), int64(le32(c[40:]))
		if nParts < 1 || nPoints < 1 || nParts > nPoints {
			return nil, fmt.Errorf("%d parts and %d points", nParts, nPoints)
		}
		if err := need(44 + 4*nParts + 16*nPoints); err != nil {
			return nil, err
		}
		parts := make([][]orb.Point, nParts)
		ptOff := 44 + 4*nParts
		for i := range parts {
			start := int64(le32(c[44+4*i:]))
			end := nPoints
			if int64(i+1) < nParts {
				end = int64(le32(c[44+4*(i+1):]))
			}
			if start < 0 || start >= end || end > nPoints || (i == 0 && start != 0) {
				return nil, fmt.Errorf("part %d spans points %d to %d of %d", i+1, start, end, nPoints)
			}
			pts := make([]orb.Point, end-start)
			for j := range pts {
				pts[j] = lePoint(c[ptOff+16*(start+int64(j)):])
				if err := finite(pts[j]); err != nil {
					return nil, err
				}
			}
			parts[i] = pts
		}
		if baseType(t) == shpPolyLine {
			mls := make(orb.MultiLineString, len(parts))
			for i, p := range parts {
				if len(p) < 2 {
					return nil, fmt.Errorf("part %d has %d point; a line needs 2", i+1, len(p))
				}
				mls[i] = orb.LineString(p)
			}
			if len(mls) == 1 {
				return mls[0], nil
			}
			return mls, nil
		}
		return assemblePolygon(parts)
	}
	return nil, fmt.Errorf("shape type %s is not supported", shpTypeNames[t])
}

func finite(p orb.Point) error {
	if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
		return fmt.Errorf("coordinate %v is not a number", [2]float64(p))
	}
	return nil
}

// assemblePolygon groups Shapefile rings into polygons. By the Technical
// Description an outer ring runs clockwise and a hole counter-clockwise;
// each hole goes to the smallest outer ring that contains it. A
// counter-clockwise ring inside no outer ring is taken as an outer ring (as
// GDAL does), not dropped. Rings are closed if the file left them open.
func assemblePolygon(parts [][]orb.Point) (orb.Geometry, error) {
	var outers, holes []orb.Ring
	for i, p := range parts {
		r := orb.Ring(p)
		if len(r) > 0 && r[0] != r[len(r)-1] {
			r = append(r, r[0])
		}
		if len(r) < 4 {
			return nil, fmt.Errorf("ring %d has %d points; a ring needs at least 4 (3 corners and the closing point)", i+1, len(r))
		}
		switch r.Orientation() {
		case orb.CW:
			outers = append(outers, r)
		case orb.CCW:
			holes = append(holes, r)
		default:
			return nil, fmt.Errorf("ring %d has no area", i+1)
		}
	}
	polys := make([]orb.Polygon, len(outers))
	areas := make([]float64, len(outers))
	for i, r := range outers {
		polys[i] = orb.Polygon{r}
		areas[i] = math.Abs(planar.Area(r))
	}
	for _, h := range holes {
		best := -1
		for i, o := range outers {
			if o.Bound().Contains(h[0]) && planar.RingContains(o, h[0]) && (best < 0 || areas[i] < areas[best]) {
				best = i
			}
		}
		if best < 0 {
			polys = append(polys, orb.Polygon{h})
			continue
		}
		polys[best] = append(polys[best], h)
	}
	// RFC 7946 orientation: outer rings counter-clockwise, holes clockwise.
	for _, p := range polys {
		for j, r := range p {
			if (j == 0) != (r.Orientation() == orb.CCW) {
				r.Reverse()
			}
		}
	}
	if len(polys) == 1 {
		return polys[0], nil
	}
	return orb.MultiPolygon(polys), nil
}

// dbfField is one column of a dBASE table.
type dbfField struct {
	name     string
	typ      byte
	offset   int // from the start of the record, after the deletion flag
	length   int
	decimals int
}

// textDecoder turns the table's bytes into UTF-8.
type textDecoder func([]byte) (string, error)

// decoderFor returns the decoder for a code page name as a .cpg or a user
// gives it: UTF-8 (65001) or the Simplified Chinese family (GBK, CP936, 936,
// GB2312, GB18030, read with GB18030, their superset).
func decoderFor(name string) (textDecoder, error) {
	n := strings.ToUpper(strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.TrimSpace(name)))
	n = strings.TrimPrefix(n, "ANSI")
	var e encoding.Encoding
	switch n {
	case "UTF8", "65001", "UTF8BOM", "UNICODE":
		return func(b []byte) (string, error) {
			if !utf8.Valid(b) {
				return "", fmt.Errorf("bytes % x are not UTF-8; choose the file's encoding (GBK?)", b)
			}
			return string(b), nil
		}, nil
	case "GBK", "CP936", "936", "GB2312", "EUCCN", "GB18030", "54936", "CHINESE", "GB":
		e = simplifiedchinese.GB18030
	default:
		return nil, fmt.Errorf("unsupported encoding %q; use UTF-8 or GBK", name)
	}
	return func(b []byte) (string, error) {
		s, err := e.NewDecoder().Bytes(b)
		if err != nil {
			return "", fmt.Errorf("bytes % x are not GBK", b)
		}
		return string(s), nil
	}, nil
}

// parseDBF reads a dBASE III table. The text encoding comes from encName
// (a user's choice or the .cpg, named by from); without one, from the
// table's language driver byte (0x4D or 0x7A: GBK); failing that, the table
// is read as UTF-8 if all of it is valid UTF-8, else as GBK.
func parseDBF(name string, b []byte, encName, from string) ([]map[string]any, error) {
	if len(b) < 33 {
		return nil, invalid("%s: %d bytes is too short for a dBASE table", name, len(b))
	}
	nRecs := int64(binary.LittleEndian.Uint32(b[4:]))
	hdrLen := int(binary.LittleEndian.Uint16(b[8:]))
	recLen := int(binary.LittleEndian.Uint16(b[10:]))
	ldid := b[29]
	if hdrLen < 33 || hdrLen > len(b) || recLen < 1 {
		return nil, invalid("%s: damaged header (header length %d, record length %d)", name, hdrLen, recLen)
	}
	if int64(hdrLen)+nRecs*int64(recLen) > int64(len(b)) {
		return nil, invalid("%s: the header counts %d records of %d bytes but the file ends after %d", name, nRecs, recLen, (len(b)-hdrLen)/recLen)
	}
	var dec textDecoder
	var err error
	switch {
	case encName != "":
		if dec, err = decoderFor(encName); err != nil {
			return nil, invalid("%s: %v", from, err)
		}
	case ldid == 0x4D || ldid == 0x7A:
		dec, _ = decoderFor("GBK")
	case utf8.Valid(b[32 : int64(hdrLen)+nRecs*int64(recLen)]):
		dec, _ = decoderFor("UTF-8")
	default:
		dec, _ = decoderFor("GBK")
	}
	var fields []dbfField
	off := 0
	for i := 32; i+32 <= hdrLen && b[i] != 0x0D; i += 32 {
		d := b[i : i+32]
		raw := d[:11]
		if j := bytes.IndexByte(raw, 0); j >= 0 {
			raw = raw[:j]
		}
		fname, err := dec(bytes.TrimSpace(raw))
		if err != nil {
			return nil, invalid("%s: field %d name: %v", name, len(fields)+1, err)
		}
		f := dbfField{name: fname, typ: d[11], offset: off, length: int(d[16]), decimals: int(d[17])}
		off += f.length
		fields = append(fields, f)
	}
	if off+1 != recLen {
		return nil, invalid("%s: the fields add up to %d bytes a record but the header says %d", name, off+1, recLen)
	}
	rows := make([]map[string]any, nRecs)
	for r := range rows {
		rec := b[hdrLen+r*recLen+1 : hdrLen+(r+1)*recLen]
		props := make(map[string]any, len(fields))
		for _, f := range fields {
			raw := rec[f.offset : f.offset+f.length]
			v, err := dbfValue(f, raw, dec)
			if err != nil {
				e := onemap.Errorf(onemap.EINVALID, "feature %d (%s record %d) field %q: %v", r+1, path.Base(name), r+1, f.name, err)
				e.Feature = r + 1
				return nil, e
			}
			if v != nil {
				props[f.name] = v
			}
		}
		rows[r] = props
	}
	return rows, nil
}

// dbfValue converts one cell: C to a string (trailing spaces cut), N and F
// to a float64, L to a bool, D to "YYYY-MM-DD". Blank cells are nil.
func dbfValue(f dbfField, raw []byte, dec textDecoder) (any, error) {
	switch f.typ {
	case 'C', 'M':
		s := bytes.TrimRight(raw, " \x00")
		if len(s) == 0 {
			return nil, nil
		}
		return dec(s)
	case 'N', 'F':
		s := strings.TrimSpace(strings.Trim(string(raw), "\x00"))
		if s == "" || strings.Trim(s, "*") == "" {
			return nil, nil
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			// Some writers use a decimal comma.
			if v, err2 := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64); err2 == nil {
				return v, nil
			}
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return v, nil
	case 'L':
		switch strings.TrimSpace(string(raw)) {
		case "T", "t", "Y", "y":
			return true, nil
		case "F", "f", "N", "n":
			return false, nil
		}
		return nil, nil
	case 'D':
		s := strings.TrimSpace(string(raw))
		if s == "" || strings.Trim(s, "0") == "" {
			return nil, nil
		}
		t, err := time.Parse("20060102", s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a date (YYYYMMDD)", s)
		}
		return t.Format("2006-01-02"), nil
	}
	s := strings.TrimSpace(string(raw))
	if s == "" {
		return nil, nil
	}
	return dec([]byte(s))
}

// writeShapefile writes fs as a zipped Shapefile named base: .shp, .shx,
// .dbf (UTF-8), .cpg ("UTF-8") and .prj (WGS-84). A Shapefile holds one kind
// of geometry, so the features must all be points, all multipoints, all
// lines or all polygons (Polygon and MultiPolygon mix). Outer rings are
// written clockwise, as the format requires.
//
// The dBASE format limits what survives: field names are cut to 10 bytes
// (three Chinese characters), texts to 254 bytes, lists and objects are
// written as JSON text.
func writeShapefile(w io.Writer, fs []*onemap.Feature, base string) error {
	var fileType int32 = shpNull
	for i, f := range fs {
		t, err := shapeTypeOf(f.Geometry)
		if err != nil {
			return invalid("feature %d (id %d): %v", i+1, f.ID, err)
		}
		if fileType == shpNull {
			fileType = t
		} else if t != fileType && t != shpNull {
			return invalid("feature %d (id %d) is a %s but earlier ones are %ss; a Shapefile holds one kind of geometry", i+1, f.ID, shpTypeNames[t], shpTypeNames[fileType])
		}
	}
	var shp, shx bytes.Buffer
	fileBound := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	shp.Write(make([]byte, 100))
	shx.Write(make([]byte, 100))
	for i, f := range fs {
		content := encodeShape(f.Geometry, fileType)
		if f.Geometry != nil {
			fileBound = fileBound.Union(f.Geometry.Bound())
		}
		binary.Write(&shx, binary.BigEndian, [2]int32{int32(shp.Len() / 2), int32(len(content) / 2)})
		binary.Write(&shp, binary.BigEndian, [2]int32{int32(i + 1), int32(len(content) / 2)})
		shp.Write(content)
	}
	if len(fs) == 0 || fileBound.Min[0] > fileBound.Max[0] {
		fileBound = orb.Bound{}
	}
	for _, b := range [][]byte{shp.Bytes(), shx.Bytes()} {
		binary.BigEndian.PutUint32(b[0:], 9994)
		binary.BigEndian.PutUint32(b[24:], uint32(len(b)/2))
		binary.LittleEndian.PutUint32(b[28:], 1000)
		binary.LittleEndian.PutUint32(b[32:], uint32(fileType))
		for j, v := range []float64{fileBound.Min[0], fileBound.Min[1], fileBound.Max[0], fileBound.Max[1]} {
			binary.LittleEndian.PutUint64(b[36+8*j:], math.Float64bits(v))
		}
	}
	dbf, err := encodeDBF(fs, nil)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	for _, m := range []struct {
		ext  string
		data []byte
	}{
		{".shp", shp.Bytes()}, {".shx", shx.Bytes()}, {".dbf", dbf},
		{".prj", []byte(crs.WGS84.WKT())}, {".cpg", []byte("UTF-8")},
	} {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: base + m.ext, Method: zip.Deflate, Modified: time.Now().UTC()})
		if err != nil {
			return err
		}
		if _, err := fw.Write(m.data); err != nil {
			return err
		}
	}
	return zw.Close()
}

func shapeTypeOf(g orb.Geometry) (int32, error) {
	switch g.(type) {
	case nil:
		return shpNull, nil
	case orb.Point:
		return shpPoint, nil
	case orb.MultiPoint:
		return shpMultiPoint, nil
	case orb.LineString, orb.MultiLineString:
		return shpPolyLine, nil
	case orb.Polygon, orb.MultiPolygon:
		return shpPolygon, nil
	}
	return 0, fmt.Errorf("a %s cannot be written to a Shapefile", g.GeoJSONType())
}

// encodeShape returns the record content of g (without the record header).
func encodeShape(g orb.Geometry, fileType int32) []byte {
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	if g == nil {
		le(int32(shpNull))
		return b.Bytes()
	}
	le(fileType)
	bound := g.Bound()
	box := [4]float64{bound.Min[0], bound.Min[1], bound.Max[0], bound.Max[1]}
	switch g := g.(type) {
	case orb.Point:
		le([2]float64(g))
	case orb.MultiPoint:
		le(box)
		le(int32(len(g)))
		for _, p := range g {
			le([2]float64(p))
		}
	default:
		var parts [][]orb.Point
		switch g := g.(type) {
		case orb.LineString:
			parts = [][]orb.Point{g}
		case orb.MultiLineString:
			for _, l := range g {
				parts = append(parts, l)
			}
		case orb.Polygon:
			parts = shapeRings(g)
		case orb.MultiPolygon:
			for _, p := range g {
				parts = append(parts, shapeRings(p)...)
			}
		}
		le(box)
		le(int32(len(parts)))
		n := 0
		for _, p := range parts {
			n += len(p)
		}
		le(int32(n))
		n = 0
		for _, p := range parts {
			le(int32(n))
			n += len(p)
		}
		for _, p := range parts {
			for _, q := range p {
				le([2]float64(q))
			}
		}
	}
	return b.Bytes()
}

// shapeRings returns copies of p's rings, closed, the outer one clockwise
// and the holes counter-clockwise.
func shapeRings(p orb.Polygon) [][]orb.Point {
	out := make([][]orb.Point, 0, len(p))
	for j, r := range p {
		r = slices.Clone(r)
		if len(r) > 0 && r[0] != r[len(r)-1] {
			r = append(r, r[0])
		}
		if o := r.Orientation(); (j == 0 && o == orb.CCW) || (j > 0 && o == orb.CW) {
			r.Reverse()
		}
		out = append(out, r)
	}
	return out
}

// dbfColumn is how one property key is written.
type dbfColumn struct {
	key      string
	field    dbfField
	isNumber bool
	isBool   bool
}

// encodeDBF builds the attribute table of fs: one column per property key
// (sorted), typed L when every value is a boolean, N when every value is a
// number, C otherwise. Texts are UTF-8, or encoded by enc if it is not nil.
func encodeDBF(fs []*onemap.Feature, enc *encoding.Encoder) ([]byte, error) {
	text := func(s string) string {
		if enc == nil {
			return s
		}
		if e, err := enc.String(s); err == nil {
			return e
		}
		return s
	}
	kinds, keys := columnKinds(fs, nil)
	cols := make([]dbfColumn, len(keys))
	used := map[string]bool{}
	off := 0
	for i, k := range keys {
		c := dbfColumn{key: k, field: dbfField{name: dbfName(text(k), used, enc != nil)}}
		switch kinds[k] {
		case columnBool:
			c.isBool, c.field.typ, c.field.length = true, 'L', 1
		case columnNumber:
			c.isNumber, c.field.typ, c.field.length = true, 'N', 1
			integral := true
			for _, f := range fs {
				if s, ok := dbfText(f.Properties[k]); ok {
					c.field.length = max(c.field.length, len(s))
					integral = integral && !strings.ContainsAny(s, ".eE")
				}
			}
			if !integral || c.field.length > 18 {
				c.field.length, c.field.decimals = 24, 15
			}
		default:
			c.field.typ, c.field.length = 'C', 1
			for _, f := range fs {
				if s, ok := dbfText(f.Properties[k]); ok {
					c.field.length = max(c.field.length, min(len(text(s)), 254))
				}
			}
		}
		c.field.offset = off
		off += c.field.length
		cols[i] = c
	}
	recLen := 1 + off
	hdrLen := 32 + 32*len(cols) + 1
	if hdrLen > math.MaxUint16 || recLen > math.MaxUint16 {
		return nil, invalid("the features have %d properties, too many for a Shapefile's table", len(cols))
	}
	var b bytes.Buffer
	now := time.Now().UTC()
	hdr := make([]byte, 32)
	hdr[0] = 0x03
	hdr[1], hdr[2], hdr[3] = byte(now.Year()-1900), byte(now.Month()), byte(now.Day())
	binary.LittleEndian.PutUint32(hdr[4:], uint32(len(fs)))
	binary.LittleEndian.PutUint16(hdr[8:], uint16(hdrLen))
	binary.LittleEndian.PutUint16(hdr[10:], uint16(recLen))
	b.Write(hdr)
	for _, c := range cols {
		d := make([]byte, 32)
		copy(d[:10], c.field.name)
		d[11] = c.field.typ
		d[16], d[17] = byte(c.field.length), byte(c.field.decimals)
		if c.field.typ == 'C' {
			d[17] = 0
		}
		b.Write(d)
	}
	b.WriteByte(0x0D)
	for _, f := range fs {
		b.WriteByte(' ')
		for _, c := range cols {
			v := f.Properties[c.key]
			s, ok := dbfText(v)
			switch {
			case c.isBool:
				if !ok {
					s = "?"
				} else if v.(bool) {
					s = "T"
				} else {
					s = "F"
				}
			case c.isNumber:
				s = strings.Repeat(" ", c.field.length-len(s)) + s
			default:
				s = truncateText(text(s), c.field.length, enc != nil)
				s += strings.Repeat(" ", c.field.length-len(s))
			}
			b.WriteString(s)
		}
	}
	b.WriteByte(0x1A)
	return b.Bytes(), nil
}

// dbfText formats a property value as the table stores it; ok is false for
// a missing value.
func dbfText(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", false
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", false
		}
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if len(s) > 24 {
			s = strconv.FormatFloat(v, 'g', -1, 64)
		}
		return s, true
	case float32:
		return dbfText(float64(v))
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case int32:
		return strconv.FormatInt(int64(v), 10), true
	case json.Number:
		return v.String(), true
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v), true
	}
	return string(b), true
}

// dbfName cuts a property key (UTF-8, or GBK if gbk) to the 10 bytes a
// dBASE field name may have, on a character boundary, and makes it unique
// among used.
func dbfName(key string, used map[string]bool, gbk bool) string {
	base := strings.ReplaceAll(key, "\x00", "")
	if base == "" {
		base = "field"
	}
	name := truncateText(base, 10, gbk)
	for i := 1; used[strings.ToUpper(name)]; i++ {
		suffix := "_" + strconv.Itoa(i)
		name = truncateText(base, 10-len(suffix), gbk) + suffix
	}
	used[strings.ToUpper(name)] = true
	return name
}

// truncateText cuts s to n bytes, on a character boundary of UTF-8 or, if
// gbk, of GBK (whose two-byte characters start with a byte ≥ 0x81).
func truncateText(s string, n int, gbk bool) string {
	if !gbk || len(s) <= n {
		return truncateUTF8(s, n)
	}
	i := 0
	for i < len(s) {
		w := 1
		if s[i] >= 0x81 {
			w = 2
		}
		if i+w > n {
			break
		}
		i += w
	}
	return s[:i]
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
