// Package geofile reads and writes the feature files OneMap imports and
// exports: GeoJSON FeatureCollections, zipped Shapefiles (UTF-8 or GBK
// attributes), KML/KMZ and CSV tables with longitude and latitude columns.
// Read and Write (formats.go) are the entry points; Read converts the
// coordinates to WGS-84 from the CRS the caller chooses or the file states
// (package crs). Every error names where in the file it is (a line, a
// feature, a zip member) and what is wrong, as an onemap EINVALID error.
package geofile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Record is one feature read from a file, with where it came from: its
// Where in words, and its number and line (onemap.ImportFeature).
type Record = onemap.ImportFeature

// MaxFileSize bounds what ReadGeoJSON and ReadCSV accept.
const MaxFileSize = 256 << 20

func invalid(format string, args ...any) error {
	return onemap.Errorf(onemap.EINVALID, format, args...)
}

// lineAt returns the 1-based line of byte offset off in data.
func lineAt(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}

// ReadGeoJSON reads a FeatureCollection (or a single Feature). Each feature's
// Where names its index and the line it starts on.
func ReadGeoJSON(r io.Reader) ([]Record, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("geofile: read: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, invalid("file is larger than %d MiB", MaxFileSize>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	dec := json.NewDecoder(bytes.NewReader(data))
	syntax := func(err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return invalid("line %d: malformed JSON: %v", lineAt(data, se.Offset), se)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return invalid("line %d: %s should be a JSON %s, not %s", lineAt(data, te.Offset), te.Field, te.Type, te.Value)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return invalid("line %d: the file ends too early", lineAt(data, int64(len(data))))
		}
		return invalid("line %d: %v", lineAt(data, dec.InputOffset()), err)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, invalid("line 1: a GeoJSON file must hold a JSON object")
	}
	var (
		typ  string
		recs []Record
		seen bool
	)
	for dec.More() {
		keyTok, err := dec.Token()
		if err != nil {
			return nil, syntax(err)
		}
		key, _ := keyTok.(string)
		switch key {
		case "type":
			if err := dec.Decode(&typ); err != nil {
				return nil, syntax(err)
			}
		case "features":
			seen = true
			if tok, err := dec.Token(); err != nil {
				return nil, syntax(err)
			} else if d, ok := tok.(json.Delim); !ok || d != '[' {
				return nil, invalid("line %d: \"features\" must be an array", lineAt(data, dec.InputOffset()))
			}
			for i := 1; dec.More(); i++ {
				start := dec.InputOffset()
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return nil, syntax(err)
				}
				// InputOffset is at the separator before the feature; the
				// feature starts at its first non-space byte.
				start += int64(len(data[start:]) - len(bytes.TrimLeft(data[start:], " \t\r\n,")))
				line := lineAt(data, start)
				rec, err := decodeFeature(raw, Record{Where: fmt.Sprintf("feature %d (line %d)", i, line), Feature: i, Line: line})
				if err != nil {
					return nil, err
				}
				recs = append(recs, rec)
			}
			if _, err := dec.Token(); err != nil {
				return nil, syntax(err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, syntax(err)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, syntax(err)
	}
	switch typ {
	case "FeatureCollection":
		if !seen {
			return nil, invalid("line 1: the FeatureCollection has no \"features\"")
		}
		return recs, nil
	case "Feature":
		rec, err := decodeFeature(data, Record{Where: "feature 1 (line 1)", Feature: 1, Line: 1})
		if err != nil {
			return nil, err
		}
		return []Record{rec}, nil
	case "":
		return nil, invalid("line 1: the GeoJSON object has no \"type\"")
	}
	return nil, invalid("line 1: a GeoJSON %q is not a FeatureCollection or Feature", typ)
}

// decodeFeature decodes one GeoJSON Feature; loc says where it is (Where,
// Feature, Line), for the record and for its errors.
func decodeFeature(raw []byte, loc Record) (Record, error) {
	var head struct {
		Type       string          `json:"type"`
		Geometry   json.RawMessage `json:"geometry"`
		Properties json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return Record{}, loc.Errorf("", "%v", err)
	}
	if head.Type != "Feature" {
		return Record{}, loc.Errorf("", "type is %q, not \"Feature\"", head.Type)
	}
	if len(head.Geometry) == 0 || string(head.Geometry) == "null" {
		return Record{}, loc.Errorf("", "geometry is missing")
	}
	g, err := geojson.UnmarshalGeometry(head.Geometry)
	if err != nil {
		return Record{}, loc.Errorf("", "geometry: %v", err)
	}
	if g.Coordinates == nil {
		return Record{}, loc.Errorf("", "geometry has no coordinates")
	}
	props := map[string]any{}
	if len(head.Properties) > 0 && string(head.Properties) != "null" {
		if err := json.Unmarshal(head.Properties, &props); err != nil {
			return Record{}, loc.Errorf("", "properties must be a JSON object: %v", err)
		}
	}
	loc.Geometry, loc.Properties = g.Coordinates, props
	return loc, nil
}

// ReadCSV reads a table with a header row. The columns named lonCol and
// latCol give each row's point; every other non-empty cell becomes a
// property, as a number where types says the field is one, a list where it
// is a list (items separated by ";"), a boolean for true/false. A row's Where
// is its line.
func ReadCSV(r io.Reader, lonCol, latCol string, types map[string]onemap.FieldType) ([]Record, error) {
	cr := csv.NewReader(bufio.NewReader(io.LimitReader(r, MaxFileSize)))
	cr.FieldsPerRecord = 0
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, invalid("line 1: the file is empty; it needs a header row")
		}
		return nil, csvError(err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\xef\xbb\xbf")
	}
	lon, lat := -1, -1
	for i, h := range header {
		header[i] = strings.TrimSpace(h)
		switch header[i] {
		case lonCol:
			lon = i
		case latCol:
			lat = i
		}
	}
	if lon < 0 || lat < 0 {
		return nil, invalid("line 1: the header needs columns %q and %q; it has %v", lonCol, latCol, header)
	}
	var recs []Record
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		loc := Record{Where: fmt.Sprintf("line %d", line), Feature: len(recs) + 1, Line: line}
		x, err1 := strconv.ParseFloat(strings.TrimSpace(row[lon]), 64)
		y, err2 := strconv.ParseFloat(strings.TrimSpace(row[lat]), 64)
		if err1 != nil || err2 != nil {
			return nil, loc.Errorf("", "%s=%q, %s=%q is not a longitude and latitude", lonCol, row[lon], latCol, row[lat])
		}
		props := map[string]any{}
		for i, cell := range row {
			if i == lon || i == lat || cell == "" {
				continue
			}
			v, err := csvValue(cell, types[header[i]])
			if err != nil {
				return nil, loc.Errorf("", "column %q: %v", header[i], err)
			}
			props[header[i]] = v
		}
		loc.Geometry, loc.Properties = orb.Point{x, y}, props
		recs = append(recs, loc)
	}
	return recs, nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return invalid("line %d: %v", pe.Line, pe.Err)
	}
	return fmt.Errorf("geofile: read csv: %w", err)
}

func csvValue(cell string, t onemap.FieldType) (any, error) {
	switch t {
	case onemap.FieldInteger, onemap.FieldNumber:
		f, err := strconv.ParseFloat(strings.TrimSpace(cell), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", cell)
		}
		return f, nil
	case onemap.FieldBoolean:
		b, err := strconv.ParseBool(strings.TrimSpace(cell))
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", cell)
		}
		return b, nil
	case onemap.FieldStrings:
		parts := strings.Split(cell, ";")
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = strings.TrimSpace(p)
		}
		return out, nil
	}
	return cell, nil
}

// WriteGeoJSON writes features as a FeatureCollection, one feature per line.
func WriteGeoJSON(w io.Writer, fs []*onemap.Feature) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(`{"type":"FeatureCollection","features":[`)
	for i, f := range fs {
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
		b, err := json.Marshal(ToGeoJSON(f))
		if err != nil {
			return fmt.Errorf("geofile: feature %d: %w", f.ID, err)
		}
		bw.Write(b)
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

// ToGeoJSON returns f as a GeoJSON feature with its id.
func ToGeoJSON(f *onemap.Feature) *geojson.Feature {
	gf := geojson.NewFeature(f.Geometry)
	gf.ID = f.ID
	gf.Properties = f.Properties
	if gf.Properties == nil {
		gf.Properties = geojson.Properties{}
	}
	return gf
}
