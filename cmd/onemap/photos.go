package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/onemapgis/onemap/photo"
	"github.com/onemapgis/onemap/postgis"
)

// photoTurnCheck is how often a server looks for photo turns that are due
// without being told (a retry after a failed turn, or one queued while it
// was not listening).
const photoTurnCheck = time.Minute

// turnPhotos turns the photos accepted with an orientation tag upright
// (postgis.Cases.TurnPhotos with photo.Upright) as soon as a step that
// queued one commits on any server, and every photoTurnCheck, until ctx
// ends. One photo at a time: a turn takes a good part of a second of a
// core, and requests come first.
func turnPhotos(ctx context.Context, cases *postgis.Cases, log *slog.Logger) {
	tick := time.NewTicker(photoTurnCheck)
	defer tick.Stop()
	photoTurning{turn: upright, check: tick.C, relisten: time.Second}.run(ctx, cases, log)
}

// photoTurning is how turnPhotos runs: a server's, or a test's under its
// own clock.
type photoTurning struct {
	// turn turns a photo's bytes upright (upright).
	turn func([]byte) ([]byte, error)
	// check asks for a pass without being told (every photoTurnCheck).
	check <-chan time.Time
	// relisten is how long after listening failed it listens again.
	relisten time.Duration
	// passed, if set, is told of every pass when it ends.
	passed func(turned, failed int, err error)
}

// run is turnPhotos: a pass when the store is told of a queued turn (and
// when listening starts, for what was queued before), and when check
// fires, until ctx ends.
func (p photoTurning) run(ctx context.Context, cases *postgis.Cases, log *slog.Logger) {
	wake := make(chan struct{}, 1)
	poke := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	listening := make(chan struct{})
	go func() {
		defer close(listening)
		for {
			err := cases.ListenPhotoTurns(ctx, poke)
			if ctx.Err() != nil {
				return
			}
			log.Warn("photos: listening for turns failed; again in a moment", "error", err, "after", p.relisten)
			select {
			case <-ctx.Done():
				return
			case <-time.After(p.relisten):
			}
		}
	}()
	defer func() { <-listening }()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-p.check:
		}
		turned, failed, err := cases.TurnPhotos(ctx, p.turn)
		if err != nil && ctx.Err() == nil {
			log.Warn("photos: turning photos upright failed", "error", err)
		}
		if turned > 0 || failed > 0 {
			log.Info("photos: turned upright", "turned", turned, "failed", failed)
		}
		if p.passed != nil {
			p.passed(turned, failed, err)
		}
	}
}

// upright is photo.Upright as TurnPhotos calls it.
func upright(b []byte) ([]byte, error) {
	out, _, err := photo.Upright(b)
	return out, err
}
