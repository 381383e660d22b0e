package api

import (
	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
)

// viewKey is where withCaller keeps the request's policy view.
const viewKey = "onemap.view"

// viewFor returns the access policy as the caller sees it (onemap.View):
// the one place where the transport asks the policy itself. A request's
// view is built once, by withCaller, and its handlers ask it (view).
func (s *Server) viewFor(caller onemap.Caller) *onemap.View {
	return s.policy.View(s.catalog, caller)
}

// view returns the request's policy view (see viewFor).
func (s *Server) view(c *gin.Context) *onemap.View {
	if v, ok := c.Get(viewKey); ok {
		return v.(*onemap.View)
	}
	return s.viewFor(callerOf(c))
}

// roleView returns the policy as any caller of the role sees it, bar a
// viewer's part of the county: for the outputs that depend on the role
// alone (a projection of a layer's records, the audit trail's records, the
// public API, which answers everyone as the public).
func (s *Server) roleView(role onemap.Role) *onemap.View {
	return s.viewFor(onemap.Caller{Role: role})
}
