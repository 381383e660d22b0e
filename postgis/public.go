package postgis

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

// PublicRole is the database role the public index is read as: it may
// select from the public views (migrations/0006_public.sql) and nothing else.
const PublicRole = "onemap_public"

// LoadPublic reads the public index's data: the kinds of station, the
// stations, the township and village places and the shelters, from the public views only,
// in one read-only transaction that has first become the public role. A
// query of anything but those views would fail with "permission denied".
func (db *DB) LoadPublic(ctx context.Context) (onemap.PublicData, error) {
	return readTx(ctx, db.read, func(begin beginRead) (onemap.PublicData, error) { return db.loadPublic(ctx, begin) })
}

// loadPublic is LoadPublic in the read-only transaction that begin begins.
func (db *DB) loadPublic(ctx context.Context, begin beginRead) (onemap.PublicData, error) {
	var d onemap.PublicData
	tx, err := begin(ctx)
	if err != nil {
		return d, mapError(fmt.Errorf("postgis: load public: %w", err))
	}
	defer tx.Rollback(ctx)
	// SET LOCAL ends with the transaction, so the pooled connection goes
	// back as the server's own user.
	if _, err := tx.Exec(ctx, `SET LOCAL ROLE `+pgx.Identifier{PublicRole}.Sanitize()); err != nil {
		return d, mapError(fmt.Errorf("postgis: load public: become %s: %w", PublicRole, err))
	}

	rows, err := tx.Query(ctx, `SELECT code, name_zh, name_en FROM public_station_kinds ORDER BY code`)
	if err != nil {
		return d, mapError(fmt.Errorf("postgis: load public kinds: %w", err))
	}
	d.Kinds, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (onemap.PublicKind, error) {
		var k onemap.PublicKind
		return k, r.Scan(&k.Code, &k.Name, &k.NameEN)
	})
	if err != nil {
		return d, mapError(fmt.Errorf("postgis: load public kinds: %w", err))
	}

	rows, err = tx.Query(ctx, `SELECT id, kind, level, name, address, phone, opening_hours, services, grid_id, synthetic, lon, lat
		FROM public_stations ORDER BY id`)
	if err != nil {
		return d, mapError(fmt.Errorf("postgis: load public stations: %w", err))
	}
	d.Stations, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (onemap.PublicStation, error) {
		var (
			s                     onemap.PublicStation
			address, phone, hours pgtype.Text
			grid                  pgtype.Int8
			lon, lat              float64
		)
		err := r.Scan(&s.ID, &s.Kind, &s.Level, &s.Name, &address, &phone, &hours, &s.Services, &grid, &s.Synthetic, &lon, &lat)
		s.Address, s.Phone, s.OpeningHours, s.GridID = address.String, phone.String, hours.String, grid.Int64
		s.Point = orb.Point{lon, lat}
		return s, err
	})
	if err != nil {
		return d, mapError(fmt.Errorf("postgis: load public stations: %w", err))
	}

	rows, err = tx.Query(ctx, `SELECT id, code, name, level, parent_id, lon, lat FROM public_places ORDER BY id`)
	if err != nil {
		return d, mapError(fmt.Errorf("postgis: load public places: %w", err))
	}
	d.Places, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (onemap.PublicPlace, error) {
		var (
			p        onemap.PublicPlace
			parent   pgtype.Int8
			lon, lat float64
		)
		err := r.Scan(&p.ID, &p.Code, &p.Name, &p.Level, &parent, &lon, &lat)
		p.ParentID, p.Point = parent.Int64, orb.Point{lon, lat}
		return p, err
	})
	if err != nil {
		return d, mapError(fmt.Errorf("postgis: load public places: %w", err))
	}

	rows, err = tx.Query(ctx, `SELECT id, kind, kind_name, kind_name_en, name, capacity, address, grid_id, synthetic, lon, lat
		FROM public_shelters ORDER BY id`)
	if err != nil {
		return d, mapError(fmt.Errorf("postgis: load public shelters: %w", err))
	}
	d.Shelters, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (onemap.PublicShelter, error) {
		var (
			s        onemap.PublicShelter
			address  pgtype.Text
			grid     pgtype.Int8
			lon, lat float64
		)
		err := r.Scan(&s.ID, &s.Kind, &s.KindName, &s.KindNameEN, &s.Name, &s.Capacity, &address, &grid, &s.Synthetic, &lon, &lat)
		s.Address, s.GridID, s.Point = address.String, grid.Int64, orb.Point{lon, lat}
		return s, err
	})
	if err != nil {
		return d, mapError(fmt.Errorf("postgis: load public shelters: %w", err))
	}
	return d, tx.Commit(ctx)
}
