// Package frontend is the embedded web client that the server hands to
// browsers: the MapLibre map and its pages (/editor/, /screen/, /m/, the
// grid worker's /m/work/, and /audit/). The client's source is in src/ and is built with Vite (npm run
// build) into dist/, which is committed, so that go build works on a
// machine without Node. This package only serves that build, embedded
// (Handler) or, while the client is being developed, from a folder on disk
// (Dir); it holds no API and no business rules.
package frontend

import (
	"embed"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"strings"

	"github.com/onemapgis/onemap/internal/negotiate"
)

//go:embed all:dist
var dist embed.FS

// notBuilt is the body served when dist/ holds no built client.
const notBuilt = "503 Service Unavailable: the web client is not built: run make frontend\n"

// Handler returns the handler that serves the built web client from the
// embedded dist/ folder. If the client was not built (dist/ has no
// index.html), every request gets a plain-text 503 saying so.
//
// Files under /assets/ have content hashes in their names and are cached for
// a year; anything else (index.html) is revalidated on every load. Where the
// build wrote a gzipped copy (FILE.gz) and the browser accepts gzip, the copy
// is sent with Content-Encoding: gzip. Folder listings are not served. The
// handler is safe for concurrent use.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // only if "dist" were not a valid path
	}
	return handler(sub)
}

// Dir returns the handler that serves a built web client from a folder on
// disk instead of the embedded one: for developing the client (vite build
// --outDir DIR) without rebuilding the binary.
func Dir(dir string) http.Handler {
	return handler(os.DirFS(dir))
}

// handler serves the client in fsys (the contents of dist/).
func handler(fsys fs.FS) http.Handler {
	if _, err := fs.Stat(fsys, "index.html"); err != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, notBuilt)
		})
	}
	files := http.FileServer(http.FS(fsys))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := path.Clean("/" + r.URL.Path)
		if p != "/" && strings.HasSuffix(r.URL.Path, "/") {
			// A page of its own (/m/, /editor/) is a folder with an
			// index.html; any other folder is not listed.
			if _, err := fs.Stat(fsys, strings.TrimPrefix(p, "/")+"/index.html"); err != nil {
				http.NotFound(w, r)
				return
			}
			p += "/index.html"
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
			if !serveGzip(w, r, fsys, p) {
				serveFile(w, r, fsys, p)
			}
			return
		}
		h := w.Header()
		if ctype := contentType(p); ctype != "" {
			h.Set("Content-Type", ctype)
		}
		if strings.HasPrefix(p, "/assets/") {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		if serveGzip(w, r, fsys, p) {
			return
		}
		files.ServeHTTP(w, r)
	})
}

// contentType returns the type of the file at p, set here for scripts
// (module workers need a JavaScript type, and the host's mime.types must not
// decide it) and for anything served gzipped; "" leaves it to FileServer.
func contentType(p string) string {
	switch ext := path.Ext(p); ext {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case "":
		return ""
	default:
		return mime.TypeByExtension(ext)
	}
}

// serveGzip sends fsys's p.gz, if there is one and the client accepts gzip,
// and reports whether it did.
func serveGzip(w http.ResponseWriter, r *http.Request, fsys fs.FS, p string) bool {
	if p == "/" {
		return false
	}
	f, err := fsys.Open(strings.TrimPrefix(p, "/") + ".gz")
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	rs, seekable := f.(io.ReadSeeker)
	if err != nil || st.IsDir() || !seekable {
		return false
	}
	w.Header().Add("Vary", "Accept-Encoding")
	if !negotiate.Gzip(r.Header.Get("Accept-Encoding")) {
		return false
	}
	w.Header().Set("Content-Encoding", "gzip")
	http.ServeContent(w, r, p, st.ModTime(), rs)
	return true
}

// serveFile sends fsys's p as it is (FileServer would redirect a folder's
// index.html to the folder).
func serveFile(w http.ResponseWriter, r *http.Request, fsys fs.FS, p string) {
	f, err := fsys.Open(strings.TrimPrefix(p, "/"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	rs, seekable := f.(io.ReadSeeker)
	if err != nil || st.IsDir() || !seekable {
		http.NotFound(w, r)
		return
	}
	http.ServeContent(w, r, p, st.ModTime(), rs)
}
