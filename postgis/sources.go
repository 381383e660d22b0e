package postgis

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
)

// Live is the store of live sources, their events and the alarms they
// raise (migration 0016), with the clock that times the replay window and
// the storm window. Every ingest batch is one transaction (Ingest).
type Live struct {
	storeClock
	db    *DB
	storm time.Duration
}

// NewLive returns the live store of db under the clock now (nil:
// time.Now), grouping alarm storms within storm (0:
// onemap.DefaultStormWindow).
func NewLive(db *DB, now func() time.Time, storm time.Duration) *Live {
	if storm <= 0 {
		storm = onemap.DefaultStormWindow
	}
	return &Live{storeClock: newStoreClock(now), db: db, storm: storm}
}

const sourceColumns = `id, name, kinds, region, created_at, created_by, revoked_at, last_used_at`

func scanSource(row pgx.Row, extra ...any) (onemap.Source, error) {
	var (
		s             onemap.Source
		revoked, used *time.Time
	)
	if err := row.Scan(append([]any{&s.ID, &s.Name, &s.Kinds, &s.Region, &s.CreatedAt, &s.CreatedBy, &revoked, &used}, extra...)...); err != nil {
		return s, mapError(err)
	}
	s.CreatedAt = s.CreatedAt.UTC()
	if revoked != nil {
		s.RevokedAt = revoked.UTC()
	}
	if used != nil {
		s.LastUsedAt = used.UTC()
	}
	return s, nil
}

func sourceTarget(name string) string { return "sources/" + name }

// AddSource adds a source with the verifier of its key
// (onemap.SigningKey). Its region must be the code of a grid; a name taken
// already is an ECONFLICT error.
func (l *Live) AddSource(ctx context.Context, s onemap.Source, verifier []byte) (onemap.Source, error) {
	if err := onemap.CheckSource(s); err != nil {
		return s, err
	}
	if len(verifier) != 32 {
		return s, onemap.Errorf(onemap.EINVALID, "a key's verifier is 32 bytes")
	}
	caller := callerOf(ctx)
	at := l.Now()
	var out onemap.Source
	err := l.db.inTx(ctx, caller.Actor(), "source add", func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM grids WHERE code = $1`, s.Region).Scan(&n); err != nil {
			return mapError(err)
		}
		if n == 0 {
			return onemap.FieldErrorf("region", onemap.EINVALID, "no grid has code %s", s.Region)
		}
		var err error
		out, err = scanSource(tx.QueryRow(ctx, `INSERT INTO ingest_sources (name, verifier, kinds, region, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING `+sourceColumns,
			s.Name, verifier, s.Kinds, s.Region, at, caller.Actor()))
		if onemap.ErrorCode(err) == onemap.ENOTFOUND {
			return onemap.FieldErrorf("name", onemap.ECONFLICT, "a source named %s exists already (revoked or not): choose another name", s.Name)
		}
		if err != nil {
			return err
		}
		return appendAudit(ctx, tx, caller, onemap.AuditSourceAdd, sourceTarget(s.Name), map[string]any{"kinds": s.Kinds, "region": s.Region})
	})
	return out, err
}

// ListSources returns every source, revoked or not, by name, and records
// the listing in the audit trail.
func (l *Live) ListSources(ctx context.Context) ([]onemap.Source, error) {
	caller := callerOf(ctx)
	var out []onemap.Source
	err := l.db.inTx(ctx, caller.Actor(), "source list", func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+sourceColumns+` FROM ingest_sources ORDER BY name`)
		if err != nil {
			return mapError(err)
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (onemap.Source, error) { return scanSource(r) })
		if err != nil {
			return mapError(err)
		}
		return appendAudit(ctx, tx, caller, onemap.AuditSourceList, "sources", map[string]any{"count": len(out)})
	})
	return out, err
}

// RevokeSource revokes a source: its requests are refused from now on. A
// source revoked already is left as it is (ENOTFOUND for no such source).
func (l *Live) RevokeSource(ctx context.Context, name string) (onemap.Source, error) {
	caller := callerOf(ctx)
	at := l.Now()
	var out onemap.Source
	err := l.db.inTx(ctx, caller.Actor(), "source revoke", func(tx pgx.Tx) error {
		var err error
		out, err = scanSource(tx.QueryRow(ctx, `UPDATE ingest_sources SET revoked_at = coalesce(revoked_at, $2) WHERE name = $1
			RETURNING `+sourceColumns, name, at))
		if onemap.ErrorCode(err) == onemap.ENOTFOUND {
			return onemap.Errorf(onemap.ENOTFOUND, "no source named %.70q", name)
		}
		if err != nil {
			return err
		}
		return appendAudit(ctx, tx, caller, onemap.AuditSourceRevoke, sourceTarget(name), nil)
	})
	return out, err
}

// FindSource returns the source named name with its key's verifier.
func (l *Live) FindSource(ctx context.Context, name string) (onemap.Source, []byte, error) {
	var verifier []byte
	s, err := scanSource(l.db.pool.QueryRow(ctx, `SELECT `+sourceColumns+`, verifier FROM ingest_sources WHERE name = $1`, name), &verifier)
	if onemap.ErrorCode(err) == onemap.ENOTFOUND {
		return s, nil, onemap.Errorf(onemap.EUNAUTHORIZED, "no source named %.70q", name)
	}
	return s, verifier, err
}

// UseSignature records a source's signature as used at now, removing the
// source's signatures older than the window; it reports false for a
// signature used before (a replay), on any server.
func (l *Live) UseSignature(ctx context.Context, sourceID int64, sig []byte) (bool, error) {
	at := l.Now()
	fresh := false
	err := l.db.inTx(ctx, "", "", func(tx pgx.Tx) error {
		// Twice the window: a request's timestamp may lie the window on
		// either side of the clock.
		if _, err := tx.Exec(ctx, `DELETE FROM ingest_signatures WHERE source_id = $1 AND seen_at < $2`,
			sourceID, at.Add(-2*onemap.SignatureWindow)); err != nil {
			return mapError(err)
		}
		tag, err := tx.Exec(ctx, `INSERT INTO ingest_signatures (source_id, signature, seen_at) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, sourceID, sig, at)
		if err != nil {
			return mapError(err)
		}
		fresh = tag.RowsAffected() == 1
		return nil
	})
	return fresh, err
}

// ListQuarantine returns the events kept for unknown devices, newest
// first: at most limit, with ids below before (0: from the newest).
func (l *Live) ListQuarantine(ctx context.Context, before int64, limit int) ([]onemap.QuarantinedEvent, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var b *int64
	if before > 0 {
		b = &before
	}
	rows, err := l.db.pool.Query(ctx, `SELECT q.id, s.name, q.event_id, q.kind, q.device_code, q.event_at, q.received_at, q.reason
		FROM ingest_quarantine q JOIN ingest_sources s ON s.id = q.source_id
		WHERE $1::bigint IS NULL OR q.id < $1 ORDER BY q.id DESC LIMIT $2`, b, limit)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (onemap.QuarantinedEvent, error) {
		var q onemap.QuarantinedEvent
		err := r.Scan(&q.ID, &q.Source, &q.EventID, &q.Kind, &q.Device, &q.At, &q.ReceivedAt, &q.Reason)
		q.At, q.ReceivedAt = q.At.UTC(), q.ReceivedAt.UTC()
		return q, err
	})
	return out, mapError(err)
}

// camera is what an ingest needs of a camera.
type camera struct {
	id     int64
	status string
	inArea bool // in the source's region
}

// Ingest applies a batch of events of source src, checked already
// (onemap.CheckIngestEvent), in one transaction, and returns what became
// of each and the alarms it raised or changed. An event whose id the
// source has sent before is a duplicate, applied once only; an event for
// a device no camera has is quarantined. An event about a camera outside
// the source's region is an EFORBIDDEN error, and nothing of the batch is
// written. A camera's status changes (through the cameras layer: history,
// change feed, audit) when a status event says so, or to online at a
// heartbeat.
func (l *Live) Ingest(ctx context.Context, src onemap.Source, events []onemap.IngestEvent) ([]onemap.IngestResult, []*onemap.Alarm, error) {
	at := l.Now()
	caller := onemap.Caller{Name: src.Actor(), Role: "source"}
	if c, ok := onemap.CallerFrom(ctx); ok {
		caller.Client = c.Client
	}
	ctx = onemap.NewContext(ctx, caller)
	results := make([]onemap.IngestResult, len(events))
	var changed []*onemap.Alarm
	err := l.db.inTx(ctx, caller.Actor(), "ingest", func(tx pgx.Tx) error {
		changed = nil
		codes := make([]string, 0, len(events))
		for _, e := range events {
			codes = append(codes, e.Device)
		}
		// The cameras named, and whether each lies in the region: the
		// region's grid or one below it.
		cams := map[string]camera{}
		rows, err := tx.Query(ctx, `WITH RECURSIVE region AS (
				SELECT id FROM grids WHERE code = $2
				UNION SELECT g.id FROM grids g JOIN region r ON g.parent_id = r.id)
			SELECT c.device_code, c.id, c.status, c.grid_id IS NOT NULL AND c.grid_id IN (SELECT id FROM region)
			FROM cameras c WHERE c.device_code = ANY($1)`, codes, src.Region)
		if err != nil {
			return mapError(err)
		}
		for rows.Next() {
			var code string
			var c camera
			if err := rows.Scan(&code, &c.id, &c.status, &c.inArea); err != nil {
				rows.Close()
				return mapError(err)
			}
			cams[code] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return mapError(err)
		}
		for _, e := range events {
			if c, ok := cams[e.Device]; ok && !c.inArea {
				return onemap.FieldErrorf("device", onemap.EFORBIDDEN, "event %.40q: camera %s lies outside source %s's region %s: nothing of the batch was taken",
					e.ID, e.Device, src.Name, src.Region)
			}
		}
		// The storm locks first, in one order: two batches about the same
		// cameras never wait on each other the other way round.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('onemap.alarm'), k) FROM (
				SELECT DISTINCT k FROM unnest($1::int[]) AS k ORDER BY k) s`, stormKeys(events, cams)); err != nil {
			return mapError(err)
		}
		counts := map[string]int{}
		status := map[int64]string{} // the status each camera is to have
		byID := map[int64]*onemap.Alarm{}
		for i, e := range events {
			r := &results[i]
			r.ID = e.ID
			c, known := cams[e.Device]
			var prior onemap.IngestResult
			dup, err := priorEvent(ctx, tx, src.ID, e.ID, &prior)
			if err != nil {
				return err
			}
			if dup {
				*r = prior
				r.ID, r.Outcome = e.ID, onemap.IngestDuplicate
				counts[onemap.IngestDuplicate]++
				continue
			}
			switch {
			case !known:
				r.Outcome, r.Reason = onemap.IngestQuarantined, "no camera has device code "+e.Device
				if err := tx.QueryRow(ctx, `INSERT INTO ingest_quarantine (source_id, event_id, kind, device_code, event_at, received_at, reason)
					VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, src.ID, e.ID, e.Kind, e.Device, e.At, at, r.Reason).Scan(&r.QuarantineID); err != nil {
					return mapError(err)
				}
			case onemap.IsAlarmKind(e.Kind):
				a, err := l.raise(ctx, tx, src, c.id, e, at)
				if err != nil {
					return err
				}
				byID[a.ID] = a
				r.Outcome, r.AlarmID, r.Count, r.CameraID = onemap.IngestTaken, a.ID, a.Count, c.id
			default:
				r.Outcome, r.CameraID = onemap.IngestTaken, c.id
				cur, set := status[c.id]
				if !set {
					cur = c.status
				}
				switch {
				case e.Kind == onemap.EventStatus:
					status[c.id] = e.Status
				case cur == onemap.CameraOffline: // a heartbeat: alive; a fault stays until a status clears it
					status[c.id] = onemap.CameraOnline
				}
				if _, err := tx.Exec(ctx, `INSERT INTO camera_liveness (camera_id, last_at, source_id) VALUES ($1, $2, $3)
					ON CONFLICT (camera_id) DO UPDATE SET last_at = greatest(camera_liveness.last_at, EXCLUDED.last_at), source_id = EXCLUDED.source_id`,
					c.id, at, src.ID); err != nil {
					return mapError(err)
				}
			}
			counts[r.Outcome]++
			outcome := map[string]string{onemap.IngestQuarantined: "quarantined"}[r.Outcome]
			if outcome == "" {
				outcome = map[bool]string{true: "alarm", false: e.Kind}[onemap.IsAlarmKind(e.Kind)]
			}
			if _, err := tx.Exec(ctx, `INSERT INTO ingest_events (source_id, event_id, received_at, outcome, alarm_id, quarantine_id, camera_id)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, src.ID, e.ID, at, outcome, nullGrid(r.AlarmID), nullGrid(r.QuarantineID), nullGrid(r.CameraID)); err != nil {
				return mapError(err)
			}
		}
		// The cameras whose status changes, through the layer (history,
		// change feed, audit); an unchanged status writes nothing.
		// In the order of their ids, as every batch locks them.
		for _, id := range slices.Sorted(maps.Keys(status)) {
			if _, err := tx.Exec(ctx, `UPDATE cameras SET status = $2 WHERE id = $1 AND status <> $2`, id, status[id]); err != nil {
				return mapError(err)
			}
		}
		for _, id := range slices.Sorted(maps.Keys(byID)) {
			changed = append(changed, byID[id])
		}
		if err := notifyAlarms(ctx, tx, slices.Sorted(maps.Keys(byID))); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE ingest_sources SET last_used_at = $2 WHERE id = $1`, src.ID, at); err != nil {
			return mapError(err)
		}
		return appendAudit(ctx, tx, caller, onemap.AuditIngest, sourceTarget(src.Name), map[string]any{
			"events": len(events), "taken": counts[onemap.IngestTaken], "duplicate": counts[onemap.IngestDuplicate],
			"quarantined": counts[onemap.IngestQuarantined]})
	})
	if err != nil {
		return nil, nil, err
	}
	return results, changed, nil
}

// stormKeys returns the storm lock keys of the batch's alarm events about
// known cameras: the camera's id and the kind, folded into 32 bits.
func stormKeys(events []onemap.IngestEvent, cams map[string]camera) []int32 {
	var keys []int32
	for _, e := range events {
		if c, ok := cams[e.Device]; ok && onemap.IsAlarmKind(e.Kind) {
			keys = append(keys, stormKey(c.id, e.Kind))
		}
	}
	return keys
}

func stormKey(camera int64, kind string) int32 {
	i := slices.Index(onemap.AlarmKinds(), kind) // fewer than 16 kinds
	return int32(uint32(camera)*16 + uint32(i))
}

// priorEvent reports whether the source has sent event id before, and if
// so fills what became of it.
func priorEvent(ctx context.Context, tx pgx.Tx, source int64, id string, r *onemap.IngestResult) (bool, error) {
	var alarm, quarantine, cam *int64
	var count *int
	err := tx.QueryRow(ctx, `SELECT e.alarm_id, e.quarantine_id, e.camera_id, a.count FROM ingest_events e
		LEFT JOIN alarms a ON a.id = e.alarm_id WHERE e.source_id = $1 AND e.event_id = $2`, source, id).Scan(&alarm, &quarantine, &cam, &count)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, mapError(fmt.Errorf("postgis: ingest event: %w", err))
	}
	if alarm != nil {
		r.AlarmID = *alarm
	}
	if quarantine != nil {
		r.QuarantineID = *quarantine
	}
	if cam != nil {
		r.CameraID = *cam
	}
	if count != nil {
		r.Count = *count
	}
	return true, nil
}

// MarkSilentCameras turns offline the online cameras last heard from (a
// heartbeat or a status) more than silence ago, through the cameras layer
// (history, change feed, audit, by "system"), and returns how many. A
// camera never heard from through the ingest is left as it is.
func (l *Live) MarkSilentCameras(ctx context.Context, silence time.Duration) (int64, error) {
	before := l.Now().Add(-silence)
	var n int64
	err := l.db.inTx(ctx, "system", "no heartbeat since "+before.Format(time.RFC3339), func(tx pgx.Tx) error {
		// Locked in the order of their ids, as an ingest locks them.
		tag, err := tx.Exec(ctx, `UPDATE cameras SET status = 'offline' WHERE id IN (
				SELECT c.id FROM cameras c JOIN camera_liveness l ON l.camera_id = c.id
				WHERE c.status = 'online' AND l.last_at < $1 ORDER BY c.id FOR UPDATE OF c)`, before)
		if err != nil {
			return mapError(fmt.Errorf("postgis: silent cameras: %w", err))
		}
		n = tag.RowsAffected()
		return nil
	})
	return n, err
}
