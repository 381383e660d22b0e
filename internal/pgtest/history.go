package pgtest

import (
	"context"
	"testing"
	"time"

	"github.com/onemapgis/onemap/demo"
	"github.com/onemapgis/onemap/postgis"
)

// HistoryAsOf is the seed day of DemoHistoryURL's database.
var HistoryAsOf = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// DemoHistoryURL returns the URL of a new database that holds the demo
// county and its two years of cases before HistoryAsOf (demo.Dataset's
// HistoryRows at the default rates), dropped when the test ends. It is a
// template of its own: DemoURL's stays without cases, small and quick to
// copy.
func DemoHistoryURL(tb testing.TB) string {
	tb.Helper()
	return clone(tb, template(tb, "demohist", func(ctx context.Context, db *postgis.DB) error {
		d, err := demo.Wuding()
		if err != nil {
			return err
		}
		d.AsOf = HistoryAsOf
		if _, err := db.Seed(ctx, d.SeedRows, false); err != nil {
			return err
		}
		_, err = db.SeedCaseHistory(ctx, d.HistoryRows(demo.DefaultHistoryRates()), false)
		return err
	}))
}
