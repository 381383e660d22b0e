package demo

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
)

// historyOf makes the demo county's default history as of asOf.
func historyOf(t *testing.T, d *Dataset, p *Plan, asOf time.Time) []onemap.SeedCase {
	t.Helper()
	var all []onemap.SeedCase
	if err := d.CaseHistory(p, asOf, DefaultHistoryRates(), func(b []onemap.SeedCase) error {
		all = append(all, b...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return all
}

// digest sums what a history says, to compare two.
func digest(cs []onemap.SeedCase) string {
	h := sha256.New()
	for _, c := range cs {
		fmt.Fprintf(h, "%s %s %s %v %s %d %s|", c.Case.TrackingCode, c.Case.Status, c.GridCode, c.Case.Point, c.Case.CreatedAt, len(c.Steps), c.Case.ReporterPhone)
		for _, s := range c.Steps {
			fmt.Fprintf(h, "%s %s %s;", s.Step.Action, s.Step.At, s.GridCode)
		}
		if c.Dispute != nil {
			fmt.Fprintf(h, "%s %s %v %d", c.Dispute.Dispute.Outcome, c.Dispute.Dispute.Level, c.Dispute.Dispute.Parties, len(c.Dispute.Dispute.Sessions))
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// TestCaseHistory: two years at the county's rates — about 26,000 public
// reports a year, 776 reports of public opinion, 290 disputes of which
// 93–94 % settled — spread over the groups by households, most closed
// within their limits, a few hundred open of which some overdue and some
// escalated; every case's timeline follows the lifecycle; the same seed
// and day give the same history, and another day the same one moved.
func TestCaseHistory(t *testing.T) {
	d := mustWuding(t)
	p, err := d.Synthesize(testKinds)
	if err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cs := historyOf(t, d, p, asOf)
	var public, opinion, disputes, settled, open, overdue, escalated, closed, lateClose int
	perGroup := map[string]int{}
	codes := map[string]bool{}
	for i, c := range cs {
		k := c.Case
		if i > 0 && k.CreatedAt.Before(cs[i-1].Case.CreatedAt) {
			t.Fatalf("case %d is older than the one before it: %v after %v (%s)", i, k.CreatedAt, cs[i-1].Case.CreatedAt, k.Description)
		}
		if !k.CreatedAt.Before(asOf) || k.CreatedAt.Before(asOf.AddDate(0, 0, -730)) {
			t.Fatalf("case %d reported %v, outside the two years before %v", i, k.CreatedAt, asOf)
		}
		if codes[k.TrackingCode] {
			t.Fatalf("tracking code %s twice", k.TrackingCode)
		}
		codes[k.TrackingCode] = true
		if _, err := onemap.ParseTrackingCode(k.TrackingCode); err != nil {
			t.Fatal(err)
		}
		if k.Version != len(c.Steps) || c.Steps[0].Step.Action != onemap.ActReport {
			t.Fatalf("case %d: version %d with %d steps", i, k.Version, len(c.Steps))
		}
		for j, s := range c.Steps {
			if s.Step.Seq != j+1 || s.Step.At.After(asOf) || j > 0 && s.Step.At.Before(c.Steps[j-1].Step.At) {
				t.Fatalf("case %d step %d: %+v", i, j, s.Step)
			}
		}
		perGroup[c.GridCode]++
		switch {
		case c.Dispute != nil:
			disputes++
			if c.Dispute.Dispute.Outcome == onemap.DisputeSettled {
				settled++
				if c.Dispute.Dispute.Agreement == "" {
					t.Errorf("case %d settled without an agreement", i)
				}
			}
			if n := len(c.Dispute.SessionGrids); n != len(c.Dispute.Dispute.Sessions) {
				t.Errorf("case %d: %d session grids for %d sessions", i, n, len(c.Dispute.Dispute.Sessions))
			}
		case k.Source == onemap.SourcePublic:
			public++
		case k.Source == onemap.SourceGridWorker:
			opinion++
		}
		if k.Status.Open() {
			open++
			if k.Overdue(asOf) {
				overdue++
			}
			if k.Escalations > 0 {
				escalated++
			}
		}
		if k.Status == onemap.CaseClosed {
			closed++
			if k.ClosedAt.After(k.Deadlines.Close) {
				lateClose++
			}
		}
	}
	between := func(what string, got, lo, hi float64) {
		t.Helper()
		if got < lo || got > hi {
			t.Errorf("%s = %v, want %v to %v", what, got, lo, hi)
		}
	}
	rate := float64(settled) / float64(disputes)
	t.Logf("%d cases: %d public, %d opinion, %d disputes (%.1f %% settled); %d open (%d overdue, %d escalated); %d closed (%d late)",
		len(cs), public, opinion, disputes, 100*rate, open, overdue, escalated, closed, lateClose)
	between("public reports a year", float64(public)/2, 25000, 27000)
	between("reports of public opinion a year", float64(opinion)/2, 700, 850)
	between("disputes a year", float64(disputes)/2, 250, 330)
	between("settlement rate", rate, 0.92, 0.955)
	between("open cases", float64(open), 150, 900)
	between("overdue share of the open", float64(overdue)/float64(open), 0.03, 0.5)
	between("escalated open cases", float64(escalated), 3, 100)
	between("closed share", float64(closed)/float64(len(cs)), 0.95, 0.995)
	between("closed late share", float64(lateClose)/float64(closed), 0.01, 0.2)
	// Spread by households: a group with more households gets more cases.
	var big, small Grid
	for _, g := range p.Grids {
		if g.Level != LevelGroup {
			continue
		}
		if big.Code == "" || g.Households > big.Households {
			big = g
		}
		if small.Code == "" || g.Households < small.Households {
			small = g
		}
	}
	if perGroup[big.Code] <= perGroup[small.Code] {
		t.Errorf("group %s (%d households) has %d cases, group %s (%d households) %d", big.Code, big.Households, perGroup[big.Code],
			small.Code, small.Households, perGroup[small.Code])
	}
	// Determinism.
	if a, b := digest(cs), digest(historyOf(t, d, p, asOf)); a != b {
		t.Error("the same seed and day gave another history")
	}
}
