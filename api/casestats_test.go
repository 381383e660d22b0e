package api_test

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/onemapgis/onemap"
)

// TestCaseStats_openAtPeriodEnd: a past period's open and overdue figures
// are the cases as they stood at its end, read from their timelines, not
// as they stand now. Cases are opened, closed, reopened and left to go
// overdue on both sides of the period's end T, under the case clock; the
// figures at T, at now, and a minute before now (the past end's reading of
// the same state as now's) are each what the steps make; a and e, whose
// limits started again after T, are told at T from their timelines.
func TestCaseStats_openAtPeriodEnd(t *testing.T) {
	w := startCaseWorld(t)
	cmd := w.as(t, "cmd_at", onemap.RoleCommander, 0)
	step := func(k *onemap.Case, version int, body string) {
		t.Helper()
		b := fmt.Sprintf(`{"version":%d,%s}`, version, body)
		if resp, out := cmd.do("POST", fmt.Sprintf("/api/cases/%d/actions", k.ID), b, "X-CSRF-Token", cmd.csrf); resp.StatusCode != 200 {
			t.Fatalf("case %d step %s = %d %s", k.ID, b, resp.StatusCode, out)
		}
	}
	closeFrom := func(k *onemap.Case, version int) { // accepted at version: assign … check
		t.Helper()
		step(k, version, fmt.Sprintf(`"action":"assign","grid_id":%d`, w.group))
		step(k, version+1, `"action":"handle","note":"已处置"`)
		step(k, version+2, `"action":"feedback","note":"已处置"`)
		step(k, version+3, `"action":"check","pass":true`)
	}
	t0 := w.clock.Now() // 08:00 UTC; limits: accept 2 h, respond 24 h, close 15 days
	// a: reported and closed before T, reopened after it.
	a := w.report(t, "10.0.3.1", "sanitation", w.inGroup, "")
	step(a, 1, `"action":"accept"`)
	closeFrom(a, 2)
	// c: accepted before T, closed after it.
	c := w.report(t, "10.0.3.2", "livelihood", w.inGroup, "")
	step(c, 1, `"action":"accept"`)
	// e: never accepted before T (due at 10:00), accepted and escalated
	// after it: its limits start again, so T's are only in its timeline.
	e := w.report(t, "10.0.3.7", "public_order", w.inGroup, "")
	// d: never accepted; its acceptance falls due at 11:00, before T.
	w.clock.Add(time.Hour)
	d := w.report(t, "10.0.3.3", "safety", w.inGroup, "")
	// h: reported at 10:00, due at 12:00 (T, not before it), refused after T.
	w.clock.Add(time.Hour)
	h := w.report(t, "10.0.3.4", "other", w.inGroup, "")
	// g: reported at 11:00, not yet due at T; never accepted.
	w.clock.Add(time.Hour)
	w.report(t, "10.0.3.5", "livelihood", w.inGroup, "")
	w.clock.Add(time.Hour)
	end := w.clock.Now() // T, 12:00
	// After T: c closed, a reopened, h refused, d accepted late, e
	// accepted and escalated, f reported.
	w.clock.Add(time.Hour)
	closeFrom(c, 2)
	step(a, 6, `"action":"reopen","note":"群众再次反映"`)
	step(h, 1, `"action":"refuse","note":"不属实"`)
	step(d, 1, `"action":"accept"`)
	step(e, 1, `"action":"accept"`)
	step(e, 2, `"action":"escalate","note":"需上级协调"`)
	w.report(t, "10.0.3.6", "sanitation", w.inGroup, "")
	w.clock.Add(3 * 24 * time.Hour)
	now := w.clock.Now()

	type figures struct {
		At    time.Time `json:"at"`
		Total struct {
			Open    int `json:"open"`
			Overdue int `json:"overdue"`
		} `json:"total"`
	}
	stats := func(from, to time.Time) figures {
		t.Helper()
		q := fmt.Sprintf("/api/cases/stats?grid=%d&from=%s&to=%s", w.township, url.QueryEscape(from.Format(time.RFC3339)),
			url.QueryEscape(to.Format(time.RFC3339)))
		resp, body := cmd.do("GET", q, "")
		if resp.StatusCode != 200 {
			t.Fatalf("stats = %d %s", resp.StatusCode, body)
		}
		return decode[figures](t, body)
	}
	for _, c := range []struct {
		name                string
		to, at              time.Time
		open, overdue       int
		openWhy, overdueWhy string
	}{
		// At T: c, d, e, h and g open; d and e overdue. (Now: a, d, e,
		// g and f open, all five overdue.)
		{"the period's end", end, end, 5, 2, "c, d, e, h, g", "d, e"},
		{"now", now, now, 5, 5, "a, d, e, g, f", "a, d, e, g, f"},
		{"a minute ago", now.Add(-time.Minute), now.Add(-time.Minute), 5, 5, "a, d, e, g, f", "a, d, e, g, f"},
		{"a period not yet ended", now.Add(24 * time.Hour), now, 5, 5, "a, d, e, g, f", "a, d, e, g, f"},
	} {
		got := stats(t0.Add(-time.Hour), c.to)
		if got.Total.Open != c.open || got.Total.Overdue != c.overdue {
			t.Errorf("%s: open %d, overdue %d; want %d (%s), %d (%s)", c.name, got.Total.Open, got.Total.Overdue,
				c.open, c.openWhy, c.overdue, c.overdueWhy)
		}
		if !got.At.Equal(c.at) {
			t.Errorf("%s: counted at %v, want %v", c.name, got.At, c.at)
		}
	}
}
