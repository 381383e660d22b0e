package postgis

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
)

// PruneAlarms removes what the live side keeps past its retention, as of
// the store's clock: alarms whose last event came more than r.Keep ago,
// with their ingest events, the ingest events and quarantined events
// received more than r.Keep ago, and the snapshot references of alarms
// whose first event came more than r.SnapshotKeep ago (the alarm stays,
// without its reference). It is one transaction, recorded in the audit
// trail (alarm.prune, by "system") when it removed anything. A period of
// zero or less keeps that part forever.
func (l *Live) PruneAlarms(ctx context.Context, r onemap.AlarmRetention) (onemap.PruneReport, error) {
	now := l.Now()
	var rep onemap.PruneReport
	caller := onemap.Caller{Name: "system", Role: "system", Client: "retention"}
	ctx = onemap.NewContext(ctx, caller)
	err := l.db.inTx(ctx, caller.Actor(), "alarm retention", func(tx pgx.Tx) error {
		rep = onemap.PruneReport{}
		if r.SnapshotKeep > 0 {
			tag, err := tx.Exec(ctx, `UPDATE alarms SET snapshot_ref = '' WHERE snapshot_ref <> '' AND first_at < $1`, now.Add(-r.SnapshotKeep))
			if err != nil {
				return mapError(fmt.Errorf("postgis: prune snapshot references: %w", err))
			}
			rep.SnapshotRefs = tag.RowsAffected()
		}
		if r.Keep > 0 {
			before := now.Add(-r.Keep)
			tag, err := tx.Exec(ctx, `DELETE FROM ingest_events WHERE received_at < $1
				OR alarm_id IN (SELECT id FROM alarms WHERE last_at < $1)`, before)
			if err != nil {
				return mapError(fmt.Errorf("postgis: prune ingest events: %w", err))
			}
			rep.Events = tag.RowsAffected()
			tag, err = tx.Exec(ctx, `DELETE FROM ingest_quarantine q WHERE q.received_at < $1
				AND NOT EXISTS (SELECT 1 FROM ingest_events e WHERE e.quarantine_id = q.id)`, before)
			if err != nil {
				return mapError(fmt.Errorf("postgis: prune quarantine: %w", err))
			}
			rep.Quarantined = tag.RowsAffected()
			tag, err = tx.Exec(ctx, `DELETE FROM alarms WHERE last_at < $1`, before)
			if err != nil {
				return mapError(fmt.Errorf("postgis: prune alarms: %w", err))
			}
			rep.Alarms = tag.RowsAffected()
		}
		if rep == (onemap.PruneReport{}) {
			return nil
		}
		return appendAudit(ctx, tx, caller, onemap.AuditAlarmPrune, "alarms", map[string]any{
			"alarms": rep.Alarms, "events": rep.Events, "quarantined": rep.Quarantined, "snapshot_refs": rep.SnapshotRefs,
			"keep": r.Keep.String(), "snapshot_keep": r.SnapshotKeep.String(), "as_of": now.Format(time.RFC3339)})
	})
	return rep, err
}

// FindCameraStream returns camera id with its link to the video platform
// (an empty URL where camera_streams has none).
func (l *Live) FindCameraStream(ctx context.Context, id int64) (onemap.CameraStream, error) {
	var s onemap.CameraStream
	err := l.db.pool.QueryRow(ctx, `SELECT c.id, c.name, c.device_code, coalesce(c.grid_id, 0), coalesce(s.platform, ''),
			coalesce(s.stream_url, ''), coalesce(s.channel, '')
		FROM cameras c LEFT JOIN camera_streams s ON s.camera_id = c.id WHERE c.id = $1`, id).
		Scan(&s.CameraID, &s.Name, &s.DeviceCode, &s.GridID, &s.Platform, &s.URL, &s.Channel)
	if err != nil {
		err = mapError(err)
		if onemap.ErrorCode(err) == onemap.ENOTFOUND {
			return s, onemap.Errorf(onemap.ENOTFOUND, "no camera %d", id)
		}
		return s, err
	}
	return s, nil
}
