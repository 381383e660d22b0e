package api

import (
	"context"
	"math"
	"math/bits"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/negotiate"
	"github.com/onemapgis/onemap/ratelimit"
)

// publicIndex is what the public page's API reads: the public index, built
// only from the database's public views (package public). Nothing else of
// the server reaches these handlers; they do not look at the caller's role.
type publicIndex interface {
	AppendNearestJSON(dst []byte, q onemap.PublicQuery) ([]byte, error)
	AppendSheltersJSON(dst []byte, q onemap.PublicQuery) ([]byte, error)
	KindsJSON() ([]byte, string, error)
	PlacesJSON() ([]byte, string, error)
}

// Limits and defaults of the public API.
const (
	publicDefaultLimit = 10
	publicMaxClients   = 1 << 16 // clients the rate limiter remembers
	publicCacheControl = "public, max-age=60"
	placesCacheControl = "public, max-age=300"
	publicQueueWait    = 2 * time.Second // the longest a public lookup waits for a slot
)

// addPublicRoutes lists the public page's API: anonymous, limited per
// client, answered from memory.
func (s *Server) addPublicRoutes(r *gin.Engine) {
	limiter := ratelimit.New(s.cfg.PublicRatePerSecond, s.cfg.PublicBurst, publicMaxClients)
	g := r.Group("/api/public", s.publicLimit(limiter), s.publicSlots(runtime.GOMAXPROCS(0), s.cfg.PublicMaxRate, time.Now, nil))
	g.GET("/stations", answersInWGS84, s.handlePublicStations())
	g.GET("/shelters", answersInWGS84, s.handlePublicShelters)
	g.GET("/places", s.handlePublicJSON(func(ix publicIndex) ([]byte, string, error) { return ix.PlacesJSON() }, placesCacheControl))
	g.GET("/kinds", s.handlePublicJSON(func(ix publicIndex) ([]byte, string, error) { return ix.KindsJSON() }, placesCacheControl))
	g.GET("/locate", answersInWGS84, s.handlePublicLocate)
}

// publicGrid is what /api/public/locate tells of a grid: what the view
// public_places holds of it too.
type publicGrid struct {
	Level any `json:"level"`
	Code  any `json:"code"`
	Name  any `json:"name"`
}

// handlePublicLocate answers /api/public/locate?lon=&lat=: the county's
// name, whether the point lies in it, and the township and village that hold
// it — what the public page says of where somebody is. Unlike the other
// public routes it reads the replica (the public index has no outlines), of
// the grids the public role may see, and tells only their level, code and
// name.
func (s *Server) handlePublicLocate(c *gin.Context) {
	p, err := pointQuery(c.Request.URL.Query())
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	snap := s.replica.Snapshot()           // public data, the same for everyone
	county := countyAt(snap, s.catalog, p) // of many counties, the one that holds the point (regions.go)
	if r := s.lastRegion.Load(); county == "" && r != nil {
		county = r.Name
	} else if county == "" {
		if r, err := s.region(c.Request.Context()); err == nil {
			county = r.Name
		}
	}
	grids := []publicGrid{}
	if v := s.roleView(onemap.RolePublic); v.CanRead(onemap.LayerGrids) {
		for _, g := range s.gridsAt(snap, v, p) {
			grids = append(grids, publicGrid{Level: g.Level, Code: g.Code, Name: g.Name})
		}
	}
	// Inside is the county's outline, not its townships': a gap between
	// them (the editor's coverage check finds such) is still the county.
	l, _ := s.catalog.Layer(onemap.LayerGrids)
	inside := len(grids) > 0 || len(snap.Containing(l.ID, p, levelKeep(&l, []string{"county"}))) > 0
	c.Header("Cache-Control", publicCacheControl)
	c.JSON(http.StatusOK, gin.H{"point": p, "county": county, "inside": inside, "grids": grids})
}

// publicLimit refuses a client that asks more often than the limiter allows
// with 429 and Retry-After. The client is the direct peer unless that is a
// trusted proxy (withClient), so a forged X-Forwarded-For buys nothing.
func (s *Server) publicLimit(l *ratelimit.Limiter) gin.HandlerFunc {
	return func(c *gin.Context) {
		if l == nil {
			c.Next()
			return
		}
		if addr := clientAddr(c); addr.IsValid() {
			if allowed, wait := l.Allow(addr); !allowed {
				secs := max(1, int(math.Ceil(wait.Seconds())))
				c.Header("Retry-After", strconv.Itoa(secs))
				writeError(c, s.log, onemap.Errorf(onemap.ETOOMANY,
					"too many requests from %s: at most %g a second (bursts of %d); try again in %d s",
					addr, s.cfg.PublicRatePerSecond, max(1, s.cfg.PublicBurst), secs))
				return
			}
		}
		c.Next()
	}
}

// publicSlots admits public requests at most maxRate a second in all (0:
// unbounded) and lets at most n work at once; the others wait their turn, for
// at most publicQueueWait, then get 503 with Retry-After. So a surge of
// public lookups queues instead of taking the CPUs from the command centre's
// requests, which do not pass here. The schedule reads the time from now
// and waits for a request's turn with sleep (nil: a timer), which reports
// false when the request's context ends first; tests give both a clock
// that moves only when they move it.
func (s *Server) publicSlots(n int, maxRate float64, now func() time.Time, sleep func(ctx context.Context, d time.Duration) bool) gin.HandlerFunc {
	slots := make(chan struct{}, max(1, n))
	var (
		mu     sync.Mutex
		next   time.Time // when the next request may start
		timers timerPool // of the lookups that wait
	)
	var every time.Duration
	if maxRate > 0 {
		every = time.Duration(float64(time.Second) / maxRate)
	}
	if sleep == nil {
		sleep = func(ctx context.Context, d time.Duration) bool {
			t := timers.get(d)
			defer timers.put(t)
			select {
			case <-t.C:
				return true
			case <-ctx.Done():
				return false
			}
		}
	}
	busy := func(c *gin.Context) {
		writeError(c, s.log, onemap.Errorf(onemap.EUNAVAILABLE, "too many public lookups at once; try again in a moment"))
	}
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		if every > 0 {
			start := now()
			// The request's turn on an evenly spaced schedule.
			mu.Lock()
			turn := next
			if turn.Before(start) {
				turn = start
			}
			if turn.Sub(start) > publicQueueWait {
				mu.Unlock()
				busy(c)
				return
			}
			next = turn.Add(every)
			mu.Unlock()
			if wait := turn.Sub(start); wait > 0 && !sleep(ctx, wait) {
				c.Abort()
				return
			}
		}
		switch takeSlot(ctx, slots, publicQueueWait, &timers) {
		case slotBusy:
			busy(c)
			return
		case slotGone:
			c.Abort()
			return
		}
		defer func() { <-slots }()
		c.Next()
	}
}

// What takeSlot says.
const (
	slotTaken = iota
	slotBusy  // none came free in time
	slotGone  // the request's context ended first
)

// takeSlot takes a place in slots, waiting for at most wait (on a timer
// of timers). A
// slot is held for the few tens of microseconds of a lookup, so when all
// are taken, one usually comes free as soon as the lookups holding them
// run on: a request first yields its processor once and tries again, and
// only then waits with a timer and the request's context. The yield jumps
// no queue: while requests wait blocked, a freed slot passes straight to
// the first of them, and the channel stays full.
func takeSlot(ctx context.Context, slots chan struct{}, wait time.Duration, timers *timerPool) int {
	select {
	case slots <- struct{}{}:
		return slotTaken
	default:
	}
	runtime.Gosched()
	select {
	case slots <- struct{}{}:
		return slotTaken
	default:
	}
	t := timers.get(wait)
	defer timers.put(t)
	select {
	case slots <- struct{}{}:
		return slotTaken
	case <-t.C:
		return slotBusy
	case <-ctx.Done():
		return slotGone
	}
}

// timerPool keeps the stopped timers of public lookups that waited: a
// waiting lookup takes one and gives it back, where each made its own (a
// timer and its channel, two allocations) and left it to the collector.
type timerPool struct{ p sync.Pool }

// get returns a timer that fires after d.
func (tp *timerPool) get(d time.Duration) *time.Timer {
	if t, ok := tp.p.Get().(*time.Timer); ok {
		t.Reset(d)
		return t
	}
	return time.NewTimer(d)
}

// put stops t and keeps it for another wait. Since Go 1.23 (this
// module's go line is later) a stopped timer's channel holds nothing: a
// Reset timer never delivers the time of its previous run.
func (tp *timerPool) put(t *time.Timer) {
	t.Stop()
	tp.p.Put(t)
}

// handlePublicStations answers /api/public/stations?lon=&lat=&kind=&limit=&radius=:
// the stations nearest a point (WGS-84), nearest first, each with its
// distance in metres (geodesic, from the point rounded to about 10 m),
// address, phone, opening hours, whether it is open now (China time; null
// when the hours cannot be read) and services. kind is a comma list of kind
// codes (see /api/public/kinds); limit 1–50 (default 10); radius in metres.
func (s *Server) handlePublicStations() gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.public == nil {
			writeError(c, s.log, onemap.Errorf(onemap.EUNAVAILABLE, "the public index is not loaded"))
			return
		}
		pq, ok := publicQueryRaw(c.Request.URL.RawQuery, true)
		if !ok {
			var err error
			if pq, err = publicStationsQuery(c.Request.URL.Query()); err != nil {
				writeError(c, s.log, err)
				return
			}
		}
		buf := s.buffers.get()
		defer s.buffers.put(buf)
		b, err := s.public.AppendNearestJSON(buf.b[:0], pq)
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		buf.b = b
		// The headers go into the map as they are (writeJSONBytes), with
		// the Content-Length: without it the gzip wrapper would hold the
		// answer in a buffer of its own until the handler returns, and
		// net/http would send it chunked.
		h := c.Writer.Header()
		h["Cache-Control"] = publicCacheControlValue
		h["Vary"] = varyAcceptEncoding
		// Gzipped here at the fastest level (the server's JSON wrapper
		// passes an answer that is encoded already): a surge of lookups
		// costs half the CPU it would at the default level. An answer
		// under gzipMinSize goes as it is, as the wrapper leaves it.
		if len(b) >= gzipMinSize && negotiate.Gzip(c.Request.Header.Get("Accept-Encoding")) {
			h["Content-Encoding"] = gzipEncoding
			s.sendJSON(c, buf.gzip(b))
			return
		}
		s.sendJSON(c, b)
	}
}

// publicStationsQuery reads the query of /api/public/stations.
func publicStationsQuery(q url.Values) (onemap.PublicQuery, error) {
	return publicURLQuery(q, "kind", "limit", "radius")
}

// publicURLQuery reads a public lookup's query through url.Values: the
// point, limit, radius and, where known names it, kind.
func publicURLQuery(q url.Values, known ...string) (onemap.PublicQuery, error) {
	p, err := pointQuery(q, known...)
	if err != nil {
		return onemap.PublicQuery{}, err
	}
	limit, err := parseInt("limit", q.Get("limit"), publicDefaultLimit, 1, onemap.PublicMaxLimit)
	if err != nil {
		return onemap.PublicQuery{}, err
	}
	radius, err := parseRadius(q.Get("radius"), 0)
	if err != nil {
		return onemap.PublicQuery{}, err
	}
	var kinds []string
	if v, ok := q["kind"]; ok { // only where known names it: pointQuery refuses it elsewhere
		kinds = splitList(strings.Join(v, ","))
	}
	return onemap.PublicQuery{Point: p, Kinds: kinds, Limit: int(limit), Radius: radius}, nil
}

// publicQueryRaw reads the query of /api/public/stations (withKind) or
// /api/public/shelters straight from the raw query string, without the map
// of url.Values and its strings, when the query is a plain one: each of
// lon, lat (both given), limit, radius and kind (of the stations) at most
// once, nothing escaped (no %, no +), no crs, and every value good. It
// reports false for any other query, which publicStationsQuery or
// publicSheltersQuery then reads (and refuses as it always has): what it
// accepts, it reads as they do.
func publicQueryRaw(raw string, withKind bool) (onemap.PublicQuery, bool) {
	var q onemap.PublicQuery
	var vals [len(publicQueryNames)]string
	names := publicQueryNames[:]
	if !withKind {
		names = names[:len(names)-1]
	}
	seen, ok := readQuery(raw, names, vals[:])
	// readQuery skips an empty pair and reads a name without '=' as
	// given empty; this reading leaves both to url.Values: every pair
	// holds a name, one '=' and a plain value.
	n := bits.OnesCount64(seen)
	if !ok || seen&3 != 3 || strings.Count(raw, "&") != n-1 || strings.Count(raw, "=") != n {
		return q, false
	}
	for _, v := range vals {
		if !plainQueryValue(v) {
			return q, false
		}
	}
	lon, lat, limit, radius, kind := vals[0], vals[1], vals[2], vals[3], vals[4]
	for i, v := range [2]string{lon, lat} {
		f, err := strconv.ParseFloat(v, 64)
		if lim := [2]float64{180, 90}[i]; err != nil || !(f >= -lim && f <= lim) { // NaN too
			return q, false
		}
		q.Point[i] = f
	}
	q.Limit = publicDefaultLimit
	if limit != "" {
		n, err := strconv.ParseInt(limit, 10, 64)
		if err != nil || n < 1 || n > onemap.PublicMaxLimit {
			return q, false
		}
		q.Limit = int(n)
	}
	if radius != "" {
		f, err := strconv.ParseFloat(radius, 64)
		if err != nil || !(f > 0 && f <= maxRadius) {
			return q, false
		}
		q.Radius = f
	}
	if seen&16 != 0 {
		q.Kinds = splitList(kind)
	}
	return q, true
}

// publicQueryNames are the parameters publicQueryRaw reads, kind (of the
// stations only) last.
var publicQueryNames = [...]string{"lon", "lat", "limit", "radius", "kind"}

// plainQueryValue says whether a query value means itself, unescaped:
// letters, digits and . , - _ only.
func plainQueryValue(v string) bool {
	for i := 0; i < len(v); i++ {
		switch b := v[i]; {
		case b >= '0' && b <= '9', b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b == '.', b == ',', b == '-', b == '_':
		default:
			return false
		}
	}
	return true
}

// publicCacheControlValue is publicCacheControl as a header's value,
// shared by every answer (its capacity is its length: see tiles.go).
var publicCacheControlValue = []string{publicCacheControl}[:1:1]

// handlePublicJSON answers with a document of the public index that does
// not depend on the request (the places, the kinds), with its ETag.
func (s *Server) handlePublicJSON(doc func(publicIndex) ([]byte, string, error), cacheControl string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.public == nil {
			writeError(c, s.log, onemap.Errorf(onemap.EUNAVAILABLE, "the public index is not loaded"))
			return
		}
		for k := range c.Request.URL.Query() {
			writeError(c, s.log, onemap.Errorf(onemap.EINVALID, "unknown query parameter %q (this route takes none)", k))
			return
		}
		b, etag, err := doc(s.public)
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		c.Header("Cache-Control", cacheControl)
		c.Header("ETag", etag)
		if inm := c.GetHeader("If-None-Match"); inm != "" && strings.Contains(inm, etag) {
			c.Status(http.StatusNotModified)
			return
		}
		c.Data(http.StatusOK, "application/json; charset=utf-8", b)
	}
}
