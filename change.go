package onemap

import "github.com/paulmach/orb"

// Change is one entry of the change feed: a feature of a layer was inserted,
// updated or deleted. Seq numbers changes in commit order.
type Change struct {
	Seq   int64
	Layer string
	ID    int64
	Op    string // insert, update or delete
	// Record is the feature as it stands when the change is read (which
	// may already include later changes), or nil if it no longer exists.
	Record *Record
	// Case is, for a change of layer LayerCases (a case reported or
	// stepped), the case as it stands when the change is read; nil for
	// every other layer.
	Case *Case
	// OldBound and NewBound are the feature's bounds before and after the
	// change; nil where there is none (no old one for an insert, no new one
	// for a delete).
	OldBound, NewBound *orb.Bound
}

// OpReload is the op of a change that stands for a whole layer: a bulk
// load wrote it in place of one change per feature. Its ID is 0 and it
// carries no record; OldBound and NewBound, when set, bound where the
// load's features were and are. A follower reloads the layer (inmem).
const OpReload = "reload"
