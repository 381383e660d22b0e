package pgtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/demo"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
)

// The two neighbouring counties of PrefectureURL's database.
const (
	PrefectureCountyA = "532301" // 楚雄市
	PrefectureCountyB = "532302" // 禄丰市
)

// PrefectureURL returns the URL of a new database that holds a demo
// prefecture of two neighbouring counties (PrefectureCountyA and B of
// 楚雄州, synthetic contents at 2% of Wuding's density) under the
// prefecture grid 532300000000, dropped when the test ends.
func PrefectureURL(tb testing.TB) string {
	tb.Helper()
	return clone(tb, template(tb, "prefecture", func(ctx context.Context, db *postgis.DB) error {
		all, err := demo.Chuxiong(0.02)
		if err != nil {
			return err
		}
		p := &demo.Prefecture{Code: all.Code, Name: all.Name}
		for _, code := range []string{PrefectureCountyA, PrefectureCountyB} {
			for _, d := range all.Counties {
				if d.County.Code == code {
					p.Counties = append(p.Counties, d)
				}
			}
		}
		if len(p.Counties) != 2 {
			return fmt.Errorf("pgtest: prefecture: %d of the two counties found", len(p.Counties))
		}
		cut, err := db.CutOutlines(ctx, []orb.MultiPolygon{p.Counties[0].Outline, p.Counties[1].Outline})
		if err != nil {
			return err
		}
		if err := p.Cut(cut); err != nil {
			return err
		}
		_, err = db.SeedPrefecture(ctx, p.Code, p.Name, []func(onemap.SeedKinds) (*onemap.Seed, error){p.Counties[0].SeedRows, p.Counties[1].SeedRows}, false)
		return err
	}))
}
