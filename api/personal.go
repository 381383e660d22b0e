package api

import (
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
)

// PersonalReadConfig bounds how much personal data (a household's details)
// one account reads, and when its reading is flagged to the auditor. Each
// account has a bucket of Burst reads that refills at PerHour an hour; a
// read from an empty bucket is answered 429 with Retry-After. An account
// that reads FlagReads times within FlagWithin gets one "personal.burst"
// record in the audit trail; it can be flagged again once FlagWithin has
// passed since.
type PersonalReadConfig struct {
	PerHour    int           // reads an hour once the burst is spent; default 30, negative: no limit
	Burst      int           // reads at once; default 15
	FlagReads  int           // reads within FlagWithin that flag a burst; default 10, negative: never
	FlagWithin time.Duration // default 10 minutes
	// Now is the clock; nil is time.Now. Tests set a clock of their own.
	Now func() time.Time
}

func (c *PersonalReadConfig) defaults() {
	if c.PerHour == 0 {
		c.PerHour = 30
	}
	if c.Burst <= 0 {
		c.Burst = 15
	}
	if c.FlagReads == 0 {
		c.FlagReads = 10
	}
	if c.FlagWithin <= 0 {
		c.FlagWithin = 10 * time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// personalReadsKept bounds the accounts personalReads remembers; past it,
// those whose bucket is full and who read nothing lately are forgotten.
const personalReadsKept = 10000

// personalReads keeps, per account, the bucket of its reads of personal
// data and its recent reads. Safe for concurrent use.
type personalReads struct {
	cfg      PersonalReadConfig
	shared   personalLimits // the buckets in the database; nil: this server's own
	mu       sync.Mutex
	accounts map[string]*personalAccount
}

type personalAccount struct {
	// due is when the account's bucket is full again: each read moves it
	// on by one interval (an hour / PerHour), from now if it has passed. A
	// read is allowed while due is at most Burst-1 intervals ahead. Kept
	// as an instant rather than a count of tokens, so that the arithmetic
	// is exact.
	due        time.Time
	recent     []personalRead // within FlagWithin, since the last flag
	quietUntil time.Time      // no flag before this (one per burst)
}

type personalRead struct {
	at      time.Time
	id      int64
	purpose onemap.Purpose
}

// personalBurst is what a flag records: an account's reads within the window.
type personalBurst struct {
	reads []personalRead
}

func newPersonalReads(cfg PersonalReadConfig) *personalReads {
	cfg.defaults()
	return &personalReads{cfg: cfg, accounts: map[string]*personalAccount{}}
}

// account returns key's state.
func (p *personalReads) account(key string, now time.Time) *personalAccount {
	a := p.accounts[key]
	if a == nil {
		if len(p.accounts) >= personalReadsKept {
			p.forget(now)
		}
		a = &personalAccount{due: now}
		p.accounts[key] = a
	}
	return a
}

// forget drops the accounts that are as good as new: a full bucket and no
// recent reads.
func (p *personalReads) forget(now time.Time) {
	for k, a := range p.accounts {
		if !a.due.After(now) && (len(a.recent) == 0 || now.Sub(a.recent[len(a.recent)-1].at) >= p.cfg.FlagWithin) {
			delete(p.accounts, k)
		}
	}
}

// allow takes one read from key's bucket, or says how long until there is one.
func (p *personalReads) allow(key string) (ok bool, retryAfter time.Duration) {
	if p.cfg.PerHour < 0 {
		return true, 0
	}
	every := time.Hour / time.Duration(p.cfg.PerHour)
	ahead := time.Duration(p.cfg.Burst-1) * every // how far due may be ahead
	if p.shared != nil {                          // the deployment's bucket (personalshared.go)
		if allowed, wait, ok := p.takeShared(key, p.cfg.Now(), every, ahead); ok {
			return allowed, wait
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.cfg.Now()
	a := p.account(key, now)
	if a.due.Before(now) {
		a.due = now
	}
	if wait := a.due.Sub(now) - ahead; wait > 0 {
		return false, wait
	}
	a.due = a.due.Add(every)
	return true, 0
}

// done counts a read that was made; it returns the reads of a burst when
// this read makes one (FlagReads within FlagWithin), once per burst.
func (p *personalReads) done(key string, id int64, purpose onemap.Purpose) *personalBurst {
	if p.cfg.FlagReads < 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.cfg.Now()
	a := p.account(key, now)
	if now.Before(a.quietUntil) {
		return nil
	}
	a.recent = slices.DeleteFunc(a.recent, func(r personalRead) bool { return now.Sub(r.at) >= p.cfg.FlagWithin })
	a.recent = append(a.recent, personalRead{at: now, id: id, purpose: purpose})
	if len(a.recent) < p.cfg.FlagReads {
		return nil
	}
	b := &personalBurst{reads: a.recent}
	a.recent, a.quietUntil = nil, now.Add(p.cfg.FlagWithin)
	return b
}

// detail is the burst's audit record detail: how many reads, between
// which times, of which households, for which purposes.
func (b *personalBurst) detail(within time.Duration) map[string]any {
	ids := make([]int64, 0, len(b.reads))
	purposes := map[onemap.Purpose]int{}
	for _, r := range b.reads {
		ids = append(ids, r.id)
		purposes[r.purpose]++
	}
	return map[string]any{"reads": len(b.reads), "within_s": int(within.Seconds()),
		"first": b.reads[0].at.UTC(), "last": b.reads[len(b.reads)-1].at.UTC(),
		"households": ids, "purposes": purposes}
}

// personalKey is the key the caller's reads count under: the account, or
// for an anonymous caller of a demo that lets anyone read, the client.
func personalKey(c onemap.Caller) string {
	if c.Name == "" {
		return "client " + c.Client
	}
	return "account " + c.Name
}

// handlePurposes answers GET /api/purposes for every signed-in role: the
// purposes a read of personal data may give, and the per-account limit of
// such reads.
func (s *Server) handlePurposes(c *gin.Context) {
	if roleOf(c) == onemap.RolePublic {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAUTHORIZED, "sign in first"))
		return
	}
	cfg := s.personal.cfg
	type purposeJSON struct {
		Code    onemap.Purpose `json:"code"`
		Title   string         `json:"title"`
		TitleEN string         `json:"title_en"`
	}
	var purposes []purposeJSON
	for _, p := range onemap.Purposes() {
		purposes = append(purposes, purposeJSON(p))
	}
	c.JSON(http.StatusOK, gin.H{"purposes": purposes,
		"limit": gin.H{"per_hour": cfg.PerHour, "burst": cfg.Burst, "flag_reads": cfg.FlagReads, "flag_within_s": int(cfg.FlagWithin.Seconds())}})
}
