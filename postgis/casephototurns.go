package postgis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/photo"
)

// Turning photos upright after they are accepted (migration 0035). A
// phone's JPEG held upright is stored as package photo's Strip leaves it
// (its orientation tag alone, no other EXIF) and a row of photo_turns,
// written in the step's transaction, asks for its pixels to be turned;
// TurnPhotos does that outside any request, so that a report is accepted
// without decoding or encoding a pixel (issue 16: under a second for three
// 3 MB photos). Each turn is one transaction that holds its row locked: a
// server stopped mid-turn leaves the row and the accepted bytes as they
// were, and the next pass of any server turns them.

// PhotoTurnChannel is the channel the database notifies at the commit of
// a step that queued a photo to be turned (ListenPhotoTurns).
const PhotoTurnChannel = "onemap_photo_turns"

// PhotoTurnTries is how many times a photo's turn is tried before it is
// left as accepted (its orientation tag alone: browsers show it upright).
const PhotoTurnTries = 5

// photoTurnRetry is how long after its try'th failed turn (1…) a photo is
// tried again: a minute, then 10, then an hour, then a day.
func photoTurnRetry(try int) time.Duration {
	switch try {
	case 1:
		return time.Minute
	case 2:
		return 10 * time.Minute
	case 3:
		return time.Hour
	}
	return 24 * time.Hour
}

// queuePhotoTurn asks, in tx, for the photo p just stored to be turned
// upright if it is a JPEG with an orientation (2 to 8), and notifies
// PhotoTurnChannel at the commit.
func queuePhotoTurn(ctx context.Context, tx pgx.Tx, p onemap.Photo, at time.Time) error {
	o := photo.Orientation(p.Bytes)
	if o == 1 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO photo_turns (sha256, orientation, queued_at, due_at) VALUES ($1, $2, $3, $3)
		ON CONFLICT (sha256) DO NOTHING`, p.SHA256, o, at)
	if err == nil {
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, '')`, PhotoTurnChannel)
	}
	if err != nil {
		return mapError(fmt.Errorf("postgis: queue a photo's turn: %w", err))
	}
	return nil
}

// PhotoTurn is a photo's turn that is waiting, as photo_turns holds it.
type PhotoTurn struct {
	SHA256      string // the photo as accepted
	Orientation int
	QueuedAt    time.Time
	DueAt       time.Time // infinity (time.Time's zero) when given up
	Attempts    int
	LastError   string
}

// PhotoTurns returns the turns waiting or given up, the oldest first (from
// the read pool: a standby may be a moment behind).
func (s *Cases) PhotoTurns(ctx context.Context) ([]PhotoTurn, error) {
	rows, err := s.db.read.Query(ctx, `SELECT sha256, orientation, queued_at,
			CASE WHEN due_at = 'infinity' THEN NULL ELSE due_at END, attempts, coalesce(last_error, '')
		FROM photo_turns ORDER BY queued_at, sha256`)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: photo turns: %w", err))
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (PhotoTurn, error) {
		var t PhotoTurn
		var due *time.Time
		err := r.Scan(&t.SHA256, &t.Orientation, &t.QueuedAt, &due, &t.Attempts, &t.LastError)
		t.QueuedAt = t.QueuedAt.UTC()
		if due != nil {
			t.DueAt = due.UTC()
		}
		return t, err
	})
}

// TurnPhotos turns the photos whose turn is due, one at a time, each with
// turn (package photo's Upright, in a server), until none is due or ctx
// ends, and returns how many it turned and how many failed. A turn that
// fails (turn's error: pixels that do not decode) is tried again later
// (photoTurnRetry) and, after PhotoTurnTries, left: the photo stays as
// accepted. Servers may run it at once: each takes the rows no other holds.
// Its error is the store's (or ctx's), not a photo's.
func (s *Cases) TurnPhotos(ctx context.Context, turn func([]byte) ([]byte, error)) (turned, failed int, err error) {
	for {
		done, ok, err := s.turnOne(ctx, turn)
		if err != nil || !done {
			return turned, failed, err
		}
		if ok {
			turned++
		} else {
			failed++
		}
	}
}

// turnOne turns the next due photo, in one transaction: done is false when
// none is due, ok false when turn failed on it.
func (s *Cases) turnOne(ctx context.Context, turn func([]byte) ([]byte, error)) (done, ok bool, err error) {
	tx, err := s.db.pool.Begin(ctx)
	if err != nil {
		return false, false, mapError(fmt.Errorf("postgis: begin: %w", err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	now := s.Now()
	var (
		sha      string
		attempts int
		b        []byte
	)
	err = tx.QueryRow(ctx, `SELECT t.sha256, t.attempts, b.bytes FROM photo_turns t JOIN photo_blobs b USING (sha256)
		WHERE t.due_at <= $1 ORDER BY t.due_at, t.sha256 LIMIT 1 FOR UPDATE OF t SKIP LOCKED`, now).Scan(&sha, &attempts, &b)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, mapError(fmt.Errorf("postgis: next photo turn: %w", err))
	}
	up, terr := turn(b)
	if ctx.Err() != nil {
		return false, false, ctx.Err()
	}
	switch {
	case terr != nil:
	case photo.Detect(up) != photo.JPEG || photo.Orientation(up) != 1:
		terr = errors.New("the turned photo is no JPEG without an orientation")
	case len(up) > onemap.PhotoMaxBytes:
		// Within photo.UprightMaxSide at its quality a photo is far
		// smaller; were it not, the accepted one is kept.
		terr = fmt.Errorf("the turned photo is %d bytes, more than a photo may be", len(up))
	}
	if terr != nil {
		attempts++
		due := "infinity"
		if attempts < PhotoTurnTries {
			due = now.Add(photoTurnRetry(attempts)).Format(time.RFC3339Nano)
		}
		msg := terr.Error()
		if len(msg) > 500 {
			msg = msg[:500]
		}
		_, err = tx.Exec(ctx, `UPDATE photo_turns SET attempts = $2, last_error = $3, due_at = $4::timestamptz WHERE sha256 = $1`,
			sha, attempts, msg, due)
		if err != nil {
			return false, false, mapError(fmt.Errorf("postgis: photo turn failed: %w", err))
		}
		return true, false, mapError(tx.Commit(ctx))
	}
	u := onemap.NewPhoto(photo.JPEG, up)
	batch := &pgx.Batch{}
	batch.Queue(`INSERT INTO photo_blobs (sha256, content_type, size, bytes, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (sha256) DO NOTHING`, u.SHA256, u.ContentType, len(u.Bytes), u.Bytes, now)
	batch.Queue(`UPDATE photo_blobs SET upright_sha256 = $2, bytes = NULL WHERE sha256 = $1`, sha, u.SHA256)
	batch.Queue(`DELETE FROM photo_turns WHERE sha256 = $1`, sha)
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return false, false, mapError(fmt.Errorf("postgis: store a turned photo: %w", err))
	}
	if err := tx.Commit(ctx); err != nil {
		return false, false, mapError(fmt.Errorf("postgis: store a turned photo: %w", err))
	}
	return true, true, nil
}

// ListenPhotoTurns calls wake whenever a step that queued a photo's turn
// commits, on any server, until ctx ends or the connection fails (the
// caller calls it again; a turn queued meanwhile is found by the caller's
// next pass of TurnPhotos).
func (s *Cases) ListenPhotoTurns(ctx context.Context, wake func()) error {
	conn, err := s.db.pool.Acquire(ctx)
	if err != nil {
		return mapError(fmt.Errorf("postgis: listen for photo turns: %w", err))
	}
	pc := conn.Hijack() // a LISTENing session leaves the pool
	defer pc.Close(context.WithoutCancel(ctx))
	if _, err := pc.Exec(ctx, "LISTEN "+PhotoTurnChannel); err != nil {
		return mapError(fmt.Errorf("postgis: listen for photo turns: %w", err))
	}
	wake() // what was queued before this listened
	for {
		if _, err := pc.WaitForNotification(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return mapError(fmt.Errorf("postgis: listen for photo turns: %w", err))
		}
		wake()
	}
}
