// Package api is OneMap's HTTP transport: the routes, the caller's session
// and role, request parsing, limits, metrics, and the one place where
// errors become HTTP statuses (writeError). It holds no SQL. Its small
// unexported interfaces list only what its handlers call, and cmd/onemap
// wires real implementations to them (Deps).
//
// Its interfaces name the root package's types, with two exceptions: the
// replica's snapshot (inmem.Snapshot, a large concrete type the handlers and
// the tile service share) and a checkpoint's report (checkpoint.Report). The
// access policy reaches the handlers as one onemap.View per request, built
// where the caller is known (withCaller). Two rules of the domain still live
// here: how much personal data an account may read and when that is flagged
// (personal.go), and how refusals are counted into the audit trail
// (denials.go). A new rule goes to the root package, not here.
//
// The name "api" is kept on purpose (it is the package the project's layout
// asks for); read it as "HTTP/JSON and tile transport".
package api

import (
	"compress/gzip"
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/klauspost/compress/gzhttp"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/tiles"
	"github.com/paulmach/orb/maptile"
	"github.com/prometheus/client_golang/prometheus"
)

// store is what the handlers read from the database.
type store interface {
	Ping(ctx context.Context) error
	FindRegion(ctx context.Context) (onemap.Region, error)
	FindFeatureByID(ctx context.Context, layerID string, id int64) (*onemap.Feature, error)
	FindFeatures(ctx context.Context, layerID string, f onemap.FeatureFilter) ([]*onemap.Feature, error)
	Tile(ctx context.Context, t maptile.Tile, layers []onemap.TileLayer) ([]byte, error)
}

// replica is where tiles are rendered from: the live in-memory replica.
type replica interface {
	Snapshot() *inmem.Snapshot
	Subset(s *inmem.Snapshot, keep func(layer string, rec *onemap.Record) bool) *inmem.Snapshot
}

// Deps are the parts the handlers use.
type Deps struct {
	Log     *slog.Logger
	Store   store
	Replica replica
	Catalog *onemap.Catalog
	Policy  *onemap.Policy
	Static  http.Handler // the web client
	// Accounts signs callers in and keeps the audit trail (nil: no sign-in;
	// every caller is the anonymous role).
	Accounts accounts
	// Public is the public index behind /api/public/… (nil: those routes
	// answer 503).
	Public publicIndex
	// Metrics is the registry the server fills with its metrics, for
	// MetricsHandler to serve on an address of its own (the server's
	// router has no /metrics); nil makes one no one reads.
	Metrics *prometheus.Registry
	// AuditAnchor verifies the audit trail against its signed checkpoints
	// (nil: not configured; verify says the trail is not anchored).
	AuditAnchor auditAnchor
	// Denials counts refusals into the audit trail (nil: the server makes
	// its own, with the defaults); the caller runs and closes it.
	Denials *Denials
	// Grids is the grid editor's store behind /api/grids (nil: those routes
	// answer 503).
	Grids gridStore
	// Feed tells the change feed's latest position, for the replica's lag
	// in /metrics (nil: the database's position and lag are not reported).
	Feed feedPosition
	// Pool reports the database's connection pool in /metrics (nil: not
	// reported).
	Pool poolStater
	// Cases keeps the cases and times their steps (nil: the case routes,
	// /api/cases and /api/public/reports, answer 503).
	Cases caseStore
	// Visits keeps the grid workers' visits (nil: /api/visits answers
	// 503).
	Visits visitStore
	// Idempotency keeps the keys and first answers of writes sent with an
	// Idempotency-Key (nil: such writes answer 503).
	Idempotency idempotencyStore
	// Ingest checks the signed requests of live sources and applies their
	// events; Alarms keeps the alarms they raise (nil: /api/ingest/… and
	// /api/alarms answer 503).
	Ingest ingestStore
	Alarms alarmStore
	// Disputes keeps the disputes' mediation records (nil: the dispute
	// routes answer 503).
	Disputes disputeStore
	// Streams finds a camera's link to the video platform (nil: POST
	// /api/cameras/{id}/live answers 503).
	Streams cameraStreams
	// Assess keeps the risk assessments and says what day it is (nil:
	// the assessment routes answer 503).
	Assess assessStore
	// Tags keeps the e-bike tags, their positions and geofences (nil: the
	// tag routes answer 503 and tag events are refused).
	Tags tagStore
	// Edits writes the edits of risk points, households, cameras and
	// stations, and reads their history (nil: those routes answer 503).
	Edits featureEditStore
	// People is the roster and the emergency picture's reads of personal
	// details (nil: /api/people and /api/affected answer 503).
	People peopleStore
	// Base is an offline base map served at /basemap/… under the data (an
	// MBTiles or PMTiles archive, or the demo county's drawn base; nil:
	// none, or the online Config.Basemap).
	Base baseTiles
	// Standby is the PostgreSQL hot standby the replica reads from, when
	// it is not the primary (standby.go; nil: the replica reads from Store).
	Standby standby
	// FeedChanges reads the change feed, for an event stream that resumes
	// from before what this server has seen (eventresume.go; nil: such a
	// stream is told to reload).
	FeedChanges changeReader
	// PersonalLimits keeps each account's reads of personal data in the
	// database, for every server alike (personalshared.go; nil: each server
	// counts its own).
	PersonalLimits personalLimits
}

// Renderers of vector tiles.
const (
	RenderReplica = tiles.RenderReplica // the Go encoder over the in-memory replica (default)
	RenderPostGIS = tiles.RenderPostGIS // ST_AsMVT in the database: the reference
)

// Config holds what the transport needs to know.
type Config struct {
	// AnonymousRole is the role of a caller who has not signed in. It is
	// "public" unless the operator runs a demo.
	AnonymousRole onemap.Role
	// TileCacheControl is the Cache-Control header of tiles.
	TileCacheControl string
	// RequestTimeout bounds the work of one request.
	RequestTimeout time.Duration
	// TileRenderer is RenderReplica or RenderPostGIS.
	TileRenderer string
	// TileCacheBytes bounds the memory of encoded tiles; 0 caches none.
	TileCacheBytes int64
	// KeptFeatureBytes bounds the memory of the point features the query
	// answers keep written (featurejson.go); 0 means
	// DefaultKeptFeatureBytes, less than 0 keeps none.
	KeptFeatureBytes int64
	// PublicURL is the server's address as clients reach it, for the
	// absolute URLs of TileJSON and styles; empty takes the request's.
	PublicURL string
	// Session configures sign-in and sessions.
	Session SessionConfig
	// Basemap is an online raster basemap fetched through the server; none
	// by default.
	Basemap BasemapConfig
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Real-IP name the client; the headers of any other peer are ignored.
	TrustedProxies []netip.Prefix
	// PublicRatePerSecond and PublicBurst limit each client of the public
	// API (/api/public/…); a rate of 0 does not limit.
	PublicRatePerSecond float64
	PublicBurst         int
	// PublicMaxRate bounds the public lookups the server admits per second
	// from all clients together (more wait their turn, then get 503), so
	// that a surge leaves the CPUs to the command centre; 0 does not bound.
	PublicMaxRate float64
	// MaxBodyBytes bounds a request's body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// PersonalReads limits each account's reads of personal data.
	PersonalReads PersonalReadConfig
	// Video says where the video platform is (snapshots, live video).
	Video VideoConfig
	// MaxLag is how far a replica following a standby may be behind the
	// primary before /readyz fails (Deps.Standby; 0: no bound).
	MaxLag time.Duration
}

// Server carries the dependencies of the handlers.
type Server struct {
	log     *slog.Logger
	store   store
	replica replica
	catalog *onemap.Catalog
	policy  *onemap.Policy
	static  http.Handler
	tiles   *tiles.Service
	cfg     Config
	// accounts and sessions sign callers in (session.go).
	accounts    accounts
	sessions    *sessions
	scopes      scopes      // viewers' parts of the county (scope.go)
	projections projections // how each role sees each layer's records (featurejson.go)
	buffers     buffers     // of answers written directly (featurejson.go)
	// lengths keeps their Content-Length values (contentlength.go).
	lengths lengthValues
	// aroundKept keeps the bytes of the hazard zones and grids that around
	// answers list (aroundprepared.go); point features keep theirs in their
	// projections (featurejson.go).
	aroundKept  preparedFeatures
	around      aroundShared                  // around answers' catalog and scratches (aroundhandler.go)
	basemap     *basemap                      // the online basemap, if configured (basemap.go)
	lastRegion  atomic.Pointer[onemap.Region] // as last read, for while the database is away
	public      publicIndex                   // the public page's index
	metrics     *metrics                      // what /metrics reports
	events      *eventHub                     // live changes to the open event streams (/api/events)
	personal    *personalReads                // each account's reads of personal data (personal.go)
	anchor      auditAnchor                   // the audit trail's checkpoints (audit.go)
	denials     *Denials                      // refusals counted per caller and period (denials.go)
	gridStore   gridStore                     // the grid editor's store (grids.go); nil: off
	feed        feedPosition                  // the change feed's position (metrics.go); nil: not reported
	pool        poolStater                    // the connection pool (metrics.go); nil: not reported
	cases       caseStore                     // cases from report to closure (cases.go)
	visits      visitStore                    // grid workers' visits (visits.go)
	assess      assessStore                   // risk assessments (assess.go)
	idem        idempotencyStore              // exactly-once writes (idempotency.go)
	ingest      ingestStore                   // live sources' events (ingest.go)
	alarms      alarmStore                    // the alarms they raise (alarms.go)
	disputes    disputeStore                  // disputes' mediation records (disputes.go)
	streams     cameraStreams                 // cameras' links to the video platform (video.go)
	edits       featureEditStore              // feature edits (featureedit.go)
	base        baseTiles                     // the offline base map, if any (basemapfile.go)
	tags        *tagService                   // e-bike tags and their live index (tags.go); nil: off
	people      peopleStore                   // the roster (people.go, affected.go)
	standby     standby                       // the standby the replica reads from (standby.go); nil: none
	feedChanges changeReader                  // the change feed, for streams that resume (eventresume.go)
}

// NewServer returns the HTTP handler of OneMap. It invalidates its tile cache
// through the function it returns beside, which the follower of the change
// feed calls with every batch of changes it applies.
func NewServer(d Deps, cfg Config) (http.Handler, func([]onemap.Change)) {
	if cfg.AnonymousRole == "" {
		cfg.AnonymousRole = onemap.RolePublic
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.TileRenderer == "" {
		cfg.TileRenderer = RenderReplica
	}
	s := &Server{log: d.Log, store: d.Store, replica: d.Replica, catalog: d.Catalog, policy: d.Policy,
		static: d.Static, cfg: cfg}
	s.tiles = tiles.NewService(tiles.ServiceConfig{Catalog: d.Catalog, Policy: d.Policy,
		Renderer: cfg.TileRenderer, DB: d.Store, CacheBytes: cfg.TileCacheBytes,
		View: func(caller onemap.Caller) tiles.Source { return s.snapshotOf(s.viewFor(caller).Grid()) }})
	s.public = d.Public
	s.cfg.Session.defaults()
	s.accounts, s.sessions = d.Accounts, newSessions(s.cfg.Session)
	s.basemap = newBasemap(cfg.Basemap)
	s.personal = newPersonalReads(cfg.PersonalReads)
	s.personal.shared = d.PersonalLimits
	s.anchor, s.denials = d.AuditAnchor, d.Denials
	s.gridStore, s.feed, s.pool = d.Grids, d.Feed, d.Pool
	s.cases = d.Cases
	s.visits, s.idem = d.Visits, d.Idempotency
	s.assess = d.Assess
	s.ingest, s.alarms = d.Ingest, d.Alarms
	s.disputes = d.Disputes
	s.streams = d.Streams
	s.edits = d.Edits
	s.base = d.Base
	s.people = d.People
	s.standby, s.feedChanges = d.Standby, d.FeedChanges
	if s.denials == nil {
		s.denials = NewDenials(DenialsConfig{})
	}
	s.denials.bind(s.auditLog)
	// The region is read once now, so that pages load while the database
	// is away even if no one asked for it before.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_, _ = s.region(ctx)
	cancel()
	s.events = newEventHub(d.Replica.Snapshot().Seq())
	s.metrics = newMetrics(s, d.Metrics)
	s.initTags(d.Tags)
	r := gin.New()
	// The client's address is withClient's (clientOf), never gin's
	// ClientIP; should anything call that, it gets the direct peer, not a
	// header (gin would believe anyone's X-Forwarded-For by default).
	if err := r.SetTrustedProxies(nil); err != nil {
		panic(err) // never: there is no prefix to read
	}
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	r.Use(withClient(cfg.TrustedProxies), securityHeaders(), s.observe(), s.limitBody()) // first: they see every request
	r.Use(s.recoverer(), s.requestLogger(), s.withCaller(), s.withTimeout())
	s.addRoutes(r)
	// JSON answers are gzipped for clients that accept it; tiles and the
	// web client's files come compressed already.
	// Answers under 8 KiB go as they are: they fit in TCP's first window
	// (ten segments) either way, so compressing them saves no round trip,
	// only CPU. Larger ones are compressed at the fastest level: a level
	// above costs more CPU than the bytes it saves are worth on a LAN.
	gz, err := gzhttp.NewWrapper(gzhttp.MinSize(gzipMinSize), gzhttp.CompressionLevel(gzip.BestSpeed),
		gzhttp.ContentTypes([]string{"application/json", "application/geo+json", "application/vnd.oai.openapi+json"}))
	if err != nil {
		panic(err) // only for options that are not valid
	}
	// The event stream bypasses gzip (see streamHandler).
	return &streamHandler{server: s, compressed: gz(r), plain: r, hub: s.events}, s.invalidate
}

// gzipMinSize is the least JSON answer the server gzips: smaller ones fit
// in TCP's first window (ten segments) either way, so compressing them saves
// no round trip, only CPU (a 4 KB answer costs about as much to gzip as to
// find and write).
const gzipMinSize = 8 << 10

// roleOf returns the caller's role (see callerOf).
func roleOf(c *gin.Context) onemap.Role { return callerOf(c).Role }

// withTimeout bounds a request by --request-timeout, but for the event
// stream (for as long as the client stays) and an export of the audit trail
// (a page of records at a time, each bounded: exportAudit).
func (s *Server) withTimeout() gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.FullPath() == eventsPath || c.FullPath() == auditPath && auditCSV(c) {
			c.Next()
			return
		}
		ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.RequestTimeout)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

func (s *Server) requestLogger() gin.HandlerFunc {
	return func(c *gin.Context) {
		if !s.log.Enabled(c.Request.Context(), slog.LevelDebug) {
			c.Next() // nothing to log: no clock, no boxing of what would be logged
			return
		}
		start := time.Now()
		c.Next()
		s.log.Debug("request", "method", c.Request.Method, "path", c.Request.URL.Path,
			"status", c.Writer.Status(), "bytes", c.Writer.Size(), "took", time.Since(start))
	}
}

func (s *Server) recoverer() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic", "method", c.Request.Method, "path", c.Request.URL.Path, "panic", v)
				writeError(c, s.log, onemap.Errorf(onemap.EINTERNAL, "internal error"))
				c.Abort()
			}
		}()
		c.Next()
	}
}
