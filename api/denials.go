package api

import (
	"context"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/ratelimit"
)

// Denials counts refused requests (401, 403) so that a flood of them does
// not flood the audit trail. The first refusal of a caller (its account or
// "anonymous", its role and its address) in a period is recorded at once,
// as every refusal was before; the others of that period are counted and
// recorded together as one "denied" record with a count when the period
// ends: at the next refusal after it, at a tick of Run, or at Close. So
// 300 refusals of one client in a second leave two records, the first and
// one that counts the other 299.
//
// Memory is bounded: past MaxClients callers counted at once, refusals are
// counted into one record for all the others (whose first refusal is then
// not recorded alone). Denials is safe for concurrent use.
type Denials struct {
	cfg DenialsConfig

	mu       sync.Mutex
	audit    func(ctx context.Context, action, target string, detail map[string]any)
	counts   map[onemap.Caller]*denialCount
	overflow *denialCount // refusals of callers past MaxClients
	nextEnd  time.Time    // the earliest end of a period counted (zero: none)
}

// DenialsConfig configures Denials. Zero fields take the defaults.
type DenialsConfig struct {
	Period     time.Duration    // refusals of a caller counted together; default 1 minute
	MaxClients int              // callers counted at once; default 10,000
	Now        func() time.Time // the clock; default time.Now
	Ticks      <-chan time.Time // when Run writes the periods that ended; default every Period
}

// denialCount is what is counted of one caller (or of the overflow) in a
// period.
type denialCount struct {
	caller      onemap.Caller
	start       time.Time // the period began with the refusal recorded at once
	n           int       // refusals counted since
	first, last time.Time // of those counted
	target      string    // the first path counted
	paths       []string  // the first few distinct "METHOD path" counted
	statuses    map[int]int
	clients     map[string]bool // overflow only: how many callers, up to maxOverflowClients
}

// denialPaths and maxOverflowClients bound what a record lists.
const (
	denialPaths        = 5
	maxOverflowClients = 1000
)

// NewDenials returns a counter of refusals.
func NewDenials(cfg DenialsConfig) *Denials {
	if cfg.Period <= 0 {
		cfg.Period = time.Minute
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Denials{cfg: cfg, counts: map[onemap.Caller]*denialCount{}}
}

// bind sends the records to audit (the server's audit trail).
func (d *Denials) bind(audit func(ctx context.Context, action, target string, detail map[string]any)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.audit = audit
}

// note counts one refusal of caller and reports whether it is to be
// recorded at once (the caller's first in its period). Periods that have
// ended are written first.
func (d *Denials) note(ctx context.Context, caller onemap.Caller, method, path string, status int) bool {
	caller.GridID = 0 // a caller is its name, role and address
	// An IPv6 client holds a /64: each of its addresses is the same caller.
	if a, err := netip.ParseAddr(caller.Client); err == nil {
		caller.Client = ratelimit.Key(a).String()
	}
	now := d.cfg.Now()
	d.mu.Lock()
	var due []*denialCount
	if !d.nextEnd.IsZero() && !now.Before(d.nextEnd) {
		due = d.takeDue(now, false)
	}
	c, ok := d.counts[caller]
	first := false
	switch {
	case !ok && len(d.counts) < d.cfg.MaxClients:
		d.counts[caller] = &denialCount{caller: caller, start: now}
		d.ends(now)
		first = true
	case !ok:
		if d.overflow == nil {
			d.overflow = &denialCount{caller: onemap.Caller{Role: caller.Role, Client: "(many)"}, start: now, clients: map[string]bool{}}
			d.ends(now)
		}
		if len(d.overflow.clients) < maxOverflowClients {
			d.overflow.clients[caller.Client] = true
		}
		d.overflow.add(now, method, path, status)
	default:
		c.add(now, method, path, status)
	}
	d.mu.Unlock()
	d.write(ctx, due)
	return first
}

func (c *denialCount) add(now time.Time, method, path string, status int) {
	if c.n == 0 {
		c.first, c.target = now, path
	}
	c.n++
	c.last = now
	if c.statuses == nil {
		c.statuses = map[int]int{}
	}
	c.statuses[status]++
	p := method + " " + path
	if len(c.paths) < denialPaths {
		for _, q := range c.paths {
			if q == p {
				return
			}
		}
		c.paths = append(c.paths, p)
	}
}

// ends notes a period that began at start, under d.mu.
func (d *Denials) ends(start time.Time) {
	if end := start.Add(d.cfg.Period); d.nextEnd.IsZero() || end.Before(d.nextEnd) {
		d.nextEnd = end
	}
}

// takeDue removes and returns the counts whose period has ended at now
// (all of them with all), under d.mu.
func (d *Denials) takeDue(now time.Time, all bool) []*denialCount {
	var due []*denialCount
	d.nextEnd = time.Time{}
	for k, c := range d.counts {
		if all || !now.Before(c.start.Add(d.cfg.Period)) {
			delete(d.counts, k)
			if c.n > 0 {
				due = append(due, c)
			}
			continue
		}
		d.ends(c.start)
	}
	if o := d.overflow; o != nil {
		if all || !now.Before(o.start.Add(d.cfg.Period)) {
			d.overflow = nil
			due = append(due, o)
		} else {
			d.ends(o.start)
		}
	}
	return due
}

// write records each count as one "denied" record of its caller.
func (d *Denials) write(ctx context.Context, due []*denialCount) {
	if len(due) == 0 || d.audit == nil {
		return
	}
	for _, c := range due {
		statuses := map[string]int{}
		for st, n := range c.statuses {
			statuses[strconv.Itoa(st)] = n
		}
		detail := map[string]any{"count": c.n, "first_at": c.first.UTC().Format(time.RFC3339Nano),
			"last_at": c.last.UTC().Format(time.RFC3339Nano), "paths": c.paths, "statuses": statuses,
			"period_s": int(d.cfg.Period.Seconds())}
		if c.clients != nil {
			detail["clients"] = len(c.clients)
		}
		d.audit(onemap.NewContext(ctx, c.caller), onemap.AuditDenied, c.target, detail)
	}
}

// Flush writes the counts of the periods that have ended.
func (d *Denials) Flush(ctx context.Context) {
	d.mu.Lock()
	due := d.takeDue(d.cfg.Now(), false)
	d.mu.Unlock()
	d.write(ctx, due)
}

// Close writes every count, ended or not: at shutdown, so that no refusal
// goes unrecorded.
func (d *Denials) Close(ctx context.Context) {
	d.mu.Lock()
	due := d.takeDue(d.cfg.Now(), true)
	d.mu.Unlock()
	d.write(ctx, due)
}

// Run writes the counts of ended periods at every tick until ctx ends,
// then all of them (Close).
func (d *Denials) Run(ctx context.Context) {
	ticks := d.cfg.Ticks
	if ticks == nil {
		t := time.NewTicker(d.cfg.Period)
		defer t.Stop()
		ticks = t.C
	}
	for {
		select {
		case <-ctx.Done():
			d.Close(context.WithoutCancel(ctx))
			return
		case <-ticks:
			d.Flush(ctx)
		}
	}
}
