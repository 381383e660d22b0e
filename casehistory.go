package onemap

// A case history is a past of cases to seed: the demo county's two years
// (demo.Dataset.CaseHistory) or the benchmark's million. Grids are named by
// their codes, which the store turns into ids; every case, step, dispute
// and session of it is synthetic and the store marks it so.

// SeedCaseHistory is a history of cases to seed, oldest first.
type SeedCaseHistory struct {
	Cases []SeedCase
}

// SeedCase is one case of a history as it stands on the history's last
// day, with its timeline. Case's grid ids are not set: GridCode (the
// deepest grid of its place), HolderCode and AssignedCode ("": none) name
// them. Case.Version is the number of its steps.
type SeedCase struct {
	Case                               Case
	GridCode, HolderCode, AssignedCode string
	Steps                              []SeedCaseStep
	Dispute                            *SeedDispute // a dispute's mediation record; nil for other cases
}

// SeedCaseStep is one step of a seeded case; GridCode names Step.GridID's
// grid ("": none).
type SeedCaseStep struct {
	Step     CaseStep
	GridCode string
}

// SeedDispute is the mediation record of a seeded dispute: Dispute without
// grid ids, which GridCode (the grid that holds it), TownshipCode and
// SessionGrids (one per session, in order) name.
type SeedDispute struct {
	Dispute      Dispute
	GridCode     string
	TownshipCode string
	SessionGrids []string
}

// SeedTrackingCode returns a tracking code made from the random numbers
// next gives (a seeded generator's, so that a seed gives the same codes),
// in its canonical form.
func SeedTrackingCode(next func() uint64) string {
	out := make([]byte, 0, trackingLen)
	for range trackingLen - 1 {
		out = append(out, trackingAlphabet[next()&31])
	}
	return string(append(out, trackingCheck(out)))
}
