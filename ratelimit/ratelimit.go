// Package ratelimit limits how often each client may ask: a token bucket
// per client address in a sharded map of bounded size, and ClientAddr, which
// finds a request's client behind trusted reverse proxies without letting
// the client choose its own address.
package ratelimit

import (
	"math"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Limiter is a token bucket per key: each key may take Burst requests at
// once and Rate per second after. It keeps at most MaxKeys buckets; when a
// shard is full, buckets that have filled up again (as good as new) are
// dropped first, then any. Safe for concurrent use.
type Limiter struct {
	rate     float64 // tokens per second
	burst    float64
	perShard int
	now      func() time.Time
	shards   [64]shard
}

type shard struct {
	mu sync.Mutex
	m  map[netip.Addr]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// New returns a limiter of rate requests per second and bursts of burst,
// holding at most maxKeys clients (at least 64). A rate ≤ 0 returns nil,
// which allows everything.
func New(rate float64, burst, maxKeys int) *Limiter {
	if rate <= 0 || math.IsNaN(rate) {
		return nil
	}
	l := &Limiter{rate: rate, burst: float64(max(burst, 1)), perShard: max(maxKeys/64, 1), now: time.Now}
	for i := range l.shards {
		l.shards[i].m = make(map[netip.Addr]*bucket)
	}
	return l
}

// WithClock makes l read the time from now instead of time.Now (tests move
// it by hand; nil keeps the system clock) and returns l. Call it before l
// is used. A nil l stays nil.
func (l *Limiter) WithClock(now func() time.Time) *Limiter {
	if l != nil && now != nil {
		l.now = now
	}
	return l
}

// Key returns the key a client address counts under: an IPv4 address as it
// is, an IPv6 address by its /64 (one subscriber's network), so that a
// client cannot take a fresh bucket per address of its own network.
func Key(a netip.Addr) netip.Addr {
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// Allow takes a token of the client's bucket. When there is none it
// returns false and how long until there is.
func (l *Limiter) Allow(client netip.Addr) (ok bool, retryAfter time.Duration) {
	return l.take(client, 1)
}

// Blocked reports, without taking a token, whether the client's bucket is
// empty, and how long until it is not: for limits that count only some
// requests (failed sign-ins), asked before the request and taken after.
func (l *Limiter) Blocked(client netip.Addr) (blocked bool, retryAfter time.Duration) {
	ok, wait := l.take(client, 0)
	return !ok, wait
}

// take takes n (0 or 1) tokens of the client's bucket, if it holds one.
func (l *Limiter) take(client netip.Addr, n float64) (ok bool, retryAfter time.Duration) {
	if l == nil {
		return true, 0
	}
	key := Key(client)
	now := l.now()
	sh := &l.shards[shardOf(key)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.m[key]
	if b == nil {
		if len(sh.m) >= l.perShard {
			l.evict(sh, now)
		}
		b = &bucket{tokens: l.burst, last: now}
		sh.m[key] = b
	} else if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = math.Min(l.burst, b.tokens+dt*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens -= n
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

// evict makes room in a full shard: first every bucket that has filled up
// again (forgetting it changes nothing), and if none has, one at random.
func (l *Limiter) evict(sh *shard, now time.Time) {
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for k, b := range sh.m {
		if now.Sub(b.last) >= full {
			delete(sh.m, k)
		}
	}
	if len(sh.m) < l.perShard {
		return
	}
	for k := range sh.m {
		delete(sh.m, k)
		return
	}
}

// Len returns how many clients the limiter remembers.
func (l *Limiter) Len() int {
	if l == nil {
		return 0
	}
	n := 0
	for i := range l.shards {
		l.shards[i].mu.Lock()
		n += len(l.shards[i].m)
		l.shards[i].mu.Unlock()
	}
	return n
}

func shardOf(a netip.Addr) int {
	b := a.As16()
	var h uint32 = 2166136261
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	return int(h % 64)
}

// ParsePrefixes parses a comma list of CIDR prefixes or addresses (an
// address is its own /32 or /128), as the trusted-proxy setting is written.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if strings.Contains(part, "/") {
			p, err := netip.ParsePrefix(part)
			if err != nil {
				return nil, err
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, err
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func trusted(a netip.Addr, proxies []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientAddr returns the address of the client that made a request, from
// the direct peer (remoteAddr, "host:port" as net/http gives it) and the
// X-Forwarded-For and X-Real-IP headers. The headers count only when the
// peer is a trusted proxy: then the X-Forwarded-For list (all its headers,
// in order) is read from the right, skipping trusted proxies, and the first
// address that is not one is the client, since everything to its left was
// written by the client itself and may be forged. Without X-Forwarded-For,
// a trusted peer's X-Real-IP is taken. ok is false if remoteAddr is not an
// address.
func ClientAddr(remoteAddr string, forwardedFor []string, realIP string, proxies []netip.Prefix) (a netip.Addr, ok bool) {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		a, err = netip.ParseAddr(remoteAddr)
		if err != nil {
			return netip.Addr{}, false
		}
	} else {
		a = ap.Addr()
	}
	a = a.Unmap().WithZone("")
	if len(proxies) == 0 || !trusted(a, proxies) {
		return a, true
	}
	hops := 0
	for i := len(forwardedFor) - 1; i >= 0; i-- {
		parts := strings.Split(forwardedFor[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			s := strings.TrimSpace(parts[j])
			if s == "" {
				continue
			}
			hops++
			h, err := netip.ParseAddr(s)
			if err != nil {
				// A trusted proxy wrote something that is no address:
				// nothing to the left of it can be believed.
				return a, true
			}
			h = h.Unmap().WithZone("")
			if !trusted(h, proxies) {
				return h, true
			}
			a = h
		}
	}
	if hops == 0 {
		if h, err := netip.ParseAddr(strings.TrimSpace(realIP)); err == nil {
			return h.Unmap().WithZone(""), true
		}
	}
	return a, true
}
