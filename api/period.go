package api

import (
	"time"

	"github.com/onemapgis/onemap"
)

// parsePeriod reads the from and to of a list or a statistics route: RFC
// 3339 times, or dates read in China time (onemap.ChinaTime, the county's
// day, whatever the server's zone): from= a date starts at that day's
// midnight, to= a date ends with that day (at the next day's midnight), so
// that from=2026-12-01&to=2026-12-31 is the whole of December. An empty
// bound is the zero time (no bound). A bound that is neither, or a to not
// after from, is an EINVALID error naming the field.
func parsePeriod(fromS, toS string) (from, to time.Time, err error) {
	read := func(name, v string, end bool) (time.Time, error) {
		if v == "" {
			return time.Time{}, nil
		}
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t, nil
		}
		t, err := time.ParseInLocation(time.DateOnly, v, onemap.ChinaTime())
		if err != nil {
			return t, onemap.FieldErrorf(name, onemap.EINVALID, "%s %.40q: want a time (2026-12-01T08:00:00+08:00) or a date (2026-12-01, China time)", name, v)
		}
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	if from, err = read("from", fromS, false); err != nil {
		return from, to, err
	}
	if to, err = read("to", toS, true); err != nil {
		return from, to, err
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return from, to, onemap.FieldErrorf("to", onemap.EINVALID, "the period must end after it starts (from %s, to %s)",
			from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return from, to, nil
}
