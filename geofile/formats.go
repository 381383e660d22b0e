package geofile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/crs"
	"github.com/paulmach/orb"
)

// Format names a file format OneMap imports and exports.
type Format string

// The formats Read and Write handle.
const (
	GeoJSON   Format = "geojson"   // RFC 7946 FeatureCollection (or one Feature)
	Shapefile Format = "shapefile" // a zip of .shp, .shx, .dbf, .prj and .cpg
	KML       Format = "kml"       // KML 2.2, or KMZ (zipped KML) on reading
	CSV       Format = "csv"       // a table with longitude and latitude columns (points only)
)

// ParseFormat returns the format a user names: "geojson" or "json",
// "shapefile", "shp" or "zip", "kml" or "kmz", "csv".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), ".")) {
	case "geojson", "json":
		return GeoJSON, nil
	case "shapefile", "shp", "zip", "esri shapefile":
		return Shapefile, nil
	case "kml", "kmz":
		return KML, nil
	case "csv":
		return CSV, nil
	}
	return "", invalid("unknown format %q; use geojson, shapefile, kml or csv", s)
}

// Extension returns the file name extension of f's files, with the dot.
func (f Format) Extension() string {
	switch f {
	case GeoJSON:
		return ".geojson"
	case Shapefile:
		return ".zip"
	case KML:
		return ".kml"
	case CSV:
		return ".csv"
	}
	return ""
}

// ContentType returns the media type of f's files.
func (f Format) ContentType() string {
	switch f {
	case GeoJSON:
		return "application/geo+json"
	case Shapefile:
		return "application/zip"
	case KML:
		return "application/vnd.google-earth.kml+xml"
	case CSV:
		return "text/csv; charset=utf-8"
	}
	return "application/octet-stream"
}

// DetectFormat tells the format of an upload from its file name and its
// first bytes (a few hundred are enough). The name decides when its
// extension is known; otherwise the bytes do.
func DetectFormat(filename string, head []byte) (Format, error) {
	switch ext := strings.ToLower(path.Ext(filename)); ext {
	case ".geojson", ".json":
		return GeoJSON, nil
	case ".kml", ".kmz":
		return KML, nil
	case ".csv", ".txt":
		return CSV, nil
	case ".zip":
		if zipFirstName(head) != "" && strings.HasSuffix(strings.ToLower(zipFirstName(head)), ".kml") {
			return KML, nil
		}
		return Shapefile, nil
	case ".shp", ".dbf", ".shx", ".prj":
		return "", invalid("%s is one part of a Shapefile; zip the .shp, .shx, .dbf and .prj together and upload the zip", filename)
	}
	h := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	switch {
	case bytes.HasPrefix(h, []byte("PK\x03\x04")):
		if strings.HasSuffix(strings.ToLower(zipFirstName(h)), ".kml") {
			return KML, nil
		}
		return Shapefile, nil
	case bytes.HasPrefix(h, []byte("{")):
		return GeoJSON, nil
	case bytes.HasPrefix(h, []byte("<")) && bytes.Contains(head, []byte("<kml")):
		return KML, nil
	case len(h) > 0 && bytes.IndexByte(h, 0) < 0 && bytes.Contains(firstLine(h), []byte(",")):
		return CSV, nil
	}
	return "", invalid("cannot tell the format of %q; upload GeoJSON (.geojson), a zipped Shapefile (.zip), KML (.kml/.kmz) or CSV (.csv)", filename)
}

// zipFirstName returns the name of the first member from a zip's local file
// header, or "".
func zipFirstName(b []byte) string {
	if len(b) < 30 || !bytes.HasPrefix(b, []byte("PK\x03\x04")) {
		return ""
	}
	n := int(b[26]) | int(b[27])<<8
	if 30+n > len(b) {
		return ""
	}
	return string(b[30 : 30+n])
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

// ReadOptions says how to read a file.
type ReadOptions struct {
	// CRS is the coordinate system of the file's coordinates. The zero
	// value takes the one the file states (a Shapefile's .prj, a GeoJSON
	// "crs" member), else WGS-84 (as GeoJSON and KML define). A CRS given
	// here wins over the file's: a KML written by a GCJ-02 map app is GCJ-02
	// whatever KML says.
	CRS crs.CRS
	// Encoding is the text encoding of a Shapefile's attributes, "UTF-8" or
	// "GBK" (also CP936, GB2312, GB18030). The zero value takes the .cpg,
	// else the table's language driver, else UTF-8 if the table is valid
	// UTF-8 and GBK if not.
	Encoding string
	// LonColumn and LatColumn name a CSV file's coordinate columns
	// (default "lon" and "lat"); Types gives its columns' types.
	LonColumn, LatColumn string
	Types                map[string]onemap.FieldType
	// MaxVertices bounds the vertices of one feature's geometry (as
	// onemap.Vertices counts them), MaxTotalVertices those of all the
	// features together; 0 does not bound. They are counted once the file
	// is parsed, before its coordinates are converted: a file past either
	// is refused, naming the first feature past it.
	MaxVertices, MaxTotalVertices int
}

// Read reads a whole file of the given format and returns its features in
// WGS-84 longitude/latitude, each with Where naming the feature (its number
// and its line, record or Placemark name). A file with any bad feature is
// rejected whole: the error, an onemap EINVALID error, says which feature
// (or which zip member) and what is wrong.
func Read(format Format, data []byte, opt ReadOptions) ([]Record, error) {
	if len(data) > MaxFileSize {
		return nil, invalid("the file is larger than %d MiB", MaxFileSize>>20)
	}
	if opt.CRS != "" && !opt.CRS.Valid() {
		c, err := crs.Parse(string(opt.CRS))
		if err != nil {
			return nil, invalid("%v", err)
		}
		opt.CRS = c
	}
	var (
		recs    []Record
		fileCRS crs.CRS
		err     error
	)
	switch format {
	case GeoJSON:
		if recs, err = ReadGeoJSON(bytes.NewReader(data)); err != nil {
			return nil, err
		}
		if opt.CRS == "" {
			if fileCRS, err = geoJSONCRS(data); err != nil {
				return nil, err
			}
		}
	case Shapefile:
		if recs, fileCRS, err = readShapefile(data, opt.Encoding, opt.CRS == ""); err != nil {
			return nil, err
		}
	case KML:
		if recs, err = readKML(data); err != nil {
			return nil, err
		}
	case CSV:
		lon, lat := opt.LonColumn, opt.LatColumn
		if lon == "" {
			lon = "lon"
		}
		if lat == "" {
			lat = "lat"
		}
		if recs, err = ReadCSV(bytes.NewReader(data), lon, lat, opt.Types); err != nil {
			return nil, err
		}
	default:
		return nil, invalid("unknown format %q; use geojson, shapefile, kml or csv", format)
	}
	if err := countVertices(recs, opt.MaxVertices, opt.MaxTotalVertices); err != nil {
		return nil, err
	}
	c, stated := opt.CRS, true
	if c == "" {
		c = fileCRS
	}
	if c == "" {
		c, stated = crs.WGS84, false
	}
	for i := range recs {
		g, err := c.ToWGS84(recs[i].Geometry)
		if err != nil {
			hint := ""
			if !stated {
				hint = "; the file does not say its coordinate system, so WGS-84 longitude/latitude was assumed: choose the right one (e.g. EPSG:4543 for CGCS2000 Gauss-Kruger 102°E)"
			}
			return nil, recs[i].Errorf("", "%v (read as %s)%s", err, c, hint)
		}
		recs[i].Geometry = g
	}
	return recs, nil
}

// countVertices refuses records of which one has more than most vertices,
// or all together more than total (0: no bound).
func countVertices(recs []Record, most, total int) error {
	sum := 0
	for i := range recs {
		r := &recs[i]
		n := onemap.Vertices(r.Geometry)
		if most > 0 && n > most {
			return r.Errorf("geometry", "%d vertices, more than the %d one geometry may have; simplify it", n, most)
		}
		if sum += n; total > 0 && sum > total {
			return r.Errorf("geometry", "the file's features have more than %d vertices together, the most one import takes; import it in parts", total)
		}
	}
	return nil
}

// geoJSONCRS returns the CRS of a GeoJSON file's legacy (2008 spec) "crs"
// member, "" without one.
func geoJSONCRS(data []byte) (crs.CRS, error) {
	var doc struct {
		CRS *struct {
			Type       string `json:"type"`
			Properties struct {
				Name string `json:"name"`
			} `json:"properties"`
		} `json:"crs"`
	}
	if err := json.Unmarshal(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), &doc); err != nil || doc.CRS == nil {
		return "", nil
	}
	if doc.CRS.Type != "name" {
		return "", invalid("the \"crs\" member is of type %q; only a named crs is understood", doc.CRS.Type)
	}
	c, err := crs.Parse(doc.CRS.Properties.Name)
	if err != nil {
		return "", invalid("the \"crs\" member: %v", err)
	}
	return c, nil
}

// Write writes features (in WGS-84) in the given format: GeoJSON; a zipped
// Shapefile (all features of one geometry kind; .prj WGS-84, .cpg UTF-8);
// KML; or CSV (points only, columns lon, lat and the properties).
func Write(format Format, w io.Writer, features []*onemap.Feature) error {
	switch format {
	case GeoJSON:
		return WriteGeoJSON(w, features)
	case Shapefile:
		return writeShapefile(w, features, exportName(features))
	case KML:
		return writeKML(w, features, exportName(features))
	case CSV:
		return writeCSV(w, features)
	}
	return invalid("unknown format %q; use geojson, shapefile, kml or csv", format)
}

// exportName is the features' layer if they share one, else "onemap", cut
// to characters safe in a file name.
func exportName(fs []*onemap.Feature) string {
	name := ""
	for i, f := range fs {
		if i == 0 {
			name = f.Layer
		} else if f.Layer != name {
			name = ""
			break
		}
	}
	name = strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 0x2E80 {
			return r
		}
		return '_'
	}, name)
	if name == "" {
		return "onemap"
	}
	return name
}

func writeCSV(w io.Writer, fs []*onemap.Feature) error {
	keySet := map[string]bool{}
	for i, f := range fs {
		if _, ok := f.Geometry.(orb.Point); !ok {
			t := "no geometry"
			if f.Geometry != nil {
				t = "a " + f.Geometry.GeoJSONType()
			}
			return invalid("feature %d (id %d) is %s; CSV holds points only", i+1, f.ID, t)
		}
		for k := range f.Properties {
			if k != "lon" && k != "lat" {
				keySet[k] = true
			}
		}
	}
	keys := make([]string, 0, len(keySet))
	for k := range keySet {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	if err := cw.Write(append([]string{"lon", "lat"}, keys...)); err != nil {
		return err
	}
	for _, f := range fs {
		p := f.Geometry.(orb.Point)
		row := []string{strconv.FormatFloat(p[0], 'f', -1, 64), strconv.FormatFloat(p[1], 'f', -1, 64)}
		for _, k := range keys {
			row = append(row, csvText(f.Properties[k]))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("geofile: write csv: %w", err)
	}
	return bw.Flush()
}

// csvText writes a list of strings as ReadCSV reads a list ("a;b").
func csvText(v any) string {
	if l, ok := v.([]any); ok {
		parts := make([]string, len(l))
		for i, e := range l {
			s, ok := e.(string)
			if !ok {
				b, _ := json.Marshal(v)
				return string(b)
			}
			parts[i] = s
		}
		return strings.Join(parts, ";")
	}
	s, _ := dbfText(v)
	return s
}

// columnKind is the type a property takes as a column of a typed format
// (a Shapefile's table, a KML Schema).
type columnKind int

// Column kinds.
const (
	columnText   columnKind = iota // anything, as text
	columnBool                     // every value a boolean
	columnNumber                   // every value a number
)

// columnKinds returns the kind of every property of fs with a value (skip,
// if not nil, leaves some out): bool when every value is a boolean, number
// when every value is a number, text otherwise; and their names, sorted.
func columnKinds(fs []*onemap.Feature, skip func(k string, v any) bool) (map[string]columnKind, []string) {
	kinds := map[string]columnKind{}
	for _, f := range fs {
		for k, v := range f.Properties {
			if skip != nil && skip(k, v) {
				continue
			}
			var kind columnKind
			switch v.(type) {
			case nil:
				continue
			case bool:
				kind = columnBool
			case float64, float32, int, int64, int32, json.Number:
				kind = columnNumber
			default:
				kind = columnText
			}
			if old, ok := kinds[k]; ok && old != kind {
				kind = columnText
			}
			kinds[k] = kind
		}
	}
	keys := make([]string, 0, len(kinds))
	for k := range kinds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return kinds, keys
}
