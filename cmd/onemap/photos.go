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
			log.Warn("photos: listening for turns failed; again in a second", "error", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
	defer func() { <-listening }()
	tick := time.NewTicker(photoTurnCheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-tick.C:
		}
		turned, failed, err := cases.TurnPhotos(ctx, upright)
		if err != nil && ctx.Err() == nil {
			log.Warn("photos: turning photos upright failed", "error", err)
		}
		if turned > 0 || failed > 0 {
			log.Info("photos: turned upright", "turned", turned, "failed", failed)
		}
	}
}

// upright is photo.Upright as TurnPhotos calls it.
func upright(b []byte) ([]byte, error) {
	out, _, err := photo.Upright(b)
	return out, err
}
