package api

import (
	"github.com/gin-gonic/gin"
)

// actorOf names the caller for the history of features and the audit trail:
// the account's name once signed in, else the role.
func actorOf(c *gin.Context) string {
	return string(roleOf(c))
}

// audit records one event of the audit trail for the caller: action is what
// happened ("export", "household.read", "login.failed"), target what it
// happened to ("grids", "households/42"), detail anything else worth
// keeping (a purpose, a count, a reason).
func (s *Server) audit(c *gin.Context, action, target string, detail map[string]any) {
	s.log.Info("audit", "actor", actorOf(c), "client", c.ClientIP(), "action", action, "target", target, "detail", detail)
}
