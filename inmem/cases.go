package inmem

import (
	"context"
	"slices"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/tidwall/btree"
	"github.com/tidwall/rtree"
)

// caseIndex is the open cases of a snapshot: by place, by id and by
// tracking code. Copy-on-write like a layer's index: a snapshot's never
// changes once published. A case is held while its status is open
// (onemap.CaseStatus.Open) and dropped when it is refused or closed; the
// closed history is the database's.
type caseIndex struct {
	tree  *rtree.RTreeGN[float64, *onemap.Case]
	ids   *btree.Map[int64, *onemap.Case]
	codes *btree.Map[string, int64]
}

func newCaseIndex() *caseIndex {
	return &caseIndex{tree: new(rtree.RTreeGN[float64, *onemap.Case]), ids: new(btree.Map[int64, *onemap.Case]),
		codes: new(btree.Map[string, int64])}
}

func (x *caseIndex) copy() *caseIndex {
	return &caseIndex{tree: x.tree.Copy(), ids: x.ids.Copy(), codes: x.codes.Copy()}
}

// put holds k if it is open and drops it if not.
func (x *caseIndex) put(k *onemap.Case) {
	x.delete(k.ID)
	if !k.Status.Open() {
		return
	}
	x.ids.Set(k.ID, k)
	x.codes.Set(k.TrackingCode, k.ID)
	x.tree.Insert(k.Point, k.Point, k)
}

func (x *caseIndex) delete(id int64) {
	if old, ok := x.ids.Delete(id); ok {
		x.tree.Delete(old.Point, old.Point, old)
		x.codes.Delete(old.TrackingCode)
	}
}

// apply applies a change of layer onemap.LayerCases: the case as it stands
// (held if open), or, without one, its removal.
func (x *caseIndex) apply(c onemap.Change) {
	if c.Case != nil {
		x.put(c.Case)
	} else {
		x.delete(c.ID)
	}
}

// CaseFeed is a Feed that also keeps cases (postgis.DB): LoadFrom loads
// its open cases with the features, as of the same moment, and the
// changes of layer onemap.LayerCases it reads carry the case
// (onemap.Change.Case).
type CaseFeed interface {
	Feed
	LoadRecordsAndCases(ctx context.Context, fn func(layer string, r *onemap.Record) error, open func(*onemap.Case) error) (int64, error)
}

// OpenCases returns how many open cases the snapshot holds.
func (s *Snapshot) OpenCases() int { return s.cases.ids.Len() }

// OpenCase returns the open case with the id.
func (s *Snapshot) OpenCase(id int64) (*onemap.Case, bool) { return s.cases.ids.Get(id) }

// OpenCaseByCode returns the open case with the tracking code (canonical,
// as onemap.ParseTrackingCode returns it).
func (s *Snapshot) OpenCaseByCode(code string) (*onemap.Case, bool) {
	id, ok := s.cases.codes.Get(code)
	if !ok {
		return nil, false
	}
	return s.cases.ids.Get(id)
}

// SearchCases calls fn for every open case whose place lies in b (WGS-84,
// edges included), in no particular order, until fn returns false. The
// cases must not be changed.
func (s *Snapshot) SearchCases(b orb.Bound, fn func(*onemap.Case) bool) {
	s.cases.tree.Search(b.Min, b.Max, func(_, _ [2]float64, k *onemap.Case) bool { return fn(k) })
}

// AscendCases calls fn for the open cases in id order until fn returns
// false.
func (s *Snapshot) AscendCases(fn func(*onemap.Case) bool) {
	s.cases.ids.Scan(func(_ int64, k *onemap.Case) bool { return fn(k) })
}

// CaseHit is an open case found near a point, Distance metres away
// (geodesic).
type CaseHit struct {
	Case     *onemap.Case
	Distance float64
}

// CasesWithin returns the open cases within r metres of p (geodesic,
// inclusive) that keep accepts (nil: all), nearest first, then by id.
func (s *Snapshot) CasesWithin(p orb.Point, r float64, keep func(*onemap.Case) bool) []CaseHit {
	var hits []CaseHit
	from := distancesFrom(p) // the centre's reduced latitude once, not once a case
	s.SearchCases(circleBound(p, r), func(k *onemap.Case) bool {
		if keep != nil && !keep(k) {
			return true
		}
		if d := from.to(k.Point); d <= r {
			hits = append(hits, CaseHit{Case: k, Distance: d})
		}
		return true
	})
	slices.SortFunc(hits, func(a, b CaseHit) int {
		switch {
		case a.Distance < b.Distance:
			return -1
		case a.Distance > b.Distance:
			return 1
		}
		return int(a.Case.ID - b.Case.ID)
	})
	return hits
}
