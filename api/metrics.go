package api

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the Prometheus metrics of one server, in a registry the
// server owns (no global registry): request counts and latencies by route
// template, and, read when scraped, the replica's position and lag, the
// tile cache and the connection pool. Nothing in them names a feature or a
// caller; counts by layer are the most they tell.
type metrics struct {
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	inFlight  prometheus.Gauge
	applied   prometheus.Counter
	lastApply atomic.Int64 // unix nanoseconds of the latest applied batch; 0: none yet
}

// feedPosition is what a store tells of the change feed, for the lag.
type feedPosition interface {
	LatestSeq(ctx context.Context) (int64, error)
}

// poolStater reports a database's connection pool.
type poolStater interface {
	PoolStat() onemap.PoolStat
}

// newMetrics registers the server's metrics in reg (a new registry when nil),
// with the Go runtime's and the process's.
func newMetrics(s *Server, reg *prometheus.Registry) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "onemap", Name: "http_requests_total",
			Help: "HTTP requests answered, by route template (\"other\": no route, or the web client's files), method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "onemap", Name: "http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route template and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "onemap", Name: "http_requests_in_flight", Help: "HTTP requests being answered now.",
		}),
		applied: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "onemap", Name: "replica_changes_applied_total",
			Help: "Changes of the change feed the replica applied since the server started.",
		}),
	}
	reg.MustRegister(m.requests, m.latency, m.inFlight, m.applied, newStateCollector(s, m),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe counts every request and times it, by the route it matched.
func (s *Server) observe() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		s.metrics.inFlight.Inc()
		defer s.metrics.inFlight.Dec()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "other" // unmatched paths are not labels: they would be unbounded
		}
		method := c.Request.Method
		switch method {
		case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		default:
			method = "other" // a client may send any word: labels must stay few
		}
		s.metrics.requests.WithLabelValues(route, method, strconv.Itoa(c.Writer.Status())).Inc()
		if route != eventsPath { // a stream lasts as long as its client stays: no latency
			s.metrics.latency.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
		}
	}
}

// MetricsHandler answers GET /metrics in the Prometheus text format with
// the metrics in reg, the registry passed to NewServer as Deps.Metrics. The
// server's own router does not serve it: the counts by layer tell how many
// cameras and households there are, which the public may not know, so
// cmd/onemap serves it on an address of its own (--metrics-addr, loopback
// by default).
func MetricsHandler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}

// noteApplied records a batch of changes the replica applied.
func (m *metrics) noteApplied(changes []onemap.Change) {
	m.applied.Add(float64(len(changes)))
	m.lastApply.Store(time.Now().UnixNano())
}

// stateCollector reads, when scraped, what the server holds: the replica,
// the tile cache, the database's position and the pool.
type stateCollector struct {
	s                   *Server
	m                   *metrics
	descReplicaSeq      *prometheus.Desc
	descReplicaFeatures *prometheus.Desc
	descLastApply       *prometheus.Desc
	descDatabaseSeq     *prometheus.Desc
	descLag             *prometheus.Desc
	descDatabaseUp      *prometheus.Desc
	descCacheHits       *prometheus.Desc
	descCacheMisses     *prometheus.Desc
	descCacheEvict      *prometheus.Desc
	descCacheInval      *prometheus.Desc
	descCacheRefuse     *prometheus.Desc
	descCacheTiles      *prometheus.Desc
	descCacheBytes      *prometheus.Desc
	descRepacked        *prometheus.Desc
	descRepackSaved     *prometheus.Desc
	descRepackQueued    *prometheus.Desc
	descPoolConns       *prometheus.Desc
	descPoolAcquires    *prometheus.Desc
	descPoolAcquireWait *prometheus.Desc
	descPoolNew         *prometheus.Desc
}

// newStateCollector describes what the collector reports.
func newStateCollector(s *Server, m *metrics) *stateCollector {
	return &stateCollector{s: s, m: m,
		descReplicaSeq: prometheus.NewDesc("onemap_replica_seq",
			"Sequence number of the latest change the replica applied: the position tiles and queries are answered from.", nil, nil),
		descReplicaFeatures: prometheus.NewDesc("onemap_replica_features",
			"Features the replica holds, by layer.", []string{"layer"}, nil),
		descLastApply: prometheus.NewDesc("onemap_replica_last_apply_timestamp_seconds",
			"When the replica last applied changes (Unix time; absent until it has).", nil, nil),
		descDatabaseSeq: prometheus.NewDesc("onemap_database_seq",
			"Sequence number of the newest change in the database's change feed (absent while the database does not answer).", nil, nil),
		descLag: prometheus.NewDesc("onemap_replica_lag_changes",
			"Changes in the database the replica has not applied yet (absent while the database does not answer).", nil, nil),
		descDatabaseUp: prometheus.NewDesc("onemap_database_up",
			"1 when the database answered the scrape's query within a second, else 0.", nil, nil),
		descCacheHits:   prometheus.NewDesc("onemap_tile_cache_hits_total", "Tiles answered from the tile cache.", nil, nil),
		descCacheMisses: prometheus.NewDesc("onemap_tile_cache_misses_total", "Tiles not in the tile cache, so rendered.", nil, nil),
		descCacheEvict:  prometheus.NewDesc("onemap_tile_cache_evicted_total", "Tiles dropped from the tile cache to stay within its memory.", nil, nil),
		descCacheInval:  prometheus.NewDesc("onemap_tile_cache_invalidated_total", "Tiles dropped from the tile cache because a change touched them.", nil, nil),
		descCacheRefuse: prometheus.NewDesc("onemap_tile_cache_refused_total", "Rendered tiles not cached because a change made them stale meanwhile.", nil, nil),
		descCacheTiles:  prometheus.NewDesc("onemap_tile_cache_entries", "Tiles the tile cache holds.", nil, nil),
		descCacheBytes:  prometheus.NewDesc("onemap_tile_cache_bytes", "Memory of the tiles the tile cache holds, in bytes.", nil, nil),
		descRepacked: prometheus.NewDesc("onemap_tile_cache_repacked_total",
			"Cached tiles gzipped again, harder, once served a second time, whose smaller bytes replaced the first.", nil, nil),
		descRepackSaved: prometheus.NewDesc("onemap_tile_cache_repack_saved_bytes_total",
			"Gzipped bytes the tiles gzipped again saved, each counted once (not per answer).", nil, nil),
		descRepackQueued: prometheus.NewDesc("onemap_tile_cache_repack_queued",
			"Cached tiles waiting to be gzipped again.", nil, nil),
		descPoolConns: prometheus.NewDesc("onemap_db_pool_connections",
			"Connections of the database pool by state (max: the pool's limit).", []string{"state"}, nil),
		descPoolAcquires: prometheus.NewDesc("onemap_db_pool_acquires_total",
			"Connections taken from the pool (empty: had to wait for one; canceled: gave up waiting).", []string{"kind"}, nil),
		descPoolAcquireWait: prometheus.NewDesc("onemap_db_pool_acquire_seconds_total",
			"Time spent taking connections from the pool.", nil, nil),
		descPoolNew: prometheus.NewDesc("onemap_db_pool_new_connections_total", "Connections the pool opened.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (sc *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{sc.descReplicaSeq, sc.descReplicaFeatures, sc.descLastApply, sc.descDatabaseSeq, sc.descLag,
		sc.descDatabaseUp, sc.descCacheHits, sc.descCacheMisses, sc.descCacheEvict, sc.descCacheInval, sc.descCacheRefuse, sc.descCacheTiles,
		sc.descCacheBytes, sc.descRepacked, sc.descRepackSaved, sc.descRepackQueued, sc.descPoolConns, sc.descPoolAcquires, sc.descPoolAcquireWait, sc.descPoolNew} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (sc *stateCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	s := sc.s
	snap := s.replica.Snapshot()
	gauge(sc.descReplicaSeq, float64(snap.Seq()))
	for _, l := range s.catalog.Layers() {
		gauge(sc.descReplicaFeatures, float64(snap.Len(l.ID)), l.ID)
	}
	if t := sc.m.lastApply.Load(); t != 0 {
		gauge(sc.descLastApply, float64(t)/1e9)
	}
	if fp := s.feed; fp != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		seq, err := fp.LatestSeq(ctx)
		cancel()
		if err == nil {
			gauge(sc.descDatabaseUp, 1)
			gauge(sc.descDatabaseSeq, float64(seq))
			gauge(sc.descLag, float64(max(seq-snap.Seq(), 0)))
		} else {
			gauge(sc.descDatabaseUp, 0)
		}
	}
	cs := s.tiles.CacheStats()
	counter(sc.descCacheHits, float64(cs.Hits))
	counter(sc.descCacheMisses, float64(cs.Misses))
	counter(sc.descCacheEvict, float64(cs.Evicted))
	counter(sc.descCacheInval, float64(cs.Invalidated))
	counter(sc.descCacheRefuse, float64(cs.Refused))
	gauge(sc.descCacheTiles, float64(cs.Entries))
	gauge(sc.descCacheBytes, float64(cs.Bytes))
	counter(sc.descRepacked, float64(cs.Repacked))
	counter(sc.descRepackSaved, float64(cs.RepackSaved))
	gauge(sc.descRepackQueued, float64(cs.RepackQueued))
	if ps := s.pool; ps != nil {
		p := ps.PoolStat()
		gauge(sc.descPoolConns, float64(p.MaxConns), "max")
		gauge(sc.descPoolConns, float64(p.TotalConns), "total")
		gauge(sc.descPoolConns, float64(p.IdleConns), "idle")
		gauge(sc.descPoolConns, float64(p.AcquiredConns), "acquired")
		gauge(sc.descPoolConns, float64(p.ConstructingConns), "constructing")
		counter(sc.descPoolAcquires, float64(p.AcquireCount), "all")
		counter(sc.descPoolAcquires, float64(p.EmptyAcquireCount), "empty")
		counter(sc.descPoolAcquires, float64(p.CanceledAcquireCount), "canceled")
		counter(sc.descPoolAcquireWait, p.AcquireDuration.Seconds())
		counter(sc.descPoolNew, float64(p.NewConnsCount))
	}
}
