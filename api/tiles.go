package api

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/gin-gonic/gin"
	"github.com/klauspost/compress/gzip"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/negotiate"
	"github.com/onemapgis/onemap/postgis"
	"github.com/onemapgis/onemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// mvtType is the media type of Mapbox Vector Tiles.
const mvtType = "application/vnd.mapbox-vector-tile"

// tileset is what a tileset holds for one caller.
type tileset struct {
	name    string
	variant string // what besides the data decides the content: the role it is cut for
	specs   []tiles.LayerSpec
	byZoom  [tiles.MaxZoom + 1][]tiles.LayerSpec // specs as tiles of each zoom carry them
}

// tilesets keeps the tilesets resolved so far, by role and name: they depend
// only on the catalogue and the policy, which do not change while the server
// runs.
type tilesets struct {
	m sync.Map // of tilesetKey to *tileset
}

type tilesetKey struct {
	role onemap.Role
	name string
}

// tileset resolves a tileset name for a role: every layer the role may read
// ("all"), the public's layers and fields whoever asks ("public"), or one
// layer. Fields the policy masks or denies are left out of tiles. A layer the
// role may not read is not found.
func (s *Server) tileset(role onemap.Role, name string) (*tileset, error) {
	key := tilesetKey{role, name}
	if ts, ok := s.tilesets.m.Load(key); ok {
		return ts.(*tileset), nil
	}
	var layers []onemap.Layer
	switch name {
	case tiles.SetAll:
		layers = s.policy.Readable(role, s.catalog)
	case tiles.SetPublic:
		role = onemap.RolePublic
		layers = s.policy.Readable(role, s.catalog)
	default:
		l, err := s.catalog.Layer(name)
		if err != nil || !s.policy.CanRead(role, name) {
			return nil, onemap.Errorf(onemap.ENOTFOUND, "tileset %q not found: want %s, %s or a layer you may read",
				name, tiles.SetAll, tiles.SetPublic)
		}
		layers = []onemap.Layer{l}
	}
	ts := &tileset{name: name, variant: string(role)}
	for _, l := range layers {
		spec := tiles.LayerSpec{Layer: l, Levels: s.policy.Rule(role, l.ID).Levels,
			MinZoom: l.MinZoom, MaxZoom: l.MaxZoom, ClusterBelow: l.ClusterBelow, ClusterFields: l.ClusterFields}
		for _, f := range l.Fields {
			if s.policy.Field(role, &l, f.Name) == onemap.FieldAllow {
				spec.Fields = append(spec.Fields, f.Name)
			}
		}
		ts.specs = append(ts.specs, spec)
	}
	// Tiles of each zoom carry only the levels drawn at that zoom.
	for z := range ts.byZoom {
		specs := slices.Clone(ts.specs)
		for i := range specs {
			specs[i].Levels = specs[i].Layer.LevelsAt(maptile.Zoom(z), specs[i].Levels)
		}
		ts.byZoom[z] = specs
	}
	got, _ := s.tilesets.m.LoadOrStore(key, ts)
	return got.(*tileset), nil
}

// renderTile encodes a tile with the configured renderer.
func (s *Server) renderTile(c *gin.Context, t maptile.Tile, ts *tileset) ([]byte, error) {
	specs := ts.byZoom[t.Z]
	// The reference renderer knows no viewer's part: viewers' tiles are
	// always cut from the replica.
	if s.cfg.TileRenderer == RenderPostGIS && callerOf(c).Role != onemap.RoleViewer {
		var layers []postgis.TileLayer
		for _, spec := range specs {
			if t.Z < spec.MinZoom || t.Z > spec.MaxZoom {
				continue
			}
			tl := postgis.TileLayer{Layer: spec.Layer, Levels: spec.Levels}
			for _, name := range spec.Fields {
				f, _ := spec.Layer.Field(name)
				tl.Fields = append(tl.Fields, f)
			}
			layers = append(layers, tl)
		}
		return s.store.Tile(c.Request.Context(), t, layers)
	}
	snap := s.snapshot(c)
	if ts.name == tiles.SetPublic {
		snap = s.replica.Snapshot() // public data, the same for everyone
	}
	return tiles.Encode(snap, t, specs)
}

// newTileEntry prepares a tile for serving: its gzipped bytes and its tag.
// Gzip writers are costly to make, so they are kept from tile to tile.
func (s *Server) newTileEntry(mvt []byte) *tiles.Entry {
	// The tag only has to change when the tile does: a 64-bit hash of
	// its bytes, the same on every server.
	e := &tiles.Entry{MVT: mvt}
	var sum [8]byte
	binary.BigEndian.PutUint64(sum[:], xxhash.Sum64(mvt))
	var tag [18]byte
	tag[0], tag[17] = '"', '"'
	hex.Encode(tag[1:17], sum[:])
	e.ETag = string(tag[:])
	if len(mvt) > 0 {
		zw, _ := s.gzips.Get().(*gzip.Writer)
		if zw == nil {
			zw, _ = gzip.NewWriterLevel(nil, gzip.BestSpeed)
		}
		buf := bytes.NewBuffer(make([]byte, 0, len(mvt)/2))
		zw.Reset(buf)
		zw.Write(mvt)
		zw.Close()
		s.gzips.Put(zw)
		e.Gzip = buf.Bytes()
	}
	return e
}

// handleTile answers /tiles/{tileset}/{z}/{x}/{y}.mvt. An empty tile is 204
// No Content. Tiles are gzipped when the client accepts it and carry an ETag.
func (s *Server) handleTile(c *gin.Context) {
	t, err := tiles.ParseZXY(c.Param("z"), c.Param("x"), c.Param("y"))
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	ts, err := s.tileset(roleOf(c), c.Param("tileset"))
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	variant := ts.variant
	if caller := callerOf(c); caller.Role == onemap.RoleViewer && caller.GridID != 0 && ts.name != tiles.SetPublic {
		variant += ":" + strconv.FormatInt(caller.GridID, 10) // a viewer's part of the county
	}
	key := tiles.CacheKey{Tileset: ts.name, Variant: variant, Tile: t}
	e, ok := s.cache.Get(key)
	if ok {
		c.Header("Server-Timing", `cache;desc="hit"`)
	} else {
		gen := s.cache.Gen() // before the snapshot the tile is cut from
		start := time.Now()
		mvt, err := s.renderTile(c, t, ts)
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		// How long the tile took to encode, for benchmarks and browsers'
		// developer tools.
		c.Header("Server-Timing", fmt.Sprintf(`render;desc=%q;dur=%.3f`, s.cfg.TileRenderer, float64(time.Since(start).Microseconds())/1000))
		e = s.newTileEntry(mvt)
		s.cache.Put(key, e, gen)
	}
	if s.cfg.TileCacheControl != "" {
		c.Header("Cache-Control", s.cfg.TileCacheControl)
	}
	c.Writer.Header().Add("Vary", "Accept-Encoding")
	if len(e.MVT) == 0 {
		c.Status(http.StatusNoContent)
		return
	}
	c.Header("ETag", e.ETag)
	if inm := c.GetHeader("If-None-Match"); inm != "" && (strings.Contains(inm, e.ETag) || strings.TrimSpace(inm) == "*") {
		c.Status(http.StatusNotModified)
		return
	}
	if negotiate.Gzip(c.GetHeader("Accept-Encoding")) {
		c.Header("Content-Encoding", "gzip")
		c.Data(http.StatusOK, mvtType, e.Gzip)
		return
	}
	c.Data(http.StatusOK, mvtType, e.MVT)
}

// invalidate evicts the cached tiles that changes touch: where each feature
// was and where it is.
func (s *Server) invalidate(changes []onemap.Change) {
	s.events.publish(changes) // to the open event streams (/api/events)
	s.metrics.noteApplied(changes)
	bounds := make([]orb.Bound, 0, 2*len(changes))
	for _, c := range changes {
		if c.OldBound != nil {
			bounds = append(bounds, *c.OldBound)
		}
		if c.NewBound != nil {
			bounds = append(bounds, *c.NewBound)
		}
	}
	if n := s.cache.Invalidate(bounds...); n > 0 {
		s.log.Debug("tile cache: evicted changed tiles", "changes", len(changes), "tiles", n)
	}
}
