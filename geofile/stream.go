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
	n := 0
	return func() (Record, bool, error) {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return Record{}, false, nil
		}
		if err != nil {
			return Record{}, false, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		n++
		loc := Record{Where: fmt.Sprintf("line %d", line), Feature: n, Line: line}
		x, err1 := strconv.ParseFloat(strings.TrimSpace(row[lon]), 64)
		y, err2 := strconv.ParseFloat(strings.TrimSpace(row[lat]), 64)
		if err1 != nil || err2 != nil {
			return Record{}, false, loc.Errorf("", "%s=%q, %s=%q is not a longitude and latitude", lonCol, row[lon], latCol, row[lat])
		}
		props := make(map[string]any, len(row))
		for i, cell := range row {
			if i == lon || i == lat || cell == "" {
				continue
			}
			v, err := csvValue(cell, types[header[i]])
			if err != nil {
				return Record{}, false, loc.Errorf("", "column %q: %v", header[i], err)
			}
			props[header[i]] = v
		}
		loc.Geometry, loc.Properties = orb.Point{x, y}, props
		return loc, true, nil
	}, nil
}
