package main

import (
	"cmp"
	"slices"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/geofile"
	"github.com/onemapgis/onemap/postgis"
)

// csvFields reads a CSV table's rows as import rows whose fields are given
// by place (postgis.ImportRow.Fields), with no map a row: the bulk path's
// reader of a large table. A row it takes is checked as
// onemap.Layer.Normalize checks the map CSVRecords makes of it (its
// geometry, then each value by its field, in the order of their names,
// then the required fields), with the same values; a row it does not take
// (any refusal) is read again through that map and Normalize, so that its
// error is theirs word for word.
type csvFields struct {
	layer *onemap.Layer
	rows  *geofile.CSVRows
	// cols are the columns other than the coordinates', by name.
	cols   []csvField
	fields int // the layer's writable fields (postgis.ImportFields)
	// required are the places of the required fields among the writable
	// ones (-1: one that no row can give, a read-only field or "id").
	required []int
}

// csvField is a column of the table and the writable field it fills.
type csvField struct {
	col   int
	name  string
	field int // its place in postgis.ImportFields; -1: dropped ("id", a read-only field); -2: no field of the layer
}

// newCSVFields returns the direct reader of t's rows for layer l, or nil
// if the table's header names a column twice (whose map CSVRecords fills
// in the columns' order: those tables keep the map).
func newCSVFields(l *onemap.Layer, t *geofile.CSVRows) *csvFields {
	writable := postgis.ImportFields(l)
	c := &csvFields{layer: l, rows: t, fields: len(writable)}
	seen := map[string]bool{}
	for i, h := range t.Header {
		if i == t.Lon || i == t.Lat {
			continue
		}
		if seen[h] {
			return nil
		}
		seen[h] = true
		col := csvField{col: i, name: h, field: -2}
		if f, ok := l.Field(h); ok {
			col.field = slices.IndexFunc(writable, func(w onemap.Field) bool { return w.Name == f.Name })
		}
		if h == "id" {
			col.field = -1
		}
		c.cols = append(c.cols, col)
	}
	slices.SortFunc(c.cols, func(a, b csvField) int { return cmp.Compare(a.name, b.name) })
	for _, f := range l.Fields {
		if f.Required {
			w := slices.IndexFunc(writable, func(w onemap.Field) bool { return w.Name == f.Name })
			if f.Name == "id" {
				w = -1
			}
			c.required = append(c.required, w)
		}
	}
	return c
}

// row reads the next row: false at the end of the table.
func (c *csvFields) row() (postgis.ImportRow, bool, error) {
	rec, vals, ok, err := c.rows.Next()
	if !ok || err != nil {
		return postgis.ImportRow{}, false, err
	}
	if row, ok := c.direct(rec, vals); ok {
		return row, true, nil
	}
	// Refused (or not as this reader takes it): the row as CSVRecords and
	// Normalize read it, and their error.
	props := make(map[string]any, len(vals))
	for i, v := range vals {
		if v != nil {
			props[c.rows.Header[i]] = v
		}
	}
	rec.Properties = props
	return normalizedRow(c.layer, rec)
}

// direct returns row rec (its values vals, by column) with its fields by
// place, or false if Normalize would refuse it.
func (c *csvFields) direct(rec geofile.Record, vals []any) (postgis.ImportRow, bool) {
	g, err := c.layer.NormalizeGeometry(rec.Geometry)
	if err != nil {
		return postgis.ImportRow{}, false
	}
	fields := make([]any, c.fields)
	for _, col := range c.cols {
		v := vals[col.col]
		if v == nil || col.field == -1 {
			continue
		}
		if col.field < 0 {
			return postgis.ImportRow{}, false
		}
		nv, err := c.layer.NormalizeValue(col.name, v)
		if err != nil {
			return postgis.ImportRow{}, false
		}
		fields[col.field] = nv
	}
	for _, w := range c.required {
		if w < 0 || fields[w] == nil {
			return postgis.ImportRow{}, false
		}
	}
	return postgis.ImportRow{Where: rec.Where, Feature: &onemap.Feature{Layer: c.layer.ID, Geometry: g}, Fields: fields}, true
}
