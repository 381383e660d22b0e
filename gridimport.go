package onemap

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// ImportFeature is one feature of an import file, as package geofile reads
// it, with where it came from.
type ImportFeature struct {
	// Where says where the feature is in words: "feature 3 (line 40)",
	// "line 12".
	Where string
	// Feature is the feature's 1-based number in the file; 0: none.
	Feature int
	// Line is the 1-based line the feature starts on; 0 where the format
	// has no lines (a Shapefile).
	Line       int
	Geometry   orb.Geometry
	Properties map[string]any
}

// Errorf returns the EINVALID error of a refusal about f: the message
// starts with f.Where, and the error carries f's number and line.
func (f *ImportFeature) Errorf(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Feature: f.Feature, Line: f.Line,
		Message: f.Where + ": " + fmt.Sprintf(format, args...)}
}

// GridImportRows turns the features of an import file into grids to import
// (Store's ImportGrids): each property is matched to a writable field of
// the grids layer l by its name, its Chinese or English title, or the
// name cut to the 10 characters a DBF column holds (case and surrounding
// space aside), and its value coerced to the field's type (gridCoerce); a
// parent_code (上级编码) names the parent by code. The rows come parents
// first (county, township, village, group, then any other level), in the
// file's order within a level. A geometry outside envelope, a value that
// does not fit its field, or a parent code that is not plain text is an
// EINVALID error about its feature (ImportFeature.Errorf). ignored are the
// names of the properties no field takes (id, fid and area_m2 are expected
// and not listed), sorted.
func GridImportRows(l *Layer, feats []ImportFeature, envelope orb.Bound) (rows []GridImport, ignored []string, err error) {
	fields := map[string]Field{}
	for _, f := range l.Fields {
		if f.ReadOnly {
			continue
		}
		for _, k := range []string{f.Name, f.Title, f.TitleEN, f.Name[:min(len(f.Name), 10)]} {
			fields[strings.ToLower(k)] = f
		}
	}
	parentKeys := map[string]bool{"parent_code": true, "parent_cod": true, "上级编码": true, "parent code": true}
	skip := map[string]bool{"id": true, "area_m2": true, "fid": true}
	seen := map[string]bool{}
	rows = make([]GridImport, 0, len(feats))
	for i := range feats {
		r := &feats[i]
		if err := CheckPositions("geometry", r.Geometry, envelope); err != nil {
			return nil, nil, r.Errorf(ErrorField(err), "%s", ErrorMessage(err))
		}
		row := GridImport{Where: r.Where, Feature: r.Feature, Line: r.Line, Geometry: r.Geometry, Properties: map[string]any{}}
		for k, v := range r.Properties {
			key := strings.ToLower(strings.TrimSpace(k))
			if parentKeys[key] {
				row.ParentCode = strings.TrimSpace(gridText(v))
				if err := CheckText(k, row.ParentCode); err != nil {
					return nil, nil, r.Errorf(k, "%s", ErrorMessage(err))
				}
				continue
			}
			f, ok := fields[key]
			if !ok {
				if !skip[key] {
					seen[k] = true
				}
				continue
			}
			cv, err := gridCoerce(f, v)
			if err != nil {
				return nil, nil, r.Errorf(k, "field %q: %v", k, err)
			}
			if cv != nil {
				row.Properties[f.Name] = cv
			}
		}
		rows = append(rows, row)
	}
	slices.SortStableFunc(rows, func(a, b GridImport) int {
		return cmp.Compare(gridLevelRank(a.Properties["level"]), gridLevelRank(b.Properties["level"]))
	})
	ignored = make([]string, 0, len(seen))
	for k := range seen {
		ignored = append(ignored, k)
	}
	slices.Sort(ignored)
	return rows, ignored, nil
}

// gridLevelRank orders grid levels from the province down; unknown last.
func gridLevelRank(v any) int {
	switch v {
	case "province":
		return 0
	case "prefecture":
		return 1
	case "county":
		return 2
	case "township":
		return 3
	case "village":
		return 4
	case "group":
		return 5
	}
	return 6
}

// gridText returns a file's value as text: a whole number without a
// fraction (a DBF's numeric codes), nil as "".
func gridText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		if v == float64(int64(v)) {
			return strconv.FormatInt(int64(v), 10)
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// gridCoerce turns a file's value into the field's type: numbers read as text
// (a DBF's codes) and text read as numbers; an empty value is none.
func gridCoerce(f Field, v any) (any, error) {
	s := strings.TrimSpace(gridText(v))
	if v == nil || s == "" {
		return nil, nil
	}
	switch f.Type {
	case FieldString:
		return s, nil
	case FieldInteger:
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || n != float64(int64(n)) {
			return nil, fmt.Errorf("%q is not a whole number", s)
		}
		return n, nil
	case FieldBoolean:
		switch strings.ToLower(s) {
		case "true", "1", "t", "y", "yes", "是":
			return true, nil
		case "false", "0", "f", "n", "no", "否":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not true or false", s)
	}
	return v, nil
}
