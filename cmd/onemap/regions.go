package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/demo"
	"github.com/onemapgis/onemap/postgis"
	"github.com/paulmach/orb"
)

// seedPrefectureDemo loads the demo prefecture (楚雄州: Wuding as the demo
// county has it, and the other nine counties with synthetic contents made
// to Wuding's density times scale) under its province (云南省, its outline
// the prefecture's as a stand-in) as of the day asOf, and Wuding's
// history of cases before that day if history is set.
func seedPrefectureDemo(ctx context.Context, db *postgis.DB, ifEmpty bool, asOf time.Time, history bool, scale float64, log *slog.Logger) error {
	p, err := demo.Chuxiong(scale)
	if err != nil {
		return err
	}
	outlines := make([]orb.MultiPolygon, len(p.Counties))
	for i, d := range p.Counties {
		outlines[i] = d.Outline
	}
	cut, err := db.CutOutlines(ctx, outlines)
	if err != nil {
		return fmt.Errorf("seed demo --prefecture: %w", err)
	}
	if err := p.Cut(cut); err != nil {
		return fmt.Errorf("seed demo --prefecture: %w", err)
	}
	plans := make([]func(onemap.SeedKinds) (*onemap.Seed, error), len(p.Counties))
	for i, d := range p.Counties {
		d.AsOf = asOf
		plans[i] = d.SeedRows
	}
	rep, err := db.SeedPrefecture(ctx, p.Code, p.Name, plans, ifEmpty)
	if err != nil {
		return fmt.Errorf("seed demo --prefecture: %w", err)
	}
	if rep.Skipped {
		log.Info("demo prefecture not seeded: the database already holds data")
		return nil
	}
	// The province above it, its outline the prefecture's as a stand-in
	// (demo/province.go): the region tree's top level.
	prov := demo.Yunnan()
	if _, err := db.SeedProvince(ctx, prov.Code, prov.Name, p.Code, prov.Outline); err != nil {
		return fmt.Errorf("seed demo --prefecture: province: %w", err)
	}
	if history {
		wuding := p.Counties[0]
		if _, err := db.SeedCaseHistory(ctx, wuding.HistoryRows(demo.DefaultHistoryRates()), ifEmpty); err != nil {
			return fmt.Errorf("seed demo history: %w", err)
		}
	}
	return nil
}
