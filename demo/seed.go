package demo

import (
	"fmt"

	"github.com/onemapgis/onemap"
)

// SeedRows synthesizes the county's plan over the kinds the database knows
// (Synthesize) and returns it as the rows a store seeds: the bulk write of
// postgis.DB.Seed takes it as it is.
func (d *Dataset) SeedRows(k onemap.SeedKinds) (*onemap.Seed, error) {
	p, err := d.Synthesize(k)
	if err != nil {
		return nil, fmt.Errorf("demo dataset %s: %w", d.Name, err)
	}
	d.plan = p // for HistoryRows
	s := &onemap.Seed{Name: d.Name, RegionCode: d.County.Code, RegionName: d.County.Name, Outline: d.Outline,
		Grids:      make([]onemap.SeedGrid, len(p.Grids)),
		RiskPoints: p.RiskPoints, Households: p.Households, Cameras: p.Cameras, Stations: p.Stations,
	}
	for i, g := range p.Grids {
		s.Grids[i] = g.SeedGrid
	}
	return s, nil
}
