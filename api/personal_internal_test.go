package api

import (
	"fmt"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
)

// TestPersonalReads_offAndBounded checks the limiter's switches (a negative
// rate or threshold turns that part off) and that it forgets accounts that
// are as good as new once it holds personalReadsKept of them.
func TestPersonalReads_offAndBounded(t *testing.T) {
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	off := newPersonalReads(PersonalReadConfig{PerHour: -1, FlagReads: -1, Now: clock})
	for i := range 1000 {
		if ok, _ := off.allow("a"); !ok {
			t.Fatalf("read %d refused with no limit", i)
		}
		if off.done("a", int64(i), onemap.PurposeVisit) != nil {
			t.Fatalf("read %d flagged with flags off", i)
		}
	}

	p := newPersonalReads(PersonalReadConfig{PerHour: 60, Burst: 2, Now: clock})
	for i := range personalReadsKept {
		p.allow(fmt.Sprint("idle", i))
	}
	p.allow("busy")
	p.allow("busy")
	now = now.Add(2 * time.Minute) // the idle buckets are full again; busy spends its burst again
	p.allow("busy")
	p.allow("busy")
	p.allow("new") // over the bound: the full, quiet buckets are forgotten
	if _, ok := p.accounts["busy"]; !ok || len(p.accounts) != 2 {
		t.Errorf("after the bound: %d accounts kept, busy kept %v; want busy and new", len(p.accounts), ok)
	}
	if ok, wait := p.allow("busy"); ok || wait != time.Minute {
		t.Errorf("busy's third read = %v, %v; want refused for a minute", ok, wait)
	}
}
