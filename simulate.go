package onemap

import "github.com/paulmach/orb"

// The simulator (package sim, `onemap simulate`) drives the demo county
// through the real signed ingest: cameras' heartbeats and status changes,
// alarms, and the e-bike tags' positions. These are what it drives.

// SimCamera is a camera the simulator speaks for.
type SimCamera struct {
	DeviceCode string
	Pilot      bool // in one of PilotTownships: where alarms are raised
}

// SimTag is an e-bike tag the simulator moves, around its home (WGS-84).
type SimTag struct {
	Code string
	Home orb.Point
}

// PilotTownships are the three 数字乡镇 pilot townships of the demo county,
// where face recognition and the tags are deployed (东坡 under the demo
// seed's name and the county's own).
func PilotTownships() []string {
	return []string{"狮山镇", "东坡傣族乡", "东坡傈僳族乡", "环州乡"}
}

// AuditSourceRekey records a source given a new key (the simulator's own
// source, at each start).
const AuditSourceRekey = "source.rekey"
