package api

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/paulmach/orb"
)

// TestAroundCountAll holds the counts of a layer's hits by kind, level and
// status (those of them the layer has), made through the layer's numbering
// of their texts (tallyCodes), to countBy over each field: for few values
// and more than a numbering holds (maxTallyCode), nil values among them,
// with two layers' counts kept in one scratch, and with the same records
// counted in turn by two numberings (two servers over one replica), each
// numbering them again in its own.
func TestAroundCountAll(t *testing.T) {
	l := onemap.Layer{ID: "t", Geometry: onemap.GeometryPoint, Fields: []onemap.Field{
		{Name: "status", Type: onemap.FieldString}, {Name: "name", Type: onemap.FieldString}, {Name: "kind", Type: onemap.FieldString}}}
	rng := rand.New(rand.NewPCG(5, 6))
	sc := newAroundScratch()
	for _, distinct := range []int{0, 1, 3, 16, 17, maxTallyCode, maxTallyCode + 1, 40, 300} {
		tc, other := newTallyCodes(&l), newTallyCodes(&l)
		other.tag = tc.tag%(1<<(32-tallyTagShift)-1) + 1 // another tag, whatever tc drew
		var hits []inmem.Hit
		for i := range 300 * min(distinct, 1) {
			vals := make([]any, 3)
			for j := range vals {
				if n := rng.IntN(distinct + 1); n < distinct {
					vals[j] = fmt.Sprint("v", n*(j+1))
				}
			}
			r, err := onemap.NewRecord(int64(i+1), 1, orb.Point{102, 25}, vals)
			if err != nil {
				t.Fatal(err)
			}
			hits = append(hits, inmem.Hit{Record: r})
		}
		var entries [4]aroundLayer
		sc.keys = tc.count(&entries[0], hits, allCounted, sc.keys)
		sc.keys = tc.count(&entries[1], hits, allCounted, sc.keys) // numbered, after the first's counts in the same scratch
		sc.keys = other.count(&entries[2], hits, allCounted, sc.keys)
		sc.keys = tc.count(&entries[3], hits[:len(hits)/2], allCounted, sc.keys) // numbered by the other since
		for k := range entries {
			e, hits := &entries[k], hits
			if k == 3 {
				hits = hits[:len(hits)/2]
			}
			for i, field := range aroundCounted {
				at := l.FieldIndex(field)
				if e.has[i] != (at >= 0) {
					t.Fatalf("%d values, count %d, %s: has %v, the layer's index %d", distinct, k, field, e.has[i], at)
				}
				if at < 0 {
					continue
				}
				if want := countBy(hits, at); !slices.Equal(e.by[i], want) || e.by[i] == nil {
					t.Errorf("%d values, count %d, by %s: %v, countBy %v", distinct, k, field, e.by[i], want)
				}
			}
		}
	}
}

// TestAroundCountConcurrent counts the same records from several
// goroutines through one numbering and another, as the answers of two
// servers over one replica do at once (go test -race checks the numbers
// kept in the records and the numbering's texts): every count is
// countBy's.
func TestAroundCountConcurrent(t *testing.T) {
	l := onemap.Layer{ID: "t", Geometry: onemap.GeometryPoint, Fields: []onemap.Field{
		{Name: "kind", Type: onemap.FieldString}, {Name: "level", Type: onemap.FieldString}}}
	rng := rand.New(rand.NewPCG(7, 8))
	var hits []inmem.Hit
	for i := range 500 {
		r, err := onemap.NewRecord(int64(i+1), 1, orb.Point{102, 25}, []any{fmt.Sprint("k", rng.IntN(50)), fmt.Sprint("l", rng.IntN(4))})
		if err != nil {
			t.Fatal(err)
		}
		hits = append(hits, inmem.Hit{Record: r})
	}
	want := [2]counts{countBy(hits, 0), countBy(hits, 1)}
	tcs := [2]*tallyCodes{newTallyCodes(&l), newTallyCodes(&l)}
	tcs[1].tag = tcs[0].tag%(1<<(32-tallyTagShift)-1) + 1
	errs := make(chan string, 8)
	for g := range 8 {
		go func() {
			tc := tcs[g%2]
			var keys []keyCount
			for range 20 {
				var e aroundLayer
				keys = tc.count(&e, hits, allCounted, keys[:0])
				if !slices.Equal(e.by[0], want[0]) || !slices.Equal(e.by[1], want[1]) {
					errs <- fmt.Sprintf("goroutine %d: by kind %v, by level %v; countBy %v, %v", g, e.by[0], e.by[1], want[0], want[1])
					return
				}
			}
			errs <- ""
		}()
	}
	for range 8 {
		if msg := <-errs; msg != "" {
			t.Error(msg)
		}
	}
}

// TestAroundCasesEntry holds the around answer's cases entry, written
// directly, to the gin.H it replaces as appendAnswer wrote it: with no
// case, and with cases of several statuses, overdue or not, truncated or
// not.
func TestAroundCasesEntry(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	statuses := []onemap.CaseStatus{onemap.CaseReported, onemap.CaseAccepted, onemap.CaseHandling}
	for n := range 6 {
		e := &aroundCasesEntry{count: n * 2, overdue: n / 2, truncated: n%2 == 1}
		byStatus := map[string]int{}
		var features []caseBrief
		for i := range n {
			k := &onemap.Case{ID: int64(i + 1), Status: statuses[i%len(statuses)], Category: "路灯", Level: onemap.LevelVillage,
				GridID: 93, HolderGridID: 93, CreatedAt: now.Add(-time.Duration(i) * time.Hour), UpdatedAt: now, Point: orb.Point{102.4, 25.5}}
			byStatus[string(k.Status)]++
			f := briefOf(k, now)
			d := float64(i) * 12.5
			f.Distance = &d
			features = append(features, f)
		}
		e.features = features
		for key, c := range byStatus {
			e.byStatus = append(e.byStatus, keyCount{key, c})
		}
		slices.SortFunc(e.byStatus, func(a, b keyCount) int { return cmp.Compare(a.key, b.key) })
		if features == nil {
			features = make([]caseBrief, 0)
		}
		want, err := appendAnswer(nil, gin.H{"count": e.count, "by_status": byStatus, "overdue": e.overdue, "features": features,
			"truncated": e.truncated})
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.append(nil)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("%d cases:\n got %s\nwant %s", n, got, want)
		}
		if m, _ := json.Marshal(e); string(m) != string(want) {
			t.Fatalf("%d cases, MarshalJSON:\n got %s\nwant %s", n, m, want)
		}
	}
}

// TestReadAroundQuery holds readAroundQuery, which reads a plain query in
// place, to what url.Values gives for it: the same values, the same
// parameters given, the same refusal.
func TestReadAroundQuery(t *testing.T) {
	for _, raw := range []string{
		"lon=114.3&lat=30.6", "lon=114.3&lat=30.6&radius=1000", "lat=30.6&lon=114.3&radius=250.5&order=severity",
		"lon=1&lat=2&crs=EPSG:4490", "lon=1&lat=2&crs", "lon=1&&lat=2&", "", "lon=&lat=", "lon=1&lat=2&fields=name",
		"lon=1&lat=2&fields=name&fields=status", "lon=1&lat=2&radius=1&radius=2", "lon=1%2E5&lat=2", "lon=1+&lat=2",
		"lon=1;lat=2", "lon=1&lat=2&k=3", "lon=1&lat=2&Radius=3", "lon=1&lat=2&order=", "lon=1&lat=2&%zz=1",
	} {
		got, gotErr := readAroundQuery(raw)
		want, _ := url.ParseQuery(raw)
		wantErr := checkQuery(want, aroundParams...)
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Errorf("%q: refusal %v, url.Values gives %v", raw, gotErr, wantErr)
			continue
		}
		if wantErr != nil {
			continue
		}
		for i := range got.vals {
			if got.vals[i] != want.Get(aroundParams[i]) || (got.has&(1<<i) != 0) != want.Has(aroundParams[i]) {
				t.Errorf("%q: %s = %q (given: %v), url.Values gives %q (%v)", raw, aroundParams[i], got.vals[i],
					got.has&(1<<i) != 0, want.Get(aroundParams[i]), want.Has(aroundParams[i]))
			}
		}
		if want.Has("fields") != (got.values != nil && got.values.Has("fields")) {
			t.Errorf("%q: fields= not passed on as url.Values", raw)
		}
	}
}
