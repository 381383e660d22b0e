package api

import (
	"net/netip"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap/ratelimit"
)

// clientKey is the gin context key of the client's address (withClient).
const clientKey = "onemap.client"

// withClient works out, once per request, the address of the client that
// made it, by ratelimit.ClientAddr's rule: the direct peer, unless that is
// one of proxies, whose X-Forwarded-For (every line of it, read from the
// right) or X-Real-IP then names the client. Everything that needs the
// address reads it with clientAddr or clientOf: the caller in the audit
// trail, the sign-in throttle, the refusals' count and the public rate
// limit, so they all agree on who the client is. (gin's own ClientIP is not
// used: it keeps an IPv4-mapped address as it came, and when a trusted
// proxy's X-Forwarded-For names no address it believes X-Real-IP instead,
// so one request could count as two clients.)
func withClient(proxies []netip.Prefix) gin.HandlerFunc {
	return func(c *gin.Context) {
		if a, ok := ratelimit.ClientAddr(c.Request.RemoteAddr, c.Request.Header.Values("X-Forwarded-For"),
			c.Request.Header.Get("X-Real-IP"), proxies); ok {
			c.Set(clientKey, a)
		}
		c.Next()
	}
}

// clientAddr returns the address of the request's client (withClient). It
// is not valid when the peer's address could not be read; outside the
// server's router (no withClient) it is the direct peer's.
func clientAddr(c *gin.Context) netip.Addr {
	if v, ok := c.Get(clientKey); ok {
		return v.(netip.Addr)
	}
	a, _ := ratelimit.ClientAddr(c.Request.RemoteAddr, nil, "", nil)
	return a
}

// clientOf returns the address of the request's client as text, as the
// audit trail records it: "" when it is not known.
func clientOf(c *gin.Context) string {
	if a := clientAddr(c); a.IsValid() {
		return a.String()
	}
	return ""
}
