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
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/onemapgis/onemap"
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

// ReadGeoJSON reads a FeatureCollection (or a single Feature) of at most
// MaxFileSize bytes. Each feature's Where names its index and the line it
// starts on (GeoJSONRecords, whose records it collects).
func ReadGeoJSON(r io.Reader) ([]Record, error) {
	return collect(geoJSONRecords(r, MaxFileSize))
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

// ReadCSV reads a table with a header row, of at most MaxFileSize bytes.
// The columns named lonCol and latCol give each row's point; every other
// non-empty cell becomes a property, as a number where types says the field
// is one, a list where it is a list (items separated by ";"), a boolean for
// true/false. A row's Where is its line (CSVRecords, whose records it
// collects).
func ReadCSV(r io.Reader, lonCol, latCol string, types map[string]onemap.FieldType) ([]Record, error) {
	next, err := CSVRecords(io.LimitReader(r, MaxFileSize), lonCol, latCol, types)
	if err != nil {
		return nil, err
	}
	return collect(next)
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
