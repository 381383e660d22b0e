package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/tiles"
	"github.com/paulmach/orb/maptile"
)

// BasemapConfig is an online raster basemap (Tianditu, OpenStreetMap, …)
// that the server fetches for the browser, so that its key never leaves the
// server. With no URL the map has no basemap: the county's own layers are
// the base, and the page asks nothing of any other server.
type BasemapConfig struct {
	// URL is the tile template, with {z}, {x} and {y}, and {s} for one of
	// Subdomains, e.g. https://t{s}.tianditu.gov.cn/vec_w/wmts?…&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY.
	URL         string
	Subdomains  []string
	Attribution string
	MaxZoom     int // the deepest zoom the upstream serves; default 18
	// CacheTiles bounds the tiles kept in memory; default 2048.
	CacheTiles int
}

// basemap proxies and caches the configured basemap's tiles.
type basemap struct {
	cfg    BasemapConfig
	client *http.Client
	cache  *lru.Cache[maptile.Tile, basemapTile]
}

type basemapTile struct {
	body  []byte
	ctype string
}

func newBasemap(cfg BasemapConfig) *basemap {
	if cfg.URL == "" {
		return nil
	}
	if cfg.MaxZoom == 0 {
		cfg.MaxZoom = 18
	}
	if cfg.CacheTiles == 0 {
		cfg.CacheTiles = 2048
	}
	cache, _ := lru.New[maptile.Tile, basemapTile](cfg.CacheTiles) // errors only for a size below 1
	return &basemap{cfg: cfg, client: &http.Client{Timeout: 10 * time.Second}, cache: cache}
}

// url fills the template for tile t.
func (b *basemap) url(t maptile.Tile) string {
	r := strings.NewReplacer("{z}", strconv.Itoa(int(t.Z)), "{x}", strconv.Itoa(int(t.X)), "{y}", strconv.Itoa(int(t.Y)))
	u := r.Replace(b.cfg.URL)
	if len(b.cfg.Subdomains) > 0 {
		u = strings.ReplaceAll(u, "{s}", b.cfg.Subdomains[int(t.X+t.Y)%len(b.cfg.Subdomains)])
	}
	return u
}

// fetch returns tile t from the cache or the upstream.
func (b *basemap) fetch(ctx context.Context, t maptile.Tile) (basemapTile, error) {
	if got, ok := b.cache.Get(t); ok {
		return got, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.url(t), nil)
	if err != nil {
		return basemapTile{}, fmt.Errorf("basemap: %w", err)
	}
	req.Header.Set("User-Agent", "OneMap/"+onemap.Version)
	resp, err := b.client.Do(req)
	if err != nil {
		// The upstream's address holds the key: say nothing of it outward.
		return basemapTile{}, &onemap.Error{Code: onemap.EUNAVAILABLE, Message: "the basemap server did not answer", Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return basemapTile{}, &onemap.Error{Code: onemap.EUNAVAILABLE, Message: "the basemap server did not answer",
			Err: fmt.Errorf("basemap: HTTP %d: %v", resp.StatusCode, err)}
	}
	got := basemapTile{body: body, ctype: resp.Header.Get("Content-Type")}
	if !strings.HasPrefix(got.ctype, "image/") {
		return basemapTile{}, &onemap.Error{Code: onemap.EUNAVAILABLE, Message: "the basemap server did not answer with an image",
			Err: fmt.Errorf("basemap: Content-Type %q", got.ctype)}
	}
	b.cache.Add(t, got)
	return got, nil
}

// handleBasemap answers /basemap/{z}/{x}/{y}.png with the configured
// basemap's tile, fetched by the server (404 when none is configured).
func (s *Server) handleBasemap(c *gin.Context) {
	if s.base != nil {
		s.serveBaseTile(c)
		return
	}
	if s.basemap == nil {
		writeError(c, s.log, onemap.Errorf(onemap.ENOTFOUND, "no basemap is configured (--basemap-url)"))
		return
	}
	y, _ := strings.CutSuffix(c.Param("y"), ".png")
	t, err := tiles.ParseZXY(c.Param("z"), c.Param("x"), y+".mvt")
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	if int(t.Z) > s.basemap.cfg.MaxZoom {
		writeError(c, s.log, onemap.Errorf(onemap.ENOTFOUND, "the basemap goes to zoom %d", s.basemap.cfg.MaxZoom))
		return
	}
	got, err := s.basemap.fetch(c.Request.Context(), t)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=86400")
	c.Data(http.StatusOK, got.ctype, got.body)
}

// basemapStyle returns the style's raster source and layer of the basemap,
// or nils when none is configured.
func (s *Server) basemapStyle(c *gin.Context) (source, layer map[string]any) {
	if s.base != nil {
		return s.baseStyle(c)
	}
	if s.basemap == nil {
		return nil, nil
	}
	source = map[string]any{"type": "raster", "tiles": []string{s.baseURL(c) + "/basemap/{z}/{x}/{y}.png"},
		"tileSize": 256, "maxzoom": s.basemap.cfg.MaxZoom}
	if s.basemap.cfg.Attribution != "" {
		source["attribution"] = s.basemap.cfg.Attribution
	}
	return source, map[string]any{"id": "basemap", "type": "raster", "source": "basemap"}
}
