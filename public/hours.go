package public

import (
	"strconv"
	"strings"
	"time"

	"github.com/onemapgis/onemap"
)

// chinaTime is the zone opening hours are read in, made once: OpenAt runs
// for every station of every public answer.
var chinaTime = onemap.ChinaTime()

// Hours is a weekly timetable parsed from OpenStreetMap's opening_hours
// syntax: per weekday (0 Monday … 6 Sunday) the open intervals, in minutes
// since midnight, an interval past midnight running into the next day.
//
// The part of the syntax stations use is understood: "24/7"; rules separated
// by ";", each a comma list of days and day ranges (Mo-Fr, Sa, Mo-Su) and a
// comma list of times (08:30-12:00,14:30-18:00) or "off"/"closed"; a later
// rule replaces the times of the days it names. Anything else (months,
// holidays, week numbers, "sunrise") makes the timetable unknown.
type Hours struct {
	days [7][]span
}

type span struct{ from, to int } // minutes since midnight; to may pass 1440

var dayNames = map[string]int{"Mo": 0, "Tu": 1, "We": 2, "Th": 3, "Fr": 4, "Sa": 5, "Su": 6}

// ParseHours parses an opening_hours value; ok is false when the value is
// empty or uses syntax outside the understood part.
func ParseHours(s string) (h Hours, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Hours{}, false
	}
	if s == "24/7" {
		for d := range h.days {
			h.days[d] = []span{{0, 1440}}
		}
		return h, true
	}
	for _, rule := range strings.Split(s, ";") {
		rule = strings.TrimSpace(rule)
		if rule == "" {
			continue
		}
		daySel, timeSel, found := strings.Cut(rule, " ")
		if !found {
			return Hours{}, false
		}
		var days [7]bool
		for _, part := range strings.Split(daySel, ",") {
			a, b, isRange := strings.Cut(part, "-")
			from, ok1 := dayNames[a]
			to := from
			ok2 := true
			if isRange {
				to, ok2 = dayNames[b]
			}
			if !ok1 || !ok2 {
				return Hours{}, false
			}
			for d := from; ; d = (d + 1) % 7 {
				days[d] = true
				if d == to {
					break
				}
			}
		}
		var spans []span
		timeSel = strings.TrimSpace(timeSel)
		if timeSel != "off" && timeSel != "closed" {
			for _, part := range strings.Split(timeSel, ",") {
				a, b, isRange := strings.Cut(strings.TrimSpace(part), "-")
				from, ok1 := clock(a)
				to, ok2 := clock(b)
				if !isRange || !ok1 || !ok2 || from == to {
					return Hours{}, false
				}
				if to < from {
					to += 1440 // past midnight
				}
				spans = append(spans, span{from, to})
			}
		}
		for d, on := range days {
			if on {
				h.days[d] = spans
			}
		}
	}
	return h, true
}

// clock parses "HH:MM" (00:00 to 24:00) into minutes since midnight.
func clock(s string) (int, bool) {
	hh, mm, ok := strings.Cut(s, ":")
	if !ok || len(hh) != 2 || len(mm) != 2 {
		return 0, false
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || h < 0 || h > 24 || m < 0 || m > 59 || h == 24 && m != 0 {
		return 0, false
	}
	return h*60 + m, true
}

// OpenAt reports whether the timetable is open at t, read in China's time.
func (h *Hours) OpenAt(t time.Time) bool {
	t = t.In(chinaTime)
	day := (int(t.Weekday()) + 6) % 7 // Monday first
	min := t.Hour()*60 + t.Minute()
	for _, sp := range h.days[day] {
		if min >= sp.from && min < sp.to {
			return true
		}
	}
	// An interval of the day before that runs past midnight.
	for _, sp := range h.days[(day+6)%7] {
		if sp.to > 1440 && min < sp.to-1440 {
			return true
		}
	}
	return false
}
