package onemap

import "time"

// ChinaTime returns the time zone of the county's clocks and calendars:
// China Standard Time, UTC+8, without daylight saving since 1991 (a fixed
// zone needs no time-zone database on the server). Dates people give (an
// audit filter's days) and opening hours are read in it, whatever the
// server's own zone.
func ChinaTime() *time.Location {
	return time.FixedZone("CST", 8*60*60)
}
