package api

import "github.com/gin-gonic/gin"

// contentSecurityPolicy is the Content-Security-Policy of every answer. It
// allows the web client what it needs and nothing more:
//
//   - scripts only from this origin, as files (Vite's module bundles; no
//     inline script, no eval);
//   - MapLibre's web worker from this origin (each page sets its URL to the
//     bundled maplibre-gl-worker-*.mjs: setWorkerUrl);
//   - fetches and the event stream to this origin only: the API, tiles,
//     styles and the online basemap, which the server fetches for the
//     browser (/basemap/…, basemap.go), so no other host is named;
//   - images from this origin, data: (icons in MapLibre's stylesheet) and
//     blob: (images MapLibre decodes);
//   - fonts from this origin (the bundled onemap-sans.woff2);
//   - stylesheets from this origin; style attributes inline (the legend's
//     and cards' colour dots, set in the HTML the client renders), but no
//     inline <style> element;
//   - no plugin, no <base> elsewhere, forms posted here only, and no page
//     of any origin may frame these pages (frame-ancestors; X-Frame-Options
//     for browsers that predate it).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; worker-src 'self'; connect-src 'self'; " +
	"img-src 'self' data: blob:; font-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; " +
	"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets, on every answer (pages, the web client's files,
// the API, tiles, errors), the headers that keep a browser from running
// what the server did not mean to serve: the Content-Security-Policy above,
// no framing by other pages (clickjacking of /editor/ and /audit/), no
// guessing of content types, and no Referer leaving the origin (the public
// page's links to AMap and Baidu Maps carry none).
func securityHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		c.Next()
	}
}
