package postgis

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

// SimulationTargets returns what the simulator drives: every camera, by
// device code, each marked if it lies in one of the townships named
// pilots; and, where the table tags exists (the tags' migration), every
// tag with its home. Without the table, tags is empty.
func (l *Live) SimulationTargets(ctx context.Context, pilots []string) ([]onemap.SimCamera, []onemap.SimTag, error) {
	rows, err := l.db.pool.Query(ctx, `WITH RECURSIVE pilot AS (
			SELECT id FROM grids WHERE level = 'township' AND name = ANY($1)
			UNION SELECT g.id FROM grids g JOIN pilot p ON g.parent_id = p.id)
		SELECT c.device_code, c.grid_id IS NOT NULL AND c.grid_id IN (SELECT id FROM pilot) FROM cameras c ORDER BY c.device_code`, pilots)
	if err != nil {
		return nil, nil, mapError(fmt.Errorf("postgis: simulation cameras: %w", err))
	}
	cams, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (onemap.SimCamera, error) {
		var c onemap.SimCamera
		return c, r.Scan(&c.DeviceCode, &c.Pilot)
	})
	if err != nil {
		return nil, nil, mapError(fmt.Errorf("postgis: simulation cameras: %w", err))
	}
	var exists bool
	if err := l.db.pool.QueryRow(ctx, `SELECT to_regclass('tags') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, nil, mapError(err)
	}
	if !exists {
		return cams, nil, nil
	}
	// The table is the tags' (a migration of theirs); its name and columns
	// are fixed by their contract: code, home geometry(Point, 4326).
	rows, err = l.db.pool.Query(ctx, `SELECT code, ST_X(home), ST_Y(home) FROM tags ORDER BY code`)
	if err != nil {
		return nil, nil, mapError(fmt.Errorf("postgis: simulation tags: %w", err))
	}
	tags, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (onemap.SimTag, error) {
		var t onemap.SimTag
		var x, y float64
		err := r.Scan(&t.Code, &x, &y)
		t.Home = orb.Point{x, y}
		return t, err
	})
	return cams, tags, mapError(err)
}

// RekeySource gives source name a new key's verifier and the kinds given,
// recorded in the audit trail (source.rekey), and returns it; it adds the
// source (in region) if there is none. A revoked source stays revoked and
// is an EFORBIDDEN error: whoever revoked it decides. It is for the
// simulator, whose key lives only as long as its process.
func (l *Live) RekeySource(ctx context.Context, s onemap.Source, verifier []byte) (onemap.Source, error) {
	if err := onemap.CheckSource(s); err != nil {
		return s, err
	}
	if len(verifier) != 32 {
		return s, onemap.Errorf(onemap.EINVALID, "a key's verifier is 32 bytes")
	}
	caller := callerOf(ctx)
	var out onemap.Source
	var revoked bool
	err := l.db.inTx(ctx, caller.Actor(), "source rekey", func(tx pgx.Tx) error {
		var err error
		out, err = scanSource(tx.QueryRow(ctx, `UPDATE ingest_sources SET verifier = $2, kinds = $3 WHERE name = $1 AND revoked_at IS NULL
			RETURNING `+sourceColumns, s.Name, verifier, s.Kinds))
		if onemap.ErrorCode(err) == onemap.ENOTFOUND {
			if err := tx.QueryRow(ctx, `SELECT revoked_at IS NOT NULL FROM ingest_sources WHERE name = $1`, s.Name).Scan(&revoked); err == nil {
				return onemap.Errorf(onemap.EFORBIDDEN, "source %s was revoked: add the simulator under another name", s.Name)
			}
			return errNoSource
		}
		if err != nil {
			return err
		}
		return appendAudit(ctx, tx, caller, onemap.AuditSourceRekey, sourceTarget(s.Name), map[string]any{"kinds": s.Kinds})
	})
	if err == errNoSource {
		return l.AddSource(ctx, s, verifier)
	}
	return out, err
}

var errNoSource = onemap.Errorf(onemap.ENOTFOUND, "no such source")
