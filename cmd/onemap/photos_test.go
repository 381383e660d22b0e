package main

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/internal/phototest"
	"github.com/onemapgis/onemap/internal/testfix"
	"github.com/onemapgis/onemap/photo"
	"github.com/onemapgis/onemap/postgis"
)

// turnPass is what one pass of the loop reported.
type turnPass struct {
	turned, failed int
	err            error
}

// turnPhoto is a JPEG made from seed, as the store keeps a photo accepted.
func turnPhoto(seed byte) onemap.Photo {
	return onemap.NewPhoto(photo.JPEG, phototest.JPEG(phototest.Gradient(64, 48, seed), 85))
}

// queueTurn stores p and queues its turn at time at, notifying at the
// commit, as a step that accepts a photo with an orientation tag does
// (postgis's queuePhotoTurn); it returns the photo's address.
func queueTurn(t *testing.T, conn *pgx.Conn, at time.Time, p onemap.Photo) string {
	t.Helper()
	err := pgx.BeginFunc(t.Context(), conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(t.Context(), `INSERT INTO photo_blobs (sha256, content_type, size, bytes, created_at)
			VALUES ($1, $2, $3, $4, $5)`, p.SHA256, p.ContentType, len(p.Bytes), p.Bytes, at); err != nil {
			return err
		}
		if _, err := tx.Exec(t.Context(), `INSERT INTO photo_turns (sha256, orientation, queued_at, due_at)
			VALUES ($1, 6, $2, $2)`, p.SHA256, at); err != nil {
			return err
		}
		_, err := tx.Exec(t.Context(), `SELECT pg_notify($1, '')`, postgis.PhotoTurnChannel)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return p.SHA256
}

// TestTurnPhotos: the server's loop turns a photo queued before it
// listened at once, one queued while it listens when the commit notifies
// it (no check has fired), retries a failed turn when a check finds it due
// under the store's clock and not before, listens again after its session
// is cut, and stops when its context ends.
func TestTurnPhotos(t *testing.T) {
	url := pgtest.URL(t)
	clk := testfix.NewClock(time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
	cases := postgis.NewCases(pgtest.Open(t, url), clk.Now)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })

	var (
		mu        sync.Mutex
		tried     = map[string]int{} // turns asked of each photo
		failFirst = map[string]bool{}
	)
	turn := func(b []byte) ([]byte, error) {
		sha := onemap.NewPhoto(photo.JPEG, b).SHA256
		mu.Lock()
		tried[sha]++
		fail := failFirst[sha] && tried[sha] == 1
		mu.Unlock()
		if fail {
			return nil, errors.New("photo: JPEG does not decode: bad Huffman code")
		}
		var out bytes.Buffer // the pixels "turned": 48×64, no orientation
		err := jpeg.Encode(&out, phototest.Gradient(48, 64, b[len(b)/2]), nil)
		return out.Bytes(), err
	}
	triedOf := func(sha string) int { mu.Lock(); defer mu.Unlock(); return tried[sha] }
	uprightOf := func(sha string) string {
		t.Helper()
		var up *string
		if err := conn.QueryRow(t.Context(), `SELECT upright_sha256 FROM photo_blobs WHERE sha256 = $1`, sha).Scan(&up); err != nil {
			t.Fatal(err)
		}
		if up == nil {
			return ""
		}
		return *up
	}

	// A photo queued before the loop starts.
	early := queueTurn(t, conn, clk.Now(), turnPhoto(1))

	passes := make(chan turnPass, 64)
	check := make(chan time.Time)
	var logs testfix.SyncBuffer
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		photoTurning{turn: turn, check: check, relisten: 10 * time.Millisecond,
			passed: func(turned, failed int, err error) { passes <- turnPass{turned, failed, err} }}.
			run(ctx, cases, slog.New(slog.NewTextHandler(&logs, nil)))
	}()
	t.Cleanup(func() { stop(); <-done })
	pass := func(what string, turned, failed int) {
		t.Helper()
		select {
		case p := <-passes:
			if p.turned != turned || p.failed != failed || p.err != nil {
				t.Fatalf("%s: a pass turned %d, failed %d (%v); want %d, %d", what, p.turned, p.failed, p.err, turned, failed)
			}
		case <-time.After(time.Minute):
			t.Fatalf("%s: no pass within a minute", what)
		}
	}

	// The first pass comes when the loop listens, so it is listening now.
	pass("the photo queued before the loop listened", 1, 0)
	if uprightOf(early) == "" || triedOf(early) != 1 {
		t.Fatalf("the photo queued first: upright %q, tried %d times", uprightOf(early), triedOf(early))
	}

	// Queued while it listens: the commit's notification wakes it.
	woken := queueTurn(t, conn, clk.Now(), turnPhoto(2))
	pass("the photo queued while the loop listens", 1, 0)
	if uprightOf(woken) == "" {
		t.Fatal("the photo queued while the loop listens is not upright")
	}

	// A turn that fails is tried again when due (a minute later under the
	// store's clock), by a check: nothing notifies a retry.
	failing := turnPhoto(3)
	mu.Lock()
	failFirst[failing.SHA256] = true
	mu.Unlock()
	retried := queueTurn(t, conn, clk.Now(), failing)
	pass("the photo whose first turn fails", 0, 1)
	turns, err := cases.PhotoTurns(t.Context())
	if err != nil || len(turns) != 1 || turns[0].SHA256 != retried || turns[0].Attempts != 1 ||
		!turns[0].DueAt.Equal(clk.Now().Add(time.Minute)) || !strings.Contains(turns[0].LastError, "Huffman") {
		t.Fatalf("after the failed turn: %+v, %v; want it due a minute later", turns, err)
	}
	clk.Add(time.Minute - time.Second)
	check <- clk.Now()
	pass("a check before the retry is due", 0, 0)
	if n := triedOf(retried); n != 1 {
		t.Fatalf("a check before the retry is due tried the photo again (%d tries)", n)
	}
	clk.Add(time.Second)
	check <- clk.Now()
	pass("a check when the retry is due", 1, 0)
	if uprightOf(retried) == "" || triedOf(retried) != 2 {
		t.Fatalf("after the retry: upright %q, tried %d times", uprightOf(retried), triedOf(retried))
	}

	// Its listening session cut (a database restart, a proxy): it listens
	// again (and passes once, for what came meanwhile), and is woken again.
	var cut int
	if err := conn.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN '||$1`, postgis.PhotoTurnChannel).Scan(&cut); err != nil || cut != 1 {
		t.Fatalf("cutting the loop's listening session: %d cut, %v", cut, err)
	}
	pass("listening again", 0, 0)
	if !strings.Contains(logs.String(), "listening for turns failed") {
		t.Errorf("the cut session is not logged: %s", logs.String())
	}
	again := queueTurn(t, conn, clk.Now(), turnPhoto(4))
	pass("the photo queued after listening again", 1, 0)
	if uprightOf(again) == "" {
		t.Fatal("the photo queued after listening again is not upright")
	}
	if turns, err := cases.PhotoTurns(t.Context()); err != nil || len(turns) != 0 {
		t.Errorf("turns left: %+v, %v", turns, err)
	}

	stop()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the loop did not stop within a minute of its context ending")
	}
	select {
	case p := <-passes:
		t.Errorf("a pass after the last photo: %+v", p)
	default:
	}
}
