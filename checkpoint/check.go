package checkpoint

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// Chain is the state of the audit trail in the database, read in one
// snapshot, as Check needs it.
type Chain struct {
	// Intact says whether the chain holds by itself: every record links to
	// the one before it and matches its own hash. When it does not,
	// BrokenAt and Problem say where and why.
	Intact   bool
	Rows     int64 // records checked
	FirstSeq int64
	LastSeq  int64
	BrokenAt int64
	Problem  string
	// Head is the last record (the anchor when the trail is empty).
	Head Point
	// Anchor is the last record retention removed (Seq 0: none), and
	// PrunedAt when.
	Anchor   Point
	PrunedAt time.Time
	// Marks are the records checkpoints name (those asked for), as far as
	// the trail still holds them.
	Marks map[int64]Point
}

// MinRetention is the shortest retention the database's audit_prune
// accepts: a record younger than this when the trail was pruned cannot
// have been removed by retention.
const MinRetention = "6 months"

// clockSkew is how far ahead of the verifier's clock the database's may be.
const clockSkew = 5 * time.Minute

// Break is a disagreement between the trail and a checkpoint: the record
// where it shows and what it means.
type Break struct {
	Seq     int64
	Problem string
}

func (b *Break) Error() string { return fmt.Sprintf("record %d: %s", b.Seq, b.Problem) }

// Check compares the trail c with the checkpoint cp, whose signature it
// checks first with k. It returns nil when they agree: the record cp names
// is still there with the hash cp signed (so every record up to it is as
// it was then), or retention removed it lawfully, and the trail has not
// shrunk below it. Otherwise it returns a *Break. now is the verifier's
// clock, for the anchor's time.
func Check(k *Key, cp Checkpoint, c Chain, now time.Time) error {
	if err := k.Verify(cp); err != nil {
		return &Break{Seq: cp.Seq, Problem: err.Error()}
	}
	signed := cp.Time.Format(time.RFC3339)
	if c.Head.Seq < cp.Seq {
		return &Break{Seq: c.Head.Seq + 1, Problem: fmt.Sprintf(
			"the trail ends at record %d, but the checkpoint signed at %s holds record %d: records %d to %d were removed",
			c.Head.Seq, signed, cp.Seq, c.Head.Seq+1, cp.Seq)}
	}
	if mark, ok := c.Marks[cp.Seq]; ok {
		if !bytes.Equal(mark.Hash, cp.Hash) {
			return &Break{Seq: cp.Seq, Problem: fmt.Sprintf(
				"record %d does not have the hash the checkpoint signed at %s holds: it, or a record before it, was changed and the chain rebuilt",
				cp.Seq, signed)}
		}
		return nil
	}
	// The record is gone: only retention may have removed it.
	if c.Anchor.Seq < cp.Seq {
		return &Break{Seq: cp.Seq, Problem: fmt.Sprintf(
			"record %d, which the checkpoint signed at %s holds, is missing, and retention has not reached it (it removed records up to %d)",
			cp.Seq, signed, c.Anchor.Seq)}
	}
	if c.Anchor.Seq == cp.Seq {
		if !bytes.Equal(c.Anchor.Hash, cp.Hash) {
			return &Break{Seq: cp.Seq, Problem: fmt.Sprintf(
				"retention's anchor at record %d does not have the hash the checkpoint signed at %s holds", cp.Seq, signed)}
		}
		if cp.At.IsZero() {
			return nil // signed over an empty trail: its head was this anchor already
		}
	}
	if c.PrunedAt.After(now.Add(clockSkew)) {
		return &Break{Seq: c.Anchor.Seq, Problem: fmt.Sprintf(
			"retention's anchor says records up to %d were removed at %s, which is in the future", c.Anchor.Seq, c.PrunedAt.Format(time.RFC3339))}
	}
	if !cp.At.Before(c.PrunedAt.AddDate(0, -6, 0)) {
		return &Break{Seq: cp.Seq, Problem: fmt.Sprintf(
			"records up to %d were removed at %s, but record %d was written at %s, less than %s before: not by retention",
			c.Anchor.Seq, c.PrunedAt.Format(time.RFC3339), cp.Seq, cp.At.Format(time.RFC3339), MinRetention)}
	}
	return nil
}

// CheckAnchor checks that retention's anchor in c is lawful, given floor,
// the newest checkpoint of a record at or before the anchor: that record
// was written at floor.At, so the anchor's record was written no earlier,
// and retention removes only records older than six months. A superuser
// who deletes recent records and moves the anchor over them is caught here
// even when the latest checkpoint's record is kept.
func CheckAnchor(k *Key, floor Checkpoint, c Chain, now time.Time) error {
	if err := k.Verify(floor); err != nil {
		return &Break{Seq: floor.Seq, Problem: err.Error()}
	}
	if c.PrunedAt.After(now.Add(clockSkew)) {
		return &Break{Seq: c.Anchor.Seq, Problem: fmt.Sprintf(
			"retention's anchor says records up to %d were removed at %s, which is in the future", c.Anchor.Seq, c.PrunedAt.Format(time.RFC3339))}
	}
	if !floor.At.Before(c.PrunedAt.AddDate(0, -6, 0)) {
		return &Break{Seq: c.Anchor.Seq, Problem: fmt.Sprintf(
			"records up to %d were removed at %s, but record %d, at or before them, was written at %s (checkpoint signed at %s), less than %s before: not by retention",
			c.Anchor.Seq, c.PrunedAt.Format(time.RFC3339), floor.Seq, floor.At.Format(time.RFC3339), floor.Time.Format(time.RFC3339), MinRetention)}
	}
	return nil
}

// Report is the answer of a verification: the chain's own check, and
// whether and how it agrees with the latest checkpoint. It is what
// `onemap audit verify` prints and GET /api/audit/verify answers.
type Report struct {
	OK       bool   `json:"ok"`
	Rows     int64  `json:"rows"`
	FirstSeq int64  `json:"first_seq"`
	LastSeq  int64  `json:"last_seq"`
	BrokenAt int64  `json:"broken_at,omitempty"`
	Problem  string `json:"problem,omitempty"`
	// Anchored says whether the trail was compared with a signed
	// checkpoint. Without one the chain proves only that it holds
	// together, not that nobody with the database's keys rebuilt it.
	Anchored   bool        `json:"anchored"`
	Checkpoint *Checkpoint `json:"checkpoint,omitempty"` // the latest, that it was compared with
	Note       string      `json:"note,omitempty"`       // why it is not anchored
}

// NewReport reports the chain c alone, not anchored, with note saying why.
func NewReport(c Chain, note string) Report {
	return Report{OK: c.Intact, Rows: c.Rows, FirstSeq: c.FirstSeq, LastSeq: c.LastSeq, BrokenAt: c.BrokenAt, Problem: c.Problem, Note: note}
}

// Judge reports the chain c compared with the checkpoint cp: broken where
// the chain itself breaks, or else where it disagrees with cp.
// With a floor (see CheckAnchor), retention's anchor is checked too.
func Judge(k *Key, cp Checkpoint, floor *Checkpoint, c Chain, now time.Time) Report {
	r := NewReport(c, "")
	r.Anchored, r.Checkpoint = true, &cp
	err := Check(k, cp, c, now)
	if err == nil && floor != nil {
		err = CheckAnchor(k, *floor, c, now)
	}
	if err != nil {
		var b *Break
		errors.As(err, &b)
		if r.OK {
			r.BrokenAt, r.Problem = b.Seq, b.Problem
		} else {
			r.Problem += "; and " + b.Problem
		}
		r.OK = false
	}
	return r
}
