package api

import "github.com/gin-gonic/gin"

// contentSecurityPolicy is the Content-Security-Policy of the web client's
// pages and files (everything the router's routes do not answer: an HTML
// document is only ever one of those). It allows the web client what it
// needs and nothing more:
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

// apiContentSecurityPolicy is the Content-Security-Policy of the answers
// of the router's routes: JSON, vector tiles, CSV, images, event streams,
// none of them a document a browser runs or styles. It allows nothing: no
// script, style, image or fetch, and no framing; should a browser ever open
// one as a page it runs nothing. It is what OWASP's REST Security Cheat
// Sheet gives for API answers. The pages' policy is 251 bytes, written
// with every answer: about 2% of a warm tile's 11 KB, and most of what a
// /healthz answer sends.
const apiContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'"

// The values of the security headers, shared by every answer: each a
// slice whose capacity is its length, so that a value added to one
// (Header.Add) goes into a new slice. Nothing changes them.
var (
	pageCSP    = []string{contentSecurityPolicy}[:1:1]
	apiCSP     = []string{apiContentSecurityPolicy}[:1:1]
	frameDeny  = []string{"DENY"}[:1:1]
	noSniff    = []string{"nosniff"}[:1:1]
	sameOrigin = []string{"same-origin"}[:1:1]
)

// securityHeaders sets, on every answer (pages, the web client's files,
// the API, tiles, errors), the headers that keep a browser from running
// what the server did not mean to serve: a Content-Security-Policy (the
// pages' above for what no route answers, which is where the web client's
// pages come from; the API's, which allows nothing, for the routes' answers),
// no framing by other pages (clickjacking of /editor/ and /audit/), no
// guessing of content types, and no Referer leaving the origin (the public
// page's links to AMap and Baidu Maps carry none). The values are set
// straight into the header map under their canonical names, as the tiles'
// are (handleTile).
func securityHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		if c.FullPath() != "" { // a route of the router: never a page
			h["Content-Security-Policy"] = apiCSP
		} else {
			h["Content-Security-Policy"] = pageCSP
		}
		h["X-Frame-Options"] = frameDeny
		h["X-Content-Type-Options"] = noSniff
		h["Referrer-Policy"] = sameOrigin
		c.Next()
	}
}
