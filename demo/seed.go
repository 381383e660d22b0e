package demo

import (
	"fmt"

	"github.com/onemapgis/onemap"
)

// SeedRows synthesizes the county's plan over the kinds the database knows
// (Synthesize) and returns it as the rows a store seeds: the bulk write of
// postgis.DB.Seed takes it as it is.
func (d *Dataset) SeedRows(k onemap.SeedKinds) (*onemap.Seed, error) {
	var kinds Kinds
	conv := func(ks []onemap.SeedKind) []Kind {
		out := make([]Kind, len(ks))
		for i, k := range ks {
			out[i] = Kind{Code: k.Code, Name: k.Name}
		}
		return out
	}
	kinds.RiskPoints, kinds.Households, kinds.Cameras = conv(k.RiskPoints), conv(k.Households), conv(k.Cameras)
	kinds.Situations, kinds.Categories, kinds.Rules = conv(k.Situations), conv(k.Categories), k.Rules
	p, err := d.Synthesize(kinds)
	if err != nil {
		return nil, fmt.Errorf("demo dataset %s: %w", d.Name, err)
	}
	d.plan = p // for HistoryRows
	s := &onemap.Seed{Name: d.Name, RegionCode: d.County.Code, RegionName: d.County.Name, Outline: d.Outline,
		Grids:      make([]onemap.SeedGrid, len(p.Grids)),
		RiskPoints: make([]onemap.SeedRiskPoint, len(p.RiskPoints)),
		Households: make([]onemap.SeedHousehold, len(p.Households)),
		Cameras:    make([]onemap.SeedCamera, len(p.Cameras)),
		Stations:   make([]onemap.SeedStation, len(p.Stations)),
	}
	for i, g := range p.Grids {
		s.Grids[i] = onemap.SeedGrid{Level: g.Level, Code: g.Code, ParentCode: g.ParentCode, Name: g.Name, Site: g.Site,
			WorkerName: g.WorkerName, WorkerPhone: g.WorkerPhone, Households: g.Households, Population: g.Population}
	}
	for i, r := range p.RiskPoints {
		s.RiskPoints[i] = onemap.SeedRiskPoint(r)
	}
	for i, h := range p.Households {
		s.Households[i] = onemap.SeedHousehold(h)
	}
	for i, c := range p.Cameras {
		s.Cameras[i] = onemap.SeedCamera(c)
	}
	for i, st := range p.Stations {
		s.Stations[i] = onemap.SeedStation(st)
	}
	return s, nil
}
