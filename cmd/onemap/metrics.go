package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/prometheus/client_golang/prometheus"
)

// defaultMetricsAddr is where `onemap serve` serves /metrics unless told:
// loopback only, for a Prometheus on the same machine (or a sidecar).
const defaultMetricsAddr = "127.0.0.1:9090"

// checkMetricsAddr checks --metrics-addr before anything starts: empty or
// "off" (no metrics; "off" for ONEMAP_METRICS_ADDR, where empty means
// unset) or host:port. It reports whether the host is a loopback address
// (or localhost); any other is allowed, but the caller says so in the log,
// since the metrics tell how many features each layer holds.
func checkMetricsAddr(addr string) (loopback bool, err error) {
	if addr == "" || addr == "off" {
		return true, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, onemap.Errorf(onemap.EINVALID, "--metrics-addr %q: want host:port, e.g. %s, or empty to serve no metrics", addr, defaultMetricsAddr)
	}
	if host == "localhost" {
		return true, nil
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback(), nil
}

// metricsServer serves reg's metrics at /metrics on its own listener,
// apart from the public router.
type metricsServer struct {
	srv *http.Server
	ln  net.Listener
}

// listenMetrics listens on addr for the metrics of reg; nil, nil when addr
// is empty or "off" (no metrics served).
func listenMetrics(addr string, reg *prometheus.Registry, log *slog.Logger) (*metricsServer, error) {
	if addr == "" || addr == "off" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr %s: %w (set another address, or empty to serve no metrics)", addr, err)
	}
	return &metricsServer{ln: ln, srv: &http.Server{
		Handler:           api.MetricsHandler(reg),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}, nil
}

// run serves until close; nil m does nothing.
func (m *metricsServer) run() {
	if m != nil {
		_ = m.srv.Serve(m.ln) // ends with http.ErrServerClosed on close
	}
}

// url is the metrics' address, for the log.
func (m *metricsServer) url() string { return "http://" + m.ln.Addr().String() + "/metrics" }

// close stops serving (a scrape in flight gets a second to finish).
func (m *metricsServer) close() {
	if m == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := m.srv.Shutdown(ctx); err != nil {
		m.srv.Close()
	}
	m.ln.Close() // in case Serve never ran
}
