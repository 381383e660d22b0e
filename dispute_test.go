package onemap

import (
	"testing"
	"time"
)

// TestDispute_Apply: a record climbs one level per escalated session and
// ends with a settlement (agreement required) or a referral (note
// required); an ended record and the county refuse what they cannot take,
// naming the field; the record given is left as it was.
func TestDispute_Apply(t *testing.T) {
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	d := NewDispute(7, at, GridRef{ID: 40, Level: LevelGroup}, 2)
	base := DisputeUpdate{Kind: "neighbour", Parties: []DisputeParty{{Name: "张三", Phone: "13912345678", IDNumber: "53232919800101441X", Side: SideApplicant}}}
	with := func(result, note, agreement string) DisputeUpdate {
		u := base
		u.Agreement = agreement
		u.Session = &MediationSession{Result: result, Note: note}
		return u
	}
	parents := []GridRef{{ID: 20, Level: LevelVillage}, {ID: 2, Level: LevelTownship}, {ID: 1, Level: LevelCounty}, {}}
	for i, p := range parents[:3] {
		next, s, err := d.Apply(with(SessionEscalated, "", ""), at, "a", p)
		if err != nil || next.Level != p.Level || next.GridID != p.ID || next.Escalations != i+1 || s.Seq != i+1 || s.Level != d.Level ||
			next.Version != d.Version+1 || next.Outcome != DisputeMediating {
			t.Fatalf("escalation %d: %+v %+v %v", i+1, next, s, err)
		}
		next.Sessions = append(d.Sessions, *s)
		d = next
	}
	for _, c := range []struct {
		u     DisputeUpdate
		field string
	}{
		{with(SessionEscalated, "", ""), "session.result"}, // at the county
		{with(SessionSettled, "", ""), "agreement"},
		{with(SessionCourt, "", ""), "session.note"},
		{with("won", "", ""), "session.result"},
		{DisputeUpdate{}, "kind"},
		{DisputeUpdate{Kind: "x", Parties: []DisputeParty{{Name: "甲", Side: "judge"}}}, "parties"},
		{DisputeUpdate{Kind: "x", Parties: []DisputeParty{{Name: "甲", Side: SideOther, IDNumber: "12345"}}}, "parties"},
		{DisputeUpdate{Kind: "x", Mediators: []string{""}}, "mediators"},
	} {
		if _, _, err := d.Apply(c.u, at, "a", parents[3]); ErrorCode(err) != EINVALID || ErrorField(err) != c.field {
			t.Errorf("%+v: %v, want invalid %s", c.u, err, c.field)
		}
	}
	settled, s, err := d.Apply(with(SessionSettled, "", "以田埂为界"), at.Add(time.Hour), "a", parents[3])
	if err != nil || settled.Outcome != DisputeSettled || !settled.EndedAt.Equal(at.Add(time.Hour)) || s.Result != SessionSettled {
		t.Fatalf("settled: %+v %v", settled, err)
	}
	if d.Outcome != DisputeMediating || d.Version != 3 {
		t.Errorf("Apply changed the record given: %+v", d)
	}
	if _, _, err := settled.Apply(with(SessionNotSettled, "", "以田埂为界"), at, "a", parents[3]); ErrorField(err) != "session" {
		t.Errorf("a session on an ended record: %v", err)
	}
	if m := base.Parties[0].Masked(); m.Name != "张*" || m.Phone != "139****5678" || m.IDNumber != "532***********441X" {
		t.Errorf("masked: %+v", m)
	}
	if c := (DisputeCount{Total: 582, Settled: 547}); c.SettlementRate() < 0.939 || c.SettlementRate() > 0.94 || (DisputeCount{}).SettlementRate() != 0 {
		t.Errorf("rate %v", c.SettlementRate())
	}
}
