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
)

// Next returns a file's records one at a time: the next record and true,
// or false at the end of the file; an error names where in the file it is.
// A stream holds one record at a time, however large the file.
type Next func() (Record, bool, error)

// collect reads every record of next.
func collect(next Next) ([]Record, error) {
	var recs []Record
	for {
		rec, ok, err := next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return recs, nil
		}
		recs = append(recs, rec)
	}
}

// errTooLarge is a lineReader's read past its limit.
var errTooLarge = errors.New("geofile: past the size limit")

// lineReader counts the lines of what it reads, for the line numbers of a
// stream's records and errors: lineAt maps a byte offset to its line,
// keeping only the newlines read and not yet passed (offsets asked must not
// decrease, as a decoder's do).
type lineReader struct {
	r       io.Reader
	limit   int64   // bytes allowed (0: no limit)
	off     int64   // bytes read so far
	nl      []int64 // offsets of the newlines read at or after the last offset asked
	counted int     // newlines before them
}

func (l *lineReader) Read(p []byte) (int, error) {
	if l.limit > 0 && l.off > l.limit {
		return 0, errTooLarge
	}
	n, err := l.r.Read(p)
	for i := bytes.IndexByte(p[:n], '\n'); i >= 0; {
		l.nl = append(l.nl, l.off+int64(i))
		j := bytes.IndexByte(p[i+1:n], '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	l.off += int64(n)
	return n, err
}

// lineAt returns the 1-based line of byte offset off (the newlines before
// it, plus one).
func (l *lineReader) lineAt(off int64) int {
	k := 0
	for k < len(l.nl) && l.nl[k] < off {
		k++
	}
	l.counted += k
	l.nl = append(l.nl[:0], l.nl[k:]...)
	return l.counted + 1
}

// GeoJSONRecords streams the features of a GeoJSON FeatureCollection (or a
// single Feature) from r, as ReadGeoJSON reads them: each feature's Where
// names its index and the line it starts on, and an error names its line.
// The file's other members are read past; a file that turns out not to be
// a FeatureCollection (its "type" may follow its features) is refused at
// its end, after the features before were returned.
func GeoJSONRecords(r io.Reader) Next {
	return geoJSONRecords(r, 0)
}

// geoJSONRecords is GeoJSONRecords refusing a file of more than limit
// bytes (0: any size).
func geoJSONRecords(r io.Reader, limit int64) Next {
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\xef\xbb\xbf" {
		br.Discard(3)
	}
	lr := &lineReader{r: br, limit: limit}
	dec := json.NewDecoder(lr)
	syntax := func(err error) error {
		if errors.Is(err, errTooLarge) {
			return invalid("file is larger than %d MiB", limit>>20)
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return invalid("line %d: malformed JSON: %v", lr.lineAt(se.Offset), se)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return invalid("line %d: %s should be a JSON %s, not %s", lr.lineAt(te.Offset), te.Field, te.Type, te.Value)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return invalid("line %d: the file ends too early", lr.lineAt(lr.off))
		}
		return invalid("line %d: %v", lr.lineAt(dec.InputOffset()), err)
	}
	var (
		typ      string
		seen     bool
		inArray  bool                           // within "features"
		i        int                            // features returned
		top      = map[string]json.RawMessage{} // a single Feature's members
		started  bool
		finished bool
	)
	// member reads the top-level members up to the next feature (true) or
	// the object's end (false).
	member := func() (bool, error) {
		for dec.More() {
			keyTok, err := dec.Token()
			if err != nil {
				return false, syntax(err)
			}
			key, _ := keyTok.(string)
			switch key {
			case "type":
				if err := dec.Decode(&typ); err != nil {
					return false, syntax(err)
				}
			case "features":
				seen = true
				if tok, err := dec.Token(); err != nil {
					return false, syntax(err)
				} else if d, ok := tok.(json.Delim); !ok || d != '[' {
					return false, invalid("line %d: \"features\" must be an array", lr.lineAt(dec.InputOffset()))
				}
				inArray = true
				return true, nil
			default:
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return false, syntax(err)
				}
				if key == "geometry" || key == "properties" {
					top[key] = raw
				}
			}
		}
		return false, nil
	}
	return func() (Record, bool, error) {
		if finished {
			return Record{}, false, nil
		}
		if !started {
			started = true
			tok, err := dec.Token()
			if err != nil {
				return Record{}, false, syntax(err)
			}
			if d, ok := tok.(json.Delim); !ok || d != '{' {
				return Record{}, false, invalid("line 1: a GeoJSON file must hold a JSON object")
			}
		}
		for {
			if inArray {
				if dec.More() {
					var raw json.RawMessage
					if err := dec.Decode(&raw); err != nil {
						return Record{}, false, syntax(err)
					}
					i++
					line := lr.lineAt(dec.InputOffset() - int64(len(raw)))
					rec, err := decodeFeature(raw, Record{Where: fmt.Sprintf("feature %d (line %d)", i, line), Feature: i, Line: line})
					return rec, err == nil, err
				}
				if _, err := dec.Token(); err != nil { // ]
					return Record{}, false, syntax(err)
				}
				inArray = false
			}
			more, err := member()
			if err != nil {
				return Record{}, false, err
			}
			if !more {
				break
			}
		}
		finished = true
		if _, err := dec.Token(); err != nil { // }
			return Record{}, false, syntax(err)
		}
		switch typ {
		case "FeatureCollection":
			if !seen {
				return Record{}, false, invalid("line 1: the FeatureCollection has no \"features\"")
			}
			return Record{}, false, nil
		case "Feature":
			if i > 0 {
				return Record{}, false, invalid("line 1: a GeoJSON Feature holds \"features\"")
			}
			top["type"] = json.RawMessage(`"Feature"`)
			raw, err := json.Marshal(top)
			if err != nil {
				return Record{}, false, fmt.Errorf("geofile: %w", err)
			}
			rec, err := decodeFeature(raw, Record{Where: "feature 1 (line 1)", Feature: 1, Line: 1})
			return rec, err == nil, err
		case "":
			return Record{}, false, invalid("line 1: the GeoJSON object has no \"type\"")
		}
		return Record{}, false, invalid("line 1: a GeoJSON %q is not a FeatureCollection or Feature", typ)
	}
}

// CSVRecords streams the rows of a CSV table from r, as ReadCSV reads them
// (the header first: an error here is the header's).
func CSVRecords(r io.Reader, lonCol, latCol string, types map[string]onemap.FieldType) (Next, error) {
	t, err := NewCSVRows(r, lonCol, latCol, types)
	if err != nil {
		return nil, err
	}
	return t.Records(), nil
}

// Records returns the rest of t's rows as CSVRecords returns them, each
// with its values in a map by column name.
func (t *CSVRows) Records() Next {
	return func() (Record, bool, error) {
		rec, vals, ok, err := t.Next()
		if !ok || err != nil {
			return Record{}, false, err
		}
		props := make(map[string]any, len(vals))
		for i, v := range vals {
			if v != nil {
				props[t.Header[i]] = v
			}
		}
		rec.Properties = props
		return rec, true, nil
	}
}

// CSVRows reads a CSV table's rows as CSVRecords does, each as its
// record (Where, Feature, Line, the point) and its values by column
// (Next), not as a map: a reader that knows the columns takes the values
// by their place, with no map a row.
type CSVRows struct {
	// Header is the table's column names (trimmed, the byte-order mark
	// left out), Lon and Lat the columns of the coordinates.
	Header   []string
	Lon, Lat int
	lonCol   string
	latCol   string
	types    []onemap.FieldType // by column
	cr       *csv.Reader
	n        int
	vals     []any
}

// NewCSVRows reads the header of the CSV table in r (an error here is
// the header's); types gives the columns' types by name (a column it does
// not name is text).
func NewCSVRows(r io.Reader, lonCol, latCol string, types map[string]onemap.FieldType) (*CSVRows, error) {
	cr := csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	cr.FieldsPerRecord = 0
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, invalid("line 1: the file is empty; it needs a header row")
		}
		return nil, csvError(err)
	}
	header = append([]string(nil), header...)
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
	t := &CSVRows{Header: header, Lon: lon, Lat: lat, lonCol: lonCol, latCol: latCol, cr: cr,
		types: make([]onemap.FieldType, len(header)), vals: make([]any, len(header))}
	for i, h := range header {
		t.types[i] = types[h]
	}
	return t, nil
}

// Next reads the next row: its record (Where, Feature, Line and the point,
// no Properties) and its values by column, as CSVRecords reads them (nil
// for the coordinates' columns and an empty cell); false at the end of the
// table. The values are the caller's until the next call, which reuses
// their slice; an error names the row as CSVRecords does.
func (t *CSVRows) Next() (Record, []any, bool, error) {
	row, err := t.cr.Read()
	if errors.Is(err, io.EOF) {
		return Record{}, nil, false, nil
	}
	if err != nil {
		return Record{}, nil, false, csvError(err)
	}
	line, _ := t.cr.FieldPos(0)
	t.n++
	loc := Record{Where: "line " + strconv.Itoa(line), Feature: t.n, Line: line}
	x, err1 := strconv.ParseFloat(strings.TrimSpace(row[t.Lon]), 64)
	y, err2 := strconv.ParseFloat(strings.TrimSpace(row[t.Lat]), 64)
	if err1 != nil || err2 != nil {
		return Record{}, nil, false, loc.Errorf("", "%s=%q, %s=%q is not a longitude and latitude", t.lonCol, row[t.Lon], t.latCol, row[t.Lat])
	}
	if len(row) != len(t.vals) { // a table whose rows differ in length (FieldsPerRecord 0 refuses them)
		t.vals = make([]any, len(row))
	}
	clear(t.vals)
	for i, cell := range row {
		if i == t.Lon || i == t.Lat || cell == "" {
			continue
		}
		var typ onemap.FieldType
		if i < len(t.types) {
			typ = t.types[i]
		}
		v, err := csvValue(cell, typ)
		if err != nil {
			return Record{}, nil, false, loc.Errorf("", "column %q: %v", t.Header[i], err)
		}
		t.vals[i] = v
	}
	loc.Geometry = orb.Point{x, y}
	return loc, t.vals, true, nil
}
