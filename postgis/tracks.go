package postgis

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Tracks at scale (issue 21; migration 0029). A track of a tag over a
// period, and where it was at a time, read the primary key (tag_id, at)
// INCLUDE (lon, lat) of one or two day partitions alone: an index-only
// scan, which needs the partition's pages marked all-visible by a vacuum.
// Autovacuum does so as a partition grows (by its insert threshold), but
// the last part of a day, written after its last autovacuum, would stay
// unmarked and cost a heap page per position: so each day's partition is
// vacuumed once after its day has closed (vacuumClosedDays, from the
// retention job).

// vacuumClosedDays vacuums (and analyzes) each of the server's day
// partitions of tag_positions whose day ended before now and that no
// vacuum has visited since (pg_stat_user_tables), and returns their
// names. The partitions are the catalogue's, named as partitionName
// makes them; VACUUM runs outside a transaction, one partition at a time.
func (s *Tags) vacuumClosedDays(ctx context.Context, now time.Time) ([]string, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT c.relname, greatest(st.last_vacuum, st.last_autovacuum)
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid LEFT JOIN pg_stat_user_tables st ON st.relid = c.oid
		WHERE i.inhparent = 'tag_positions'::regclass ORDER BY c.relname`)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: tag partitions: %w", err))
	}
	type part struct {
		name string
		last *time.Time
	}
	parts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (part, error) {
		var p part
		err := r.Scan(&p.name, &p.last)
		return p, err
	})
	if err != nil {
		return nil, mapError(err)
	}
	var done []string
	for _, p := range parts {
		day, err := time.Parse("20060102", strings.TrimPrefix(p.name, "tag_positions_p"))
		if err != nil || partitionName(day) != p.name {
			continue // not one of the server's
		}
		end := day.Add(24 * time.Hour)
		if end.After(now) || (p.last != nil && !p.last.Before(end)) {
			continue // open still, or vacuumed since it closed
		}
		// The name is the catalogue's, of the server's own form.
		if _, err := s.db.pool.Exec(ctx, `VACUUM (ANALYZE) `+pgx.Identifier{p.name}.Sanitize()); err != nil {
			return done, mapError(fmt.Errorf("postgis: vacuum %s: %w", p.name, err))
		}
		done = append(done, p.name)
	}
	return done, nil
}
