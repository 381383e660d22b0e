package geofile

// KML 2.2 (OGC 07-147r2) reading and writing with encoding/xml. KML is
// always WGS-84 longitude/latitude (section 6.2). Reading takes every
// Placemark, in Documents and Folders at any depth, with its Point,
// LineString, LinearRing, Polygon or MultiGeometry, its name and
// description, and its ExtendedData: untyped Data values as strings, and
// SchemaData/SimpleData values typed by their Schema (int, float, double,
// bool as numbers and booleans). A KMZ (zipped KML) is read too. Writing
// puts the features in one Document with a Schema, so that numbers and
// booleans come back as such.
//
// No library was taken: github.com/twpayne/go-kml writes but does not read,
// and the reader's structs serve the writer as well.

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

type kmlCoords struct {
	Coordinates string `xml:"coordinates"`
}

type kmlBoundary struct {
	Rings []kmlCoords `xml:"LinearRing"`
}

type kmlPolygon struct {
	Outer kmlBoundary   `xml:"outerBoundaryIs"`
	Inner []kmlBoundary `xml:"innerBoundaryIs"`
}

// kmlGeometry holds the geometry elements of a Placemark or MultiGeometry.
type kmlGeometry struct {
	Points      []kmlCoords   `xml:"Point"`
	LineStrings []kmlCoords   `xml:"LineString"`
	Rings       []kmlCoords   `xml:"LinearRing"`
	Polygons    []kmlPolygon  `xml:"Polygon"`
	Multi       []kmlGeometry `xml:"MultiGeometry"`
}

type kmlData struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value"`
}

type kmlSimpleData struct {
	Name  string `xml:"name,attr"`
	Value string `xml:",chardata"`
}

type kmlSchemaData struct {
	SchemaURL  string          `xml:"schemaUrl,attr,omitempty"`
	SimpleData []kmlSimpleData `xml:"SimpleData"`
}

type kmlExtendedData struct {
	Data       []kmlData       `xml:"Data"`
	SchemaData []kmlSchemaData `xml:"SchemaData"`
}

type kmlPlacemark struct {
	ID           string           `xml:"id,attr,omitempty"`
	Name         string           `xml:"name,omitempty"`
	Description  string           `xml:"description,omitempty"`
	ExtendedData *kmlExtendedData `xml:"ExtendedData,omitempty"`
	kmlGeometry
}

type kmlSimpleField struct {
	Name string `xml:"name,attr"`
	Type string `xml:"type,attr"`
}

type kmlSchema struct {
	ID     string           `xml:"id,attr"`
	Name   string           `xml:"name,attr,omitempty"`
	Fields []kmlSimpleField `xml:"SimpleField"`
}

// readKML reads a KML document, or a KMZ holding one.
func readKML(data []byte) ([]Record, error) {
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		ms, err := readZip(data, func(b string) bool { return path.Ext(b) == ".kml" })
		if err != nil {
			return nil, err
		}
		if len(ms) == 0 {
			return nil, invalid("the KMZ holds no .kml file")
		}
		doc := ms[0]
		for _, m := range ms {
			if strings.EqualFold(path.Base(m.name), "doc.kml") {
				doc = m
			}
		}
		return readKML(doc.data)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		d, err := decoderFor(label)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		s, err := d(b)
		return strings.NewReader(s), err
	}
	schemas := map[string]map[string]string{} // schema id → field → type
	var (
		recs   []Record
		sawKML bool
	)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, _ := dec.InputPos()
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				line = se.Line
			}
			return nil, invalid("line %d: malformed KML: %v", line, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "kml":
			sawKML = true
		case "Schema":
			var s kmlSchema
			if err := dec.DecodeElement(&s, &se); err != nil {
				line, _ := dec.InputPos()
				return nil, invalid("line %d: Schema: %v", line, err)
			}
			fields := map[string]string{}
			for _, f := range s.Fields {
				fields[f.Name] = strings.ToLower(f.Type)
			}
			schemas[s.ID] = fields
			if s.Name != "" {
				schemas[s.Name] = fields
			}
		case "Placemark":
			line, _ := dec.InputPos()
			var pm kmlPlacemark
			if err := dec.DecodeElement(&pm, &se); err != nil {
				loc := Record{Where: fmt.Sprintf("feature %d (line %d)", len(recs)+1, line), Feature: len(recs) + 1, Line: line}
				return nil, loc.Errorf("", "malformed KML: %v", err)
			}
			loc := Record{Where: fmt.Sprintf("feature %d (line %d)", len(recs)+1, line), Feature: len(recs) + 1, Line: line}
			if n := strings.TrimSpace(pm.Name); n != "" {
				loc.Where = fmt.Sprintf("feature %d (Placemark %q, line %d)", len(recs)+1, n, line)
			}
			rec, err := pm.record(loc, schemas)
			if err != nil {
				return nil, err
			}
			recs = append(recs, rec)
		}
	}
	if !sawKML {
		return nil, invalid("line 1: not a KML document (no <kml> element)")
	}
	return recs, nil
}

// record returns the Placemark as a record; loc says where it is (Where,
// Feature, Line), for the record and for its errors.
func (pm *kmlPlacemark) record(loc Record, schemas map[string]map[string]string) (Record, error) {
	props := map[string]any{}
	if n := strings.TrimSpace(pm.Name); n != "" {
		props["name"] = n
	}
	if d := strings.TrimSpace(pm.Description); d != "" {
		props["description"] = d
	}
	if ed := pm.ExtendedData; ed != nil {
		for _, d := range ed.Data {
			props[d.Name] = strings.TrimSpace(d.Value)
		}
		for _, sd := range ed.SchemaData {
			types := schemas[strings.TrimPrefix(sd.SchemaURL, "#")]
			for _, s := range sd.SimpleData {
				v, err := kmlValue(strings.TrimSpace(s.Value), types[s.Name])
				if err != nil {
					return Record{}, loc.Errorf("", "SimpleData %q: %v", s.Name, err)
				}
				if v != nil {
					props[s.Name] = v
				}
			}
		}
	}
	g, err := pm.kmlGeometry.geometry()
	if err != nil {
		return Record{}, loc.Errorf("", "%v", err)
	}
	if g == nil {
		return Record{}, loc.Errorf("", "the Placemark has no geometry")
	}
	loc.Geometry, loc.Properties = g, props
	return loc, nil
}

func kmlValue(s, typ string) (any, error) {
	switch typ {
	case "int", "uint", "short", "ushort", "float", "double":
		if s == "" {
			return nil, nil
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number (the Schema says %s)", s, typ)
		}
		return v, nil
	case "bool":
		switch strings.ToLower(s) {
		case "":
			return nil, nil
		case "1", "true":
			return true, nil
		case "0", "false":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not a boolean", s)
	}
	return s, nil
}

// geometry flattens g into one orb geometry: a lone element itself, a
// Multi* when all elements are of one kind, a Collection otherwise.
func (g *kmlGeometry) geometry() (orb.Geometry, error) {
	var (
		points orb.MultiPoint
		lines  orb.MultiLineString
		polys  orb.MultiPolygon
	)
	var walk func(g *kmlGeometry) error
	walk = func(g *kmlGeometry) error {
		for _, p := range g.Points {
			pts, err := parseKMLCoords(p.Coordinates)
			if err != nil {
				//lint:ignore ST1005 a KML element's name
				return fmt.Errorf("Point: %v", err)
			}
			if len(pts) != 1 {
				//lint:ignore ST1005 a KML element's name
				return fmt.Errorf("Point has %d coordinates, want 1", len(pts))
			}
			points = append(points, pts[0])
		}
		for _, l := range g.LineStrings {
			pts, err := parseKMLCoords(l.Coordinates)
			if err != nil {
				return fmt.Errorf("LineString: %v", err)
			}
			if len(pts) < 2 {
				return fmt.Errorf("LineString has %d coordinates; a line needs 2", len(pts))
			}
			lines = append(lines, orb.LineString(pts))
		}
		for _, r := range g.Rings {
			ring, err := kmlRing(r, "LinearRing")
			if err != nil {
				return err
			}
			polys = append(polys, orientRFC7946(orb.Polygon{ring}))
		}
		for i, p := range g.Polygons {
			if len(p.Outer.Rings) != 1 {
				//lint:ignore ST1005 a KML element's name
				return fmt.Errorf("Polygon %d has %d outer rings, want 1", i+1, len(p.Outer.Rings))
			}
			outer, err := kmlRing(p.Outer.Rings[0], fmt.Sprintf("Polygon %d outer ring", i+1))
			if err != nil {
				return err
			}
			poly := orb.Polygon{outer}
			for _, b := range p.Inner {
				for _, r := range b.Rings {
					hole, err := kmlRing(r, fmt.Sprintf("Polygon %d inner ring %d", i+1, len(poly)))
					if err != nil {
						return err
					}
					poly = append(poly, hole)
				}
			}
			polys = append(polys, orientRFC7946(poly))
		}
		for i := range g.Multi {
			if err := walk(&g.Multi[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(g); err != nil {
		return nil, err
	}
	// A MultiGeometry stays a Multi* even with one member, so that a
	// one-part MultiPolygon round-trips.
	single := len(g.Multi) == 0
	var c orb.Collection
	switch {
	case single && len(points) == 1 && len(lines) == 0 && len(polys) == 0:
		return points[0], nil
	case single && len(lines) == 1 && len(points) == 0 && len(polys) == 0:
		return lines[0], nil
	case single && len(polys) == 1 && len(points) == 0 && len(lines) == 0:
		return polys[0], nil
	case len(points) > 0 && len(lines) == 0 && len(polys) == 0:
		return points, nil
	case len(lines) > 0 && len(points) == 0 && len(polys) == 0:
		return lines, nil
	case len(polys) > 0 && len(points) == 0 && len(lines) == 0:
		return polys, nil
	case len(points)+len(lines)+len(polys) == 0:
		return nil, nil
	}
	for _, p := range points {
		c = append(c, p)
	}
	for _, l := range lines {
		c = append(c, l)
	}
	for _, p := range polys {
		c = append(c, p)
	}
	return c, nil
}

func kmlRing(c kmlCoords, what string) (orb.Ring, error) {
	pts, err := parseKMLCoords(c.Coordinates)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	r := orb.Ring(pts)
	if len(r) > 0 && r[0] != r[len(r)-1] {
		r = append(r, r[0])
	}
	if len(r) < 4 {
		return nil, fmt.Errorf("%s has %d coordinates; a ring needs at least 4 (3 corners and the closing point)", what, len(r))
	}
	return r, nil
}

// parseKMLCoords reads "lon,lat[,alt] lon,lat[,alt] …"; the altitude is
// dropped. Spaces after commas, which some writers put, are tolerated.
func parseKMLCoords(s string) ([]orb.Point, error) {
	var tuples []string
	for _, f := range strings.Fields(s) {
		if n := len(tuples); n > 0 && (strings.HasSuffix(tuples[n-1], ",") || strings.HasPrefix(f, ",")) {
			tuples[n-1] += f
			continue
		}
		tuples = append(tuples, f)
	}
	pts := make([]orb.Point, 0, len(tuples))
	for i, t := range tuples {
		parts := strings.Split(t, ",")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("coordinate %d %q is not lon,lat[,alt]", i+1, t)
		}
		lon, err1 := strconv.ParseFloat(parts[0], 64)
		lat, err2 := strconv.ParseFloat(parts[1], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("coordinate %d %q is not lon,lat[,alt]", i+1, t)
		}
		p := orb.Point{lon, lat}
		if err := finite(p); err != nil {
			return nil, fmt.Errorf("coordinate %d: %v", i+1, err)
		}
		pts = append(pts, p)
	}
	return pts, nil
}

// orientRFC7946 orients p's rings in place as RFC 7946 recommends: the outer
// ring counter-clockwise, holes clockwise.
func orientRFC7946(p orb.Polygon) orb.Polygon {
	for j, r := range p {
		if o := r.Orientation(); (j == 0 && o == orb.CW) || (j > 0 && o == orb.CCW) {
			r.Reverse()
		}
	}
	return p
}

const kmlSchemaID = "onemap"

// writeKML writes fs as one KML Document called name. A "name" or
// "description" property that is a string becomes the Placemark's name or
// description; the other properties go to SchemaData typed by a Schema
// (double, bool or string; lists and objects as JSON text).
func writeKML(w io.Writer, fs []*onemap.Feature, name string) error {
	kinds, keys := columnKinds(fs, func(k string, v any) bool {
		_, text := v.(string)
		return text && (k == "name" || k == "description")
	})
	types := make(map[string]string, len(kinds))
	for k, kind := range kinds {
		types[k] = "string"
		switch kind {
		case columnBool:
			types[k] = "bool"
		case columnNumber:
			types[k] = "double"
		}
	}
	schema := &kmlSchema{ID: kmlSchemaID, Name: kmlSchemaID}
	for _, k := range keys {
		schema.Fields = append(schema.Fields, kmlSimpleField{Name: k, Type: types[k]})
	}
	doc := struct {
		XMLName  xml.Name `xml:"http://www.opengis.net/kml/2.2 kml"`
		Document struct {
			Name       string         `xml:"name,omitempty"`
			Schema     *kmlSchema     `xml:"Schema,omitempty"`
			Placemarks []kmlPlacemark `xml:"Placemark"`
		}
	}{}
	doc.Document.Name = name
	if len(keys) > 0 {
		doc.Document.Schema = schema
	}
	for i, f := range fs {
		pm := kmlPlacemark{}
		if f.ID != 0 {
			pm.ID = "f" + strconv.FormatInt(f.ID, 10)
		}
		if s, ok := f.Properties["name"].(string); ok {
			pm.Name = s
		}
		if s, ok := f.Properties["description"].(string); ok {
			pm.Description = s
		}
		sd := kmlSchemaData{SchemaURL: "#" + kmlSchemaID}
		for _, k := range keys {
			v, ok := f.Properties[k]
			if !ok || v == nil {
				continue
			}
			if _, isStr := v.(string); isStr && (k == "name" || k == "description") {
				continue
			}
			var text string
			switch types[k] {
			case "bool":
				text = strconv.FormatBool(v.(bool))
			default:
				text, _ = dbfText(v)
			}
			sd.SimpleData = append(sd.SimpleData, kmlSimpleData{Name: k, Value: text})
		}
		if len(sd.SimpleData) > 0 {
			pm.ExtendedData = &kmlExtendedData{SchemaData: []kmlSchemaData{sd}}
		}
		g, err := toKMLGeometry(f.Geometry)
		if err != nil {
			return invalid("feature %d (id %d): %v", i+1, f.ID, err)
		}
		pm.kmlGeometry = g
		doc.Document.Placemarks = append(doc.Document.Placemarks, pm)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", " ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("geofile: write kml: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func kmlCoordText(pts []orb.Point) kmlCoords {
	var b strings.Builder
	for i, p := range pts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(p[0], 'f', -1, 64))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(p[1], 'f', -1, 64))
	}
	return kmlCoords{Coordinates: b.String()}
}

func kmlPolygonOf(p orb.Polygon) kmlPolygon {
	var kp kmlPolygon
	for j, r := range p {
		r = append(orb.Ring(nil), r...)
		if len(r) > 0 && r[0] != r[len(r)-1] {
			r = append(r, r[0])
		}
		// KML 2.2 §10.8.3.5: rings counter-clockwise (for the outer ring).
		if o := r.Orientation(); (j == 0 && o == orb.CW) || (j > 0 && o == orb.CCW) {
			r.Reverse()
		}
		b := kmlBoundary{Rings: []kmlCoords{kmlCoordText(r)}}
		if j == 0 {
			kp.Outer = b
		} else {
			kp.Inner = append(kp.Inner, b)
		}
	}
	return kp
}

func toKMLGeometry(g orb.Geometry) (kmlGeometry, error) {
	var k kmlGeometry
	switch g := g.(type) {
	case orb.Point:
		k.Points = []kmlCoords{kmlCoordText([]orb.Point{g})}
	case orb.LineString:
		k.LineStrings = []kmlCoords{kmlCoordText(g)}
	case orb.Polygon:
		k.Polygons = []kmlPolygon{kmlPolygonOf(g)}
	case orb.MultiPoint:
		m := kmlGeometry{}
		for _, p := range g {
			m.Points = append(m.Points, kmlCoordText([]orb.Point{p}))
		}
		k.Multi = []kmlGeometry{m}
	case orb.MultiLineString:
		m := kmlGeometry{}
		for _, l := range g {
			m.LineStrings = append(m.LineStrings, kmlCoordText(l))
		}
		k.Multi = []kmlGeometry{m}
	case orb.MultiPolygon:
		m := kmlGeometry{}
		for _, p := range g {
			m.Polygons = append(m.Polygons, kmlPolygonOf(p))
		}
		k.Multi = []kmlGeometry{m}
	case orb.Collection:
		m := kmlGeometry{}
		for _, c := range g {
			sub, err := toKMLGeometry(c)
			if err != nil {
				return k, err
			}
			m.Multi = append(m.Multi, sub)
		}
		k.Multi = []kmlGeometry{m}
	case nil:
		return k, errors.New("the feature has no geometry")
	default:
		return k, fmt.Errorf("a %s cannot be written to KML", g.GeoJSONType())
	}
	return k, nil
}
