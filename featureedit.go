package onemap

import (
	"errors"
	"time"

	"github.com/paulmach/orb"
)

// FeatureEdit is one edit of a feature of a point layer (risk points,
// households, cameras, stations), based on the version the editor read:
// the fields to set (each one the layer's Editable lists, normalised by
// Layer.NormalizeValue; a nil value clears the field), a new position
// (only for a Movable layer), and for a household the personal details to
// set. The store writes it as one new version, with its history and audit
// records, or not at all.
type FeatureEdit struct {
	Layer string
	ID    int64
	// Based is the version the edit is based on (If-Match): a feature at
	// another version is an ECONFLICT error carrying a Conflict.
	Based      int
	Properties map[string]any
	Position   *orb.Point
	// Details are a household's personal details to set, by the names
	// HouseholdDetailFields lists (nil: none); they are kept apart from the
	// map and have no versions, so each edit of them is audited
	// (AuditHouseholdEdit) with the names of the fields it changed.
	Details map[string]any
	// Reason is what the editor typed, for the history.
	Reason string
	// Within, if not 0, is the grid at or below which the feature must lie,
	// before and after the edit (an operator's part of the county): a
	// feature outside it is not found, a move out of it refused.
	Within int64
}

// HouseholdDetailFields are the members of a household's personal details
// (HouseholdDetails) that an edit may set, by their names on the wire.
func HouseholdDetailFields() []string {
	return []string{"head_name", "head_phone", "members", "address", "notes"}
}

// FeatureVersion is one version of a feature as its history keeps it: who
// wrote it, when and why (Reason typed, ReasonCode the kind of edit:
// create, update, restore with RestoredVersion, import with ImportFile,
// seed), and the feature's fields and geometry as they were.
type FeatureVersion struct {
	Version         int
	Op              string // insert, update or delete
	ChangedAt       time.Time
	ChangedBy       string
	Reason          string
	ReasonCode      string
	RestoredVersion int
	ImportFile      string
	Properties      map[string]any
	Geometry        orb.Geometry
}

// householdDetailFields are the personal details of a household as fields,
// for their values to be checked as a layer's are.
func householdDetailFields() []Field {
	return []Field{
		{Name: "head_name", Type: FieldString, Class: ClassPersonal, Required: true, MaxLen: 50},
		{Name: "head_phone", Type: FieldString, Class: ClassPersonal, Phone: true},
		{Name: "members", Type: FieldInteger, Class: ClassPersonal, Counted: true},
		{Name: "address", Type: FieldString, Class: ClassPersonal, MaxLen: 200},
		{Name: "notes", Type: FieldString, Class: ClassPersonal},
	}
}

// NormalizeHouseholdDetail checks one value of a household's personal
// details (name one of HouseholdDetailFields) and returns it in the form
// the store takes; nil clears it (but the head's name, which is required).
// An unknown name or a bad value is an EINVALID error naming
// "details.<name>".
func NormalizeHouseholdDetail(name string, v any) (any, error) {
	l := Layer{ID: "household_details", Fields: householdDetailFields()}
	f, ok := l.Field(name)
	if !ok {
		return nil, FieldErrorf("details."+name, EINVALID, "details: unknown member %q (want one of %v)", name, HouseholdDetailFields())
	}
	if v == nil {
		if f.Required {
			return nil, FieldErrorf("details."+name, EINVALID, "details: %q is required", name)
		}
		return nil, nil
	}
	out, err := normalizeValue(f, v)
	if err == nil && name == "members" && out.(int64) == 0 {
		err = FieldErrorf(name, EINVALID, "field %q: a household has 1 member or more", name)
	}
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, &Error{Code: e.Code, Field: "details." + name, Message: "details: " + e.Message}
		}
		return nil, err
	}
	return out, nil
}
