package onemap

import "time"

// Geofence state (issue 21 item 4): whether each tag is inside each
// geofence that watches it. The database keeps it (migration 0024), so that
// a restart, or a second server, takes up where the state was: a crossing
// is written in the same transaction as the position that made it and the
// alarm it raises, and only if the stored state is still the other side, so
// that no crossing raises its alarm twice and none is lost with a failed
// write.

// FenceState is whether a tag is inside a geofence's area, as of the time
// of the position that put it there.
type FenceState struct {
	FenceID int64
	TagID   int64
	In      bool
	At      time.Time
}

// FenceCrossing is a tag passing into (In) or out of a geofence's area at
// the time of a position; Alarm is the alarm it raises (nil: none, the
// fence's trigger being the other way or the time outside its window).
type FenceCrossing struct {
	FenceState
	Alarm *TagAlarm
}
