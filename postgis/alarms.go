package postgis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

const alarmColumns = `a.id, a.kind, a.severity, coalesce(a.camera_id, 0), coalesce(c.name, ''), coalesce(c.device_code, ''), coalesce(a.grid_id, 0), ST_X(a.geom), ST_Y(a.geom),
	s.name, a.status, a.count, a.event_at, a.first_at, a.last_at, a.description, a.watchlist, a.snapshot_ref,
	coalesce(a.acked_by, ''), a.acked_at, coalesce(a.dismissed_by, ''), a.dismissed_at, coalesce(a.dismiss_reason, ''),
	coalesce(a.case_id, 0), a.version, a.updated_at, coalesce(a.tag_id, 0), coalesce(t.code, ''), coalesce(a.geofence_id, 0)`

// alarmFrom joins an alarm's camera or, for a tag's alarm (migration
// 0021), its tag.
const alarmFrom = ` FROM alarms a LEFT JOIN cameras c ON c.id = a.camera_id LEFT JOIN tags t ON t.id = a.tag_id
	JOIN ingest_sources s ON s.id = a.source_id`

func scanAlarm(row pgx.Row) (*onemap.Alarm, error) {
	var (
		a                   onemap.Alarm
		lon, lat            float64
		status              string
		acked, dismissed    *time.Time
		severity            int16
		eventAt, first, lst time.Time
	)
	err := row.Scan(&a.ID, &a.Kind, &severity, &a.CameraID, &a.CameraName, &a.DeviceCode, &a.GridID, &lon, &lat,
		&a.Source, &status, &a.Count, &eventAt, &first, &lst, &a.Description, &a.Watchlist, &a.Snapshot,
		&a.AckedBy, &acked, &a.DismissedBy, &dismissed, &a.DismissReason, &a.CaseID, &a.Version, &a.UpdatedAt,
		&a.TagID, &a.Tag, &a.GeofenceID)
	if err != nil {
		return nil, mapError(err)
	}
	a.Severity, a.Status, a.Point = int(severity), onemap.AlarmStatus(status), orb.Point{lon, lat}
	a.EventAt, a.FirstAt, a.LastAt, a.UpdatedAt = eventAt.UTC(), first.UTC(), lst.UTC(), a.UpdatedAt.UTC()
	if acked != nil {
		a.AckedAt = acked.UTC()
	}
	if dismissed != nil {
		a.DismissedAt = dismissed.UTC()
	}
	return &a, nil
}

func alarmTarget(id int64) string { return "alarms/" + strconv.FormatInt(id, 10) }

// FindAlarm returns alarm id.
func (l *Live) FindAlarm(ctx context.Context, id int64) (*onemap.Alarm, error) {
	a, err := scanAlarm(l.db.pool.QueryRow(ctx, `SELECT `+alarmColumns+alarmFrom+` WHERE a.id = $1`, id))
	if onemap.ErrorCode(err) == onemap.ENOTFOUND {
		return nil, onemap.Errorf(onemap.ENOTFOUND, "no alarm %d", id)
	}
	return a, err
}

// ListAlarms returns the alarms f selects, newest first.
func (l *Live) ListAlarms(ctx context.Context, f onemap.AlarmFilter) ([]*onemap.Alarm, error) {
	if f.Limit <= 0 {
		f.Limit = onemap.AlarmListDefault
	}
	f.Limit = min(f.Limit, onemap.AlarmListMax)
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if len(f.Statuses) > 0 {
		st := make([]string, len(f.Statuses))
		for i, s := range f.Statuses {
			st[i] = string(s)
		}
		where = append(where, "a.status = ANY("+arg(st)+")")
	}
	if f.Kind != "" {
		where = append(where, "a.kind = "+arg(f.Kind))
	}
	if f.CameraID > 0 {
		where = append(where, "a.camera_id = "+arg(f.CameraID))
	}
	if f.Before > 0 {
		where = append(where, "a.id < "+arg(f.Before))
	}
	q := `SELECT ` + alarmColumns + alarmFrom
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY a.id DESC LIMIT " + arg(f.Limit)
	rows, err := l.db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*onemap.Alarm, error) { return scanAlarm(r) })
	return out, mapError(err)
}

// StepAlarm acknowledges or dismisses (with reason) alarm id as the caller
// ctx carries, with its audit record, and returns the alarm after it. A
// step its status does not allow is an EINVALID error naming the field.
func (l *Live) StepAlarm(ctx context.Context, id int64, step, reason string) (*onemap.Alarm, error) {
	if step != onemap.AlarmAck && step != onemap.AlarmDismiss {
		return nil, onemap.FieldErrorf("action", onemap.EINVALID, "unknown alarm step %.40q (want ack or dismiss)", step)
	}
	caller := callerOf(ctx)
	at := l.Now()
	var out *onemap.Alarm
	err := l.db.inTx(ctx, caller.Actor(), "alarm "+step, func(tx pgx.Tx) error {
		cur, err := lockAlarm(ctx, tx, id)
		if err != nil {
			return err
		}
		reason = strings.TrimSpace(reason)
		if err := onemap.CheckAlarmStep(cur, step, reason); err != nil {
			return err
		}
		action := onemap.AuditAlarmAck
		if step == onemap.AlarmAck {
			_, err = tx.Exec(ctx, `UPDATE alarms SET status = 'acknowledged', acked_by = $2, acked_at = $3, version = version + 1, updated_at = $3
				WHERE id = $1`, id, caller.Actor(), at)
		} else {
			action = onemap.AuditAlarmDismiss
			_, err = tx.Exec(ctx, `UPDATE alarms SET status = 'dismissed', dismissed_by = $2, dismissed_at = $3, dismiss_reason = $4,
				version = version + 1, updated_at = $3 WHERE id = $1`, id, caller.Actor(), at, reason)
		}
		if err != nil {
			return mapError(err)
		}
		if out, err = scanAlarm(tx.QueryRow(ctx, `SELECT `+alarmColumns+alarmFrom+` WHERE a.id = $1`, id)); err != nil {
			return err
		}
		if err := notifyAlarms(ctx, tx, []int64{id}); err != nil {
			return err
		}
		detail := map[string]any{"kind": cur.Kind, "camera_id": cur.CameraID, "version": out.Version}
		if reason != "" {
			detail["reason"] = reason
		}
		return appendAudit(ctx, tx, caller, action, alarmTarget(id), detail)
	})
	return out, err
}

func lockAlarm(ctx context.Context, tx pgx.Tx, id int64) (*onemap.Alarm, error) {
	a, err := scanAlarm(tx.QueryRow(ctx, `SELECT `+alarmColumns+alarmFrom+` WHERE a.id = $1 FOR UPDATE OF a`, id))
	if onemap.ErrorCode(err) == onemap.ENOTFOUND {
		return nil, onemap.Errorf(onemap.ENOTFOUND, "no alarm %d", id)
	}
	return a, err
}

// CaseFromAlarm turns open alarm id into a case: it holds the alarm while
// create (the case store's CreateCase, with source machine) files the
// case, then links the case to it (status cased) with its audit record.
// The case is filed in a transaction of its own: should linking fail after
// it (the database lost), the case stands and names the alarm in its
// description, and the alarm stays open.
func (l *Live) CaseFromAlarm(ctx context.Context, id int64, create func(ctx context.Context, a *onemap.Alarm) (*onemap.Case, error)) (*onemap.Alarm, *onemap.Case, error) {
	caller := callerOf(ctx)
	at := l.Now()
	var (
		out  *onemap.Alarm
		kase *onemap.Case
	)
	err := l.db.inTx(ctx, caller.Actor(), "alarm case", func(tx pgx.Tx) error {
		cur, err := lockAlarm(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := onemap.CheckAlarmStep(cur, onemap.AlarmCase, ""); err != nil {
			return err
		}
		if kase, err = create(ctx, cur); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE alarms SET status = 'cased', case_id = $2, version = version + 1, updated_at = $3 WHERE id = $1`,
			id, kase.ID, at); err != nil {
			return mapError(err)
		}
		if out, err = scanAlarm(tx.QueryRow(ctx, `SELECT `+alarmColumns+alarmFrom+` WHERE a.id = $1`, id)); err != nil {
			return err
		}
		if err := notifyAlarms(ctx, tx, []int64{id}); err != nil {
			return err
		}
		return appendAudit(ctx, tx, caller, onemap.AuditAlarmCase, alarmTarget(id), map[string]any{"kind": cur.Kind,
			"camera_id": cur.CameraID, "case_id": kase.ID, "version": out.Version})
	})
	if err != nil {
		return nil, nil, err
	}
	return out, kase, nil
}

// AlarmChannel is the channel the database notifies, at the commit of
// each write of alarms, with the ids written (comma-separated), so that
// every server shows them on its event streams (ListenAlarms).
const AlarmChannel = "onemap_alarms"

// notifyAlarms notifies AlarmChannel of the alarms ids at tx's commit.
func notifyAlarms(ctx context.Context, tx pgx.Tx, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, AlarmChannel, strings.Join(parts, ",")); err != nil {
		return mapError(fmt.Errorf("postgis: notify alarms: %w", err))
	}
	return nil
}

// ListenAlarms calls fn with the alarms written by any server (this one
// too), as each write commits, until ctx ends or the connection fails; the
// caller calls it again to reconnect (notifications while it was not
// listening are lost: a client reloads GET /api/alarms when its stream
// reconnects).
func (l *Live) ListenAlarms(ctx context.Context, fn func([]*onemap.Alarm)) error {
	conn, err := l.db.pool.Acquire(ctx)
	if err != nil {
		return mapError(fmt.Errorf("postgis: listen alarms: %w", err))
	}
	pc := conn.Hijack() // a LISTENing session leaves the pool
	defer pc.Close(context.WithoutCancel(ctx))
	if _, err := pc.Exec(ctx, "LISTEN "+AlarmChannel); err != nil {
		return mapError(fmt.Errorf("postgis: listen alarms: %w", err))
	}
	for {
		n, err := pc.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return mapError(fmt.Errorf("postgis: listen alarms: %w", err))
		}
		var ids []int64
		for _, p := range strings.Split(n.Payload, ",") {
			if id, err := strconv.ParseInt(p, 10, 64); err == nil {
				ids = append(ids, id)
			}
		}
		rows, err := l.db.pool.Query(ctx, `SELECT `+alarmColumns+alarmFrom+` WHERE a.id = ANY($1) ORDER BY a.id`, ids)
		if err != nil {
			return mapError(fmt.Errorf("postgis: listen alarms: %w", err))
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*onemap.Alarm, error) { return scanAlarm(r) })
		if err != nil {
			return mapError(fmt.Errorf("postgis: listen alarms: %w", err))
		}
		fn(list)
	}
}
