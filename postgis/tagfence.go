package postgis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

// Tags across servers and restarts (issue 21 item 4): the geofence states
// the database keeps (migration 0024), and the notifications that carry
// the positions one server takes, and the geofences it changes, to the
// others (ListenTags).

// FenceStates returns every stored geofence state (onemap.FenceState).
func (s *Tags) FenceStates(ctx context.Context) ([]onemap.FenceState, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT geofence_id, tag_id, inside, at FROM tag_fence_states ORDER BY geofence_id, tag_id`)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: fence states: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (onemap.FenceState, error) {
		var st onemap.FenceState
		err := r.Scan(&st.FenceID, &st.TagID, &st.In, &st.At)
		st.At = st.At.UTC()
		return st, err
	})
	return out, mapError(err)
}

// writeCrossings writes geofence crossings in tx, in order, and returns
// the alarms of those written. A crossing is written (its tag's state for
// the fence set to its side, as of its time) only if the stored state is
// the other side and older, or none is stored (a tag with no row has not
// crossed the fence since it was made: the caller's state, taken from its
// positions, holds): so of two servers that see the same crossing, or a
// batch taken again, one writes it and raises its alarm. A crossing of a
// fence removed meanwhile is dropped.
func writeCrossings(ctx context.Context, tx pgx.Tx, crossings []onemap.FenceCrossing) ([]onemap.TagAlarm, error) {
	var alarms []onemap.TagAlarm
	for _, c := range crossings {
		tag, err := tx.Exec(ctx, `INSERT INTO tag_fence_states (geofence_id, tag_id, inside, at)
			SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM geofences WHERE id = $1)
			ON CONFLICT (geofence_id, tag_id) DO UPDATE SET inside = excluded.inside, at = excluded.at
			WHERE tag_fence_states.inside <> excluded.inside AND tag_fence_states.at < excluded.at`,
			c.FenceID, c.TagID, c.In, c.At)
		if err != nil {
			return nil, mapError(fmt.Errorf("postgis: fence state: %w", err))
		}
		if tag.RowsAffected() == 1 && c.Alarm != nil {
			alarms = append(alarms, *c.Alarm)
		}
	}
	return alarms, nil
}

// TagChannel is the channel the database notifies, at the commit of each
// batch of tag positions taken and of each change of the geofences, so
// that every server moves the tags on its live index (ListenTags).
const TagChannel = "onemap_tags"

// tagNoticeMax bounds a notification's payload (PostgreSQL's limit is
// 8,000 bytes): a larger batch of positions goes as several.
const tagNoticeMax = 7800

// newInstance returns a random id of a store: a server skips the
// notifications of its own writes (it applied them already).
func newInstance() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// notifyPositions notifies TagChannel of the positions ps taken for src,
// at tx's commit: "P <instance> <source id>" and a line per position, "<tag
// id> <time, µs since 1970> <lon> <lat>" (floats in their shortest exact
// form), in as many notifications as their size needs.
func (s *Tags) notifyPositions(ctx context.Context, tx pgx.Tx, src int64, ps []onemap.TagPosition) error {
	if len(ps) == 0 {
		return nil
	}
	head := "P " + s.instance + " " + strconv.FormatInt(src, 10)
	var payloads []string
	var b strings.Builder
	b.WriteString(head)
	for _, p := range ps {
		line := "\n" + strconv.FormatInt(p.TagID, 10) + " " + strconv.FormatInt(p.At.UnixMicro(), 10) + " " +
			strconv.FormatFloat(p.Point[0], 'g', -1, 64) + " " + strconv.FormatFloat(p.Point[1], 'g', -1, 64)
		if b.Len()+len(line) > tagNoticeMax {
			payloads = append(payloads, b.String())
			b.Reset()
			b.WriteString(head)
		}
		b.WriteString(line)
	}
	payloads = append(payloads, b.String())
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS u(p, i) ORDER BY i`, TagChannel, payloads); err != nil {
		return mapError(fmt.Errorf("postgis: notify positions: %w", err))
	}
	return nil
}

// notifyFences notifies TagChannel, at tx's commit, that the geofences
// changed: "F <instance>".
func (s *Tags) notifyFences(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, TagChannel, "F "+s.instance); err != nil {
		return mapError(fmt.Errorf("postgis: notify fences: %w", err))
	}
	return nil
}

// TagNotice is what another server wrote: positions taken for a source,
// or (Fences) a change of the geofences.
type TagNotice struct {
	Fences    bool
	Source    int64
	Positions []onemap.TagPosition
}

// parseTagNotice reads a notification of TagChannel; ok is false for one
// of this store's own writes or one not of the form.
func (s *Tags) parseTagNotice(payload string) (n TagNotice, ok bool) {
	lines := strings.Split(payload, "\n")
	head := strings.Fields(lines[0])
	if len(head) < 2 || head[1] == s.instance {
		return n, false
	}
	switch head[0] {
	case "F":
		return TagNotice{Fences: true}, true
	case "P":
		if len(head) != 3 {
			return n, false
		}
		src, err := strconv.ParseInt(head[2], 10, 64)
		if err != nil {
			return n, false
		}
		n.Source = src
		n.Positions = make([]onemap.TagPosition, 0, len(lines)-1)
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			if len(f) != 4 {
				return n, false
			}
			id, e1 := strconv.ParseInt(f[0], 10, 64)
			us, e2 := strconv.ParseInt(f[1], 10, 64)
			lon, e3 := strconv.ParseFloat(f[2], 64)
			lat, e4 := strconv.ParseFloat(f[3], 64)
			if e1 != nil || e2 != nil || e3 != nil || e4 != nil {
				return n, false
			}
			n.Positions = append(n.Positions, onemap.TagPosition{TagID: id, At: time.UnixMicro(us).UTC(), Point: orb.Point{lon, lat}})
		}
		return n, true
	}
	return n, false
}

// ListenTags calls fn with what other servers write of tags (positions
// taken, geofences changed; this store's own writes are skipped), as each
// write commits, until ctx ends or the connection fails; the caller calls
// it again to reconnect. listening (if not nil) is called once the
// connection listens: notifications before are lost, so a caller that
// listens again reloads its live index (last positions, fences and their
// states) then.
func (s *Tags) ListenTags(ctx context.Context, listening func(), fn func(TagNotice)) error {
	conn, err := s.db.pool.Acquire(ctx)
	if err != nil {
		return mapError(fmt.Errorf("postgis: listen tags: %w", err))
	}
	pc := conn.Hijack() // a LISTENing session leaves the pool
	defer pc.Close(context.WithoutCancel(ctx))
	if _, err := pc.Exec(ctx, "LISTEN "+TagChannel); err != nil {
		return mapError(fmt.Errorf("postgis: listen tags: %w", err))
	}
	if listening != nil {
		listening()
	}
	for {
		m, err := pc.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return mapError(fmt.Errorf("postgis: listen tags: %w", err))
		}
		if n, ok := s.parseTagNotice(m.Payload); ok {
			fn(n)
		}
	}
}
