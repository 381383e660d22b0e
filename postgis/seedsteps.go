package postgis

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
)

// The steps the seeds share: Seed (one county), SeedPrefecture (counties
// under a prefecture grid) and SeedCaseHistory begin alike, and the two
// county seeds write each county alike.

// seedBegin starts a seed in tx: it takes the seeds' lock, lifts the
// statement timeout (the server's bounds a request's statements; a seed is
// one bulk load of thousands of rows per statement, which on a busy
// machine takes longer, and the caller's context bounds it), and asks
// hasDataSQL whether the database already holds what the seed writes. If
// it does, skip is true when ifEmpty is, and otherwise the error is an
// ECONFLICT saying conflict. what names the seed in the other errors.
func seedBegin(ctx context.Context, tx pgx.Tx, what, hasDataSQL string, ifEmpty bool, conflict string) (skip bool, err error) {
	if _, err := tx.Exec(ctx, seedLockSQL); err != nil {
		return false, mapError(fmt.Errorf("postgis: %s: lock: %w", what, err))
	}
	if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
		return false, mapError(fmt.Errorf("postgis: %s: %w", what, err))
	}
	var has bool
	if err := tx.QueryRow(ctx, hasDataSQL).Scan(&has); err != nil {
		return false, mapError(fmt.Errorf("postgis: %s: %w", what, err))
	}
	if !has {
		return false, nil
	}
	if ifEmpty {
		return true, nil
	}
	return false, onemap.Errorf(onemap.ECONFLICT, "%s", conflict)
}

// seedStep is a named step of a seed: the name goes into its log and its
// errors.
type seedStep struct {
	name string
	fn   func() error
}

// countySteps are the steps that write one county's plan d: its grid tree
// (its county grid under the grid parent, when parent is not 0: the
// prefecture's), then its risk points, risk households, cameras and
// stations, which the grids take in as they are written.
func countySteps(ctx context.Context, tx pgx.Tx, d *onemap.Seed, parent int64) []seedStep {
	steps := []seedStep{{"grids", func() error { return seedGrids(ctx, tx, d) }}}
	if parent != 0 {
		steps = append(steps, seedStep{"prefecture", func() error {
			_, err := tx.Exec(ctx, seedUnderPrefectureSQL, parent, onemap.Region{Code: d.RegionCode}.GridCode())
			return err
		}})
	}
	return append(steps,
		seedStep{"risk points", func() error { return seedRiskPoints(ctx, tx, d.RiskPoints) }},
		seedStep{"households", func() error { return seedHouseholds(ctx, tx, d.Households) }},
		seedStep{"cameras", func() error { return seedCameras(ctx, tx, d.Cameras) }},
		seedStep{"stations", func() error { return seedStations(ctx, tx, d.Stations) }},
	)
}

// seedFinish are the steps that end a county seed, once whatever the
// counties: the demo's tags and emergency layers, the check that every
// point fell in a grid, and the count into rep.
func seedFinish(ctx context.Context, tx pgx.Tx, rep *SeedReport) []seedStep {
	return []seedStep{
		{"tags", func() error { return seedTags(ctx, tx) }},
		{"emergency", func() error { return seedEmergency(ctx, tx) }}, // zones.go
		{"check", func() error { return seedCheck(ctx, tx) }},
		{"count", func() error { return seedCount(ctx, tx, rep) }},
	}
}
