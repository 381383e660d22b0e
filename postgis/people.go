package postgis

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
)

// listPeopleSQL selects the roster by the filter's parameters: $1 the grids
// of the caller's part (NULL: all), $2 the grids whose cadres are added,
// $3 a grid and those below it (NULL: any), $4 a station, $5 roles, $6 a
// name's part, $7 a phone's start, $8 after, $9 limit.
const listPeopleSQL = `WITH RECURSIVE below AS (
    SELECT id FROM grids WHERE id = $3
    UNION ALL SELECT g.id FROM grids g JOIN below b ON g.parent_id = b.id
)
SELECT p.id, p.name, coalesce(p.phone, ''), p.role, p.full_time, coalesce(p.title, ''),
       coalesce(p.grid_id, 0), coalesce(p.station_id, 0), p.synthetic
FROM people p
LEFT JOIN stations s ON s.id = p.station_id
WHERE ($1::bigint[] IS NULL OR coalesce(p.grid_id, s.grid_id) = ANY ($1)
       OR (p.role = 'cadre' AND p.grid_id = ANY ($2::bigint[])))
  AND ($3::bigint IS NULL OR coalesce(p.grid_id, s.grid_id) IN (SELECT id FROM below))
  AND ($4::bigint IS NULL OR p.station_id = $4)
  AND ($5::text[] IS NULL OR p.role = ANY ($5))
  AND ($6::text IS NULL OR strpos(p.name, $6) > 0 OR ($7::text IS NOT NULL AND p.phone LIKE $7 || '%'))
  AND p.id > $8
ORDER BY p.id
LIMIT $9`

// ListPeople returns the people of the roster the filter selects, by id.
func (db *DB) ListPeople(ctx context.Context, f onemap.PeopleFilter) ([]onemap.Person, error) {
	var grids, cadres []int64
	if f.Grids != nil {
		grids = f.Grids
		cadres = f.Cadres
		if cadres == nil {
			cadres = []int64{}
		}
	}
	var roles []string
	for _, r := range f.Roles {
		roles = append(roles, string(r))
	}
	var grid, station, text, phone any
	if f.Grid != 0 {
		grid = f.Grid
	}
	if f.Station != 0 {
		station = f.Station
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		text = t
		if f.PhoneText && strings.Trim(t, "0123456789") == "" && len(t) >= 3 {
			phone = t
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var gridsArg, cadresArg, rolesArg any
	if grids != nil {
		gridsArg, cadresArg = grids, cadres
	}
	if roles != nil {
		rolesArg = roles
	}
	rows, err := db.pool.Query(ctx, listPeopleSQL, gridsArg, cadresArg, grid, station, rolesArg, text, phone, f.After, limit)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: people: %w", err))
	}
	var out []onemap.Person
	var p onemap.Person
	var role string
	_, err = pgx.ForEachRow(rows, []any{&p.ID, &p.Name, &p.Phone, &role, &p.FullTime, &p.Title, &p.GridID, &p.StationID, &p.Synthetic}, func() error {
		p.Role = onemap.PersonRole(role)
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: people: %w", err))
	}
	return out, nil
}

// GridWorkerCounts returns, per grid, how many grid workers of the roster
// are tied to it (not to the grids below it), and how many of those are
// full-time.
func (db *DB) GridWorkerCounts(ctx context.Context) (all, fullTime map[int64]int, err error) {
	rows, err := db.pool.Query(ctx, `SELECT grid_id, count(*), count(*) FILTER (WHERE full_time) FROM people
		WHERE role = 'grid_worker' AND grid_id IS NOT NULL GROUP BY grid_id`)
	if err != nil {
		return nil, nil, mapError(fmt.Errorf("postgis: grid workers: %w", err))
	}
	all, fullTime = map[int64]int{}, map[int64]int{}
	var id int64
	var n, ft int
	_, err = pgx.ForEachRow(rows, []any{&id, &n, &ft}, func() error {
		all[id], fullTime[id] = n, ft
		return nil
	})
	if err != nil {
		return nil, nil, mapError(fmt.Errorf("postgis: grid workers: %w", err))
	}
	return all, fullTime, nil
}

// AuditPeopleRead records, in the audit trail, a read of the roster that
// showed the work phones of the people listed unmasked.
func (db *DB) AuditPeopleRead(ctx context.Context, ids []int64, purpose string) error {
	c := callerOf(ctx)
	return db.inTx(ctx, c.Actor(), purpose, func(tx pgx.Tx) error {
		return appendAudit(ctx, tx, c, onemap.AuditPeopleRead, "people", map[string]any{"people": ids, "count": len(ids)})
	})
}
