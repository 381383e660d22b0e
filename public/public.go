// Package public is the index behind the public page: the service stations,
// the shelters (安置点) and the township and village places that anybody may see, held in memory
// (an R-tree of the stations, the place list and their JSON) and answered
// without touching the database, so that a surge of public lookups does not
// slow the command centre.
//
// It is built only from public data, by construction: its Source reads
// nothing but the database's public views, as a database role that may read
// nothing else (migrations/0006_public.sql, postgis/public.go). No camera, risk
// point, household or grid worker ever enters it, so none can leave it.
package public

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/onemapgis/onemap"
)

// The public index's data are the root package's: the store reads them and
// this package indexes them. The names here are short for the same types.
type (
	// Station is a service station as the public sees it.
	Station = onemap.PublicStation
	// Place is a township or a village, with a point inside it.
	Place = onemap.PublicPlace
	// Kind is a kind of station.
	Kind = onemap.PublicKind
	// Data is everything the public index holds.
	Data = onemap.PublicData
)

// Source reads the public data: postgis.DB reads it through the public views
// as the public database role.
type Source interface {
	LoadPublic(ctx context.Context) (Data, error)
}

// Index is the public index, safe for concurrent use. Readers use the
// current snapshot; a reload builds a new one and swaps it in.
type Index struct {
	src  Source
	log  *slog.Logger
	cur  atomic.Pointer[snapshot]
	wake chan struct{}
	now  func() time.Time
}

// New returns an empty index over src; Load fills it.
func New(src Source, log *slog.Logger) *Index {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Index{src: src, log: log, wake: make(chan struct{}, 1), now: time.Now}
}

// errNotLoaded answers lookups before the first Load.
var errNotLoaded = onemap.Errorf(onemap.EUNAVAILABLE, "the public index is loading")

// Load reads the public data and makes it the index's content.
func (ix *Index) Load(ctx context.Context) error {
	start := time.Now()
	d, err := ix.src.LoadPublic(ctx)
	if err != nil {
		return fmt.Errorf("public: load: %w", err)
	}
	s, err := newSnapshot(d)
	if err != nil {
		return fmt.Errorf("public: load: %w", err)
	}
	ix.cur.Store(s)
	ix.log.Debug("public index loaded", "stations", len(d.Stations), "places", len(d.Places),
		"kinds", len(d.Kinds), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// OnApply takes the changes the replica has applied and, when one touches
// stations, grids or shelters, asks Run to reload. It never waits, so the replica's
// follower is not slowed.
func (ix *Index) OnApply(changes []onemap.Change) {
	if slices.ContainsFunc(changes, func(c onemap.Change) bool {
		return c.Layer == onemap.LayerStations || c.Layer == onemap.LayerGrids || c.Layer == onemap.LayerShelters
	}) {
		select {
		case ix.wake <- struct{}{}:
		default:
		}
	}
}

// Run reloads the index whenever OnApply asks, until ctx ends; a reload
// that fails is retried with a growing wait (from retry, at most 16 times
// as long). Changes that arrive during a reload cause one more.
func (ix *Index) Run(ctx context.Context, retry time.Duration) {
	if retry <= 0 {
		retry = 250 * time.Millisecond
	}
	backoff := retry
	for {
		select {
		case <-ctx.Done():
			return
		case <-ix.wake:
		}
		for {
			err := ix.Load(ctx)
			if err == nil || ctx.Err() != nil {
				backoff = retry
				break
			}
			ix.log.Warn("public index: reload failed; retrying", "error", err, "in", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(2*backoff, 16*retry)
		}
	}
}

// Len returns how many stations and places the index holds.
func (ix *Index) Len() (stations, places int) {
	s := ix.cur.Load()
	if s == nil {
		return 0, 0
	}
	return len(s.stations), len(s.places)
}

func (ix *Index) snapshot() (*snapshot, error) {
	s := ix.cur.Load()
	if s == nil {
		return nil, errNotLoaded
	}
	return s, nil
}

// KindsJSON returns {"kinds": [{"code", "name", "name_en", "count"}]}, the
// kinds of station in the order of the reference table, and its ETag.
func (ix *Index) KindsJSON() ([]byte, string, error) {
	s, err := ix.snapshot()
	if err != nil {
		return nil, "", err
	}
	return s.kindsJSON, s.etag, nil
}

// PlacesJSON returns {"townships": [{"id", "code", "name", "lon", "lat",
// "villages": [...]}]}, townships by code and their villages by code, and
// its ETag.
func (ix *Index) PlacesJSON() ([]byte, string, error) {
	s, err := ix.snapshot()
	if err != nil {
		return nil, "", err
	}
	return s.placesJSON, s.etag, nil
}

// Places returns the places, townships first, each group by code.
func (ix *Index) Places() []Place {
	s := ix.cur.Load()
	if s == nil {
		return nil
	}
	return slices.Clone(s.places)
}
