package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/basemap"
	"github.com/onemapgis/onemap/demo"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb/maptile"
)

// openBase returns the offline base map: the archive of --basemap-file, or,
// with no base map set, the demo county's synthetic base when the database
// holds the demo county (its grids by the demo's codes), or nil.
func (c *config) openBase(ctx context.Context, db *postgis.DB, log *slog.Logger) (basemap.Tiles, error) {
	if c.BasemapFile != "" {
		t, err := basemap.Open(c.BasemapFile)
		if err != nil {
			return nil, err
		}
		in := t.Info()
		log.Info("base map", "file", c.BasemapFile, "format", in.Format, "encoding", in.Encoding, "minzoom", in.MinZoom, "maxzoom", in.MaxZoom)
		return t, nil
	}
	if c.BasemapURL != "" || !c.BasemapDemo {
		return nil, nil
	}
	d, err := demo.Wuding()
	if err != nil {
		return nil, err
	}
	// The demo's county and its first group (whose 15-digit code the demo
	// makes up) are both there: the database holds the demo.
	for _, code := range []string{demo.GridCode(d.County.Code), demoGrid(onemap.RoleGridWorker)} {
		if _, err := db.GridIDByCode(ctx, code); err != nil {
			return nil, nil
		}
	}
	return newDemoBase(d, log), nil
}

// baseOrNil returns t as the api's base, or a nil interface for none.
func baseOrNil(t basemap.Tiles) interface {
	Info() onemap.BasemapInfo
	Tile(context.Context, maptile.Tile) ([]byte, error)
} {
	if t == nil {
		return nil
	}
	return t
}

// demoBase is the demo county's drawn base, made in the background (the
// layout takes seconds): its tiles wait for it.
type demoBase struct {
	info  onemap.BasemapInfo
	ready chan struct{}
	drawn *basemap.Drawn // set before ready closes; nil if it failed
}

func newDemoBase(d *demo.Dataset, log *slog.Logger) *demoBase {
	b := &demoBase{ready: make(chan struct{}), info: demoBaseInfo(d)}
	go func() {
		defer close(b.ready)
		start := time.Now()
		base, err := d.Base()
		if err == nil {
			b.drawn, err = basemap.NewDrawn(b.info, DemoBaseLayers(base))
		}
		if err != nil {
			log.Error("the demo county's base map", "err", err)
			return
		}
		log.Info("drew the demo county's synthetic base map", "took", time.Since(start).Round(time.Millisecond), "holds", base.String())
	}()
	return b
}

// demoBaseInfo describes the demo base; its bounds are the county's.
func demoBaseInfo(d *demo.Dataset) onemap.BasemapInfo {
	b := d.Outline.Bound().Pad(0.05)
	return onemap.BasemapInfo{Name: d.County.Name + " 示意底图（合成）", Attribution: "示意底图：合成数据，非测绘成果 (synthetic demo base)",
		Format: "pbf", Encoding: "gzip", MinZoom: 0, MaxZoom: 18, Bounds: b, Synthetic: true,
		VectorLayers: []onemap.BasemapLayer{
			{ID: "water", Fields: map[string]string{"name": "String", "class": "String"}, MaxZoom: 18},
			{ID: "transportation", Fields: map[string]string{"name": "String", "class": "String"}, MaxZoom: 18},
			{ID: "place", Fields: map[string]string{"name": "String", "class": "String"}, MaxZoom: 18},
		}}
}

func (b *demoBase) Info() onemap.BasemapInfo { return b.info }

func (b *demoBase) Tile(ctx context.Context, t maptile.Tile) ([]byte, error) {
	select {
	case <-b.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if b.drawn == nil {
		return nil, onemap.Errorf(onemap.EUNAVAILABLE, "the demo base map could not be drawn")
	}
	return b.drawn.Tile(ctx, t)
}

func (b *demoBase) Close() error { return nil }

// DemoBaseLayers turns the demo's base into the layers of a drawn vector
// base, named and classed as OpenMapTiles names them (water, transportation,
// place), so that the client styles it as it styles an OpenStreetMap
// extract: rivers in "water" (class river or stream), roads in
// "transportation" (primary, secondary), settlements in "place" (city,
// town, village, hamlet; hamlets from zoom 12).
func DemoBaseLayers(b *demo.Base) []basemap.DrawnLayer {
	fields := []string{"name", "class"}
	water := basemap.DrawnLayer{ID: "water", Fields: fields}
	for _, r := range b.Rivers {
		water.Features = append(water.Features, basemap.DrawnFeature{Geometry: r.Line, Values: []any{r.Name, r.Class}})
	}
	roads := basemap.DrawnLayer{ID: "transportation", Fields: fields}
	for _, r := range b.Roads {
		roads.Features = append(roads.Features, basemap.DrawnFeature{Geometry: r.Line, Values: []any{r.Name, r.Class}})
	}
	places := basemap.DrawnLayer{ID: "place", Fields: fields}
	for _, p := range b.Places {
		places.Features = append(places.Features, basemap.DrawnFeature{Geometry: p.Point, Values: []any{p.Name, p.Class}})
	}
	return []basemap.DrawnLayer{water, roads, places}
}
