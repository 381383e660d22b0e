package checkpoint

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// Trail is the audit trail as the database holds it (package postgis).
type Trail interface {
	// AuditChain checks the chain in one snapshot, from record from to the
	// head (from 0: from the anchor, the whole trail), and returns its
	// state with the records marks, as far as the trail holds them. With
	// from above the anchor, record from is taken as it is (a checkpoint
	// vouches for it) and the chain is checked from there.
	AuditChain(ctx context.Context, from int64, marks ...int64) (Chain, error)
}

// Anchor writes and checks the checkpoints of one trail.
type Anchor struct {
	Key   *Key             // signs (serve, onemap audit checkpoint) or only checks; nil: none configured, Verify checks the chain alone
	File  File             // where checkpoints are appended
	Trail Trail            // the database's trail
	Now   func() time.Time // the clock; nil is time.Now
	Log   *slog.Logger     // for Run; nil logs nothing
	Every time.Duration    // for Run: how often to write; 0 is Interval
	Ticks <-chan time.Time // for Run, in tests: when to write, instead of every Every
}

func (a *Anchor) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Write checks the records written since the latest checkpoint (or the
// whole trail, before the first) and signs and appends a checkpoint of the
// head. It refuses to sign a trail that does not hold, or that disagrees
// with the latest checkpoint: that would vouch for the tampering.
func (a *Anchor) Write(ctx context.Context) (Checkpoint, error) {
	if a.Key == nil || !a.Key.CanSign() {
		return Checkpoint{}, errors.New("checkpoint: the key is a public key: it cannot sign")
	}
	prev, err := a.File.Latest()
	first := errors.Is(err, ErrNone)
	if err != nil && !first {
		return Checkpoint{}, err
	}
	from := prev.Seq
	if first {
		from = 0
	}
	c, err := a.Trail.AuditChain(ctx, from, prev.Seq)
	if err != nil {
		return Checkpoint{}, err
	}
	if !c.Intact {
		return Checkpoint{}, &Break{Seq: c.BrokenAt, Problem: c.Problem + "; no checkpoint signed"}
	}
	now := a.now()
	if !first {
		if err := Check(a.Key, prev, c, now); err != nil {
			var b *Break
			errors.As(err, &b)
			return Checkpoint{}, &Break{Seq: b.Seq, Problem: b.Problem + "; no checkpoint signed"}
		}
	}
	cp, err := a.Key.Sign(c.Head, now)
	if err != nil {
		return Checkpoint{}, err
	}
	return cp, a.File.Append(cp)
}

// Verify checks the whole trail's chain and compares it with the latest
// checkpoint.
// Without a Key it checks the chain alone and says it is not anchored.
func (a *Anchor) Verify(ctx context.Context) (Report, error) {
	if a.Key == nil {
		c, err := a.Trail.AuditChain(ctx, 0)
		if err != nil {
			return Report{}, err
		}
		return NewReport(c, "not anchored: no checkpoints configured (--audit-key, --audit-checkpoints); the chain is checked against itself only"), nil
	}
	cp, err := a.File.Latest()
	if errors.Is(err, ErrNone) {
		c, cerr := a.Trail.AuditChain(ctx, 0)
		if cerr != nil {
			return Report{}, cerr
		}
		return NewReport(c, fmt.Sprintf("not anchored: %v; the chain is checked against itself only", err)), nil
	}
	if err != nil {
		c, cerr := a.Trail.AuditChain(ctx, 0)
		if cerr != nil {
			return Report{}, cerr
		}
		r := NewReport(c, "")
		r.OK, r.Anchored = false, true
		r.Problem = fmt.Sprintf("the checkpoint file cannot be read: %v", err)
		return r, nil
	}
	c, err := a.Trail.AuditChain(ctx, 0, cp.Seq)
	if err != nil {
		return Report{}, err
	}
	var floor *Checkpoint
	if c.Anchor.Seq > 0 {
		f, ok, err := a.File.AtOrBefore(c.Anchor.Seq)
		if err != nil {
			return Report{}, err
		}
		if ok {
			floor = &f
		}
	}
	r := Judge(a.Key, cp, floor, c, a.now())
	if _, kept := c.Marks[cp.Seq]; c.Intact && kept && !r.OK && r.BrokenAt == cp.Seq {
		// Rebuilt: the earlier checkpoints narrow down where.
		if err := a.locate(ctx, &r); err != nil {
			return Report{}, err
		}
	}
	return r, nil
}

// locate narrows down where a rebuilt chain was changed: between the last
// checkpoint whose record still has its signed hash and the first whose
// record does not.
func (a *Anchor) locate(ctx context.Context, r *Report) error {
	all, err := a.File.All()
	if err != nil {
		return err
	}
	var seqs []int64
	var valid []Checkpoint
	for _, cp := range all {
		if a.Key.Verify(cp) == nil {
			valid = append(valid, cp)
			seqs = append(seqs, cp.Seq)
		}
	}
	c, err := a.Trail.AuditChain(ctx, 0, seqs...)
	if err != nil {
		return err
	}
	slices.SortStableFunc(valid, func(x, y Checkpoint) int { return cmp.Compare(x.Seq, y.Seq) })
	good, goodAt := c.Anchor.Seq, ""
	for _, cp := range valid {
		mark, ok := c.Marks[cp.Seq]
		if !ok {
			continue
		}
		if bytes.Equal(mark.Hash, cp.Hash) {
			good, goodAt = cp.Seq, cp.Time.Format(time.RFC3339)
			continue
		}
		if cp.Seq <= good {
			continue // signed again later over the same record
		}
		agree := fmt.Sprintf("records up to %d agree with the checkpoint signed at %s", good, goodAt)
		if goodAt == "" {
			agree = fmt.Sprintf("no checkpoint vouches for a record after %d", good)
		}
		r.BrokenAt = good + 1
		r.Problem = fmt.Sprintf("the chain was rebuilt: %s, but record %d does not have the hash the checkpoint signed at %s holds: one of records %d to %d was changed",
			agree, cp.Seq, cp.Time.Format(time.RFC3339), good+1, cp.Seq)
		return nil
	}
	return nil
}

// Interval is how often Run writes a checkpoint by default.
const Interval = 5 * time.Minute

// Run writes a checkpoint now, at every tick, and once more when ctx ends
// (at shutdown, so that the last records are anchored too). A checkpoint
// that cannot be written is logged as an error, and Run goes on.
func (a *Anchor) Run(ctx context.Context) {
	ticks := a.Ticks
	if ticks == nil {
		every := a.Every
		if every <= 0 {
			every = Interval
		}
		t := time.NewTicker(every)
		defer t.Stop()
		ticks = t.C
	}
	write := func(ctx context.Context) {
		cp, err := a.Write(ctx)
		if a.Log == nil {
			return
		}
		if err != nil {
			a.Log.Error("audit checkpoint: not written", "error", err)
			return
		}
		a.Log.Debug("audit checkpoint", "seq", cp.Seq, "file", a.File.Path)
	}
	write(ctx)
	for {
		select {
		case <-ctx.Done():
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			write(wctx)
			cancel()
			return
		case <-ticks:
			write(ctx)
		}
	}
}
