package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
)

// standby is what a server that reads from a PostgreSQL hot standby knows
// of it (Deps.Standby): its replica loads and follows the change feed there,
// writes go to the primary (Deps.Store).
type standby interface {
	// Ping answers when the standby answers.
	Ping(ctx context.Context) error
	// Lag is how far the replica is behind the primary: the age, on the
	// primary's clock, of the oldest change the replica has not applied
	// (0 when it has applied them all). known is false while the primary
	// cannot be asked: then no write is being made that the replica could
	// lag behind.
	Lag() (lag time.Duration, known bool)
	// FindSessionReadOnly is FindSessionAt without marking the session
	// used, for the standby, which takes no writes.
	FindSessionReadOnly(ctx context.Context, token string, at time.Time, idle time.Duration) (onemap.Session, error)
}

// standbySession looks a session up on the standby, for while no primary
// answers: a session started before the primary failed is on the standby
// too (streaming replication), so a signed-in caller keeps reading
// whichever server the load balancer picks.
func (s *Server) standbySession(ctx context.Context, token string) (onemap.Session, error) {
	if s.standby == nil {
		return onemap.Session{}, onemap.Errorf(onemap.EUNAVAILABLE, "no standby")
	}
	got, err := s.standby.FindSessionReadOnly(ctx, token, s.sessions.now(), s.sessions.rules.Idle)
	if err == nil {
		s.sessions.put(token, got)
	}
	return got, err
}

// readyStandby answers /readyz for a server that reads from a standby: 200
// while the standby answers and the replica is at most Config.MaxLag behind
// the primary, 503 otherwise. A primary that does not answer does not make
// the server unready: it serves reads, and refuses writes with 503
// (onemap.ErrReadOnly) until a primary is back.
func (s *Server) readyStandby(c *gin.Context) {
	// Each database gets its own time: a primary that hangs must not
	// make the standby look down.
	ping := func(p func(context.Context) error) error {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		return p(ctx)
	}
	seq := s.replica.Snapshot().Seq()
	out := gin.H{"replica_seq": seq, "max_lag_s": s.cfg.MaxLag.Seconds()}
	primary := "ok"
	if err := ping(s.store.Ping); err != nil {
		primary = "unreachable: changes are refused until one is back"
	}
	out["primary"] = primary
	lag, known := s.standby.Lag()
	if known {
		out["lag_s"] = lag.Seconds()
	}
	if err := ping(s.standby.Ping); err != nil {
		s.log.Warn("not ready: the standby does not answer", "error", err)
		out["status"], out["database"] = "not ready", "standby unreachable"
		c.Header("Retry-After", "5")
		c.JSON(http.StatusServiceUnavailable, out)
		return
	}
	out["database"] = "ok"
	if known && s.cfg.MaxLag > 0 && lag > s.cfg.MaxLag {
		out["status"] = "not ready"
		out["reason"] = "the replica is " + lag.Round(time.Millisecond).String() + " behind the primary, more than " + s.cfg.MaxLag.String()
		c.Header("Retry-After", "5")
		c.JSON(http.StatusServiceUnavailable, out)
		return
	}
	out["status"] = "ready"
	c.JSON(http.StatusOK, out)
}
