package postgis

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// SeedReport says what Seed did.
type SeedReport struct {
	// Skipped is true when the database already held data and Seed was
	// asked to seed an empty one only: nothing was written.
	Skipped bool
	// Grids counts the grids written, by level.
	Grids map[string]int
	// RiskPoints, Households, Cameras and Stations count the features
	// written to those layers.
	RiskPoints, Households, Cameras, Stations int
	// Took is how long the seed took.
	Took time.Duration
}

// seedActor is who seeds, as the history records it (with the reason code
// onemap.ReasonSeed).
const seedActor = "seed"

// seedLevelCounty is the top grid level of a seed; the levels below it are
// written in the order township, village, group.
const seedLevelCounty = "county"

// seedRegionMargin is how far (degrees) the region's envelope reaches beyond
// the county's bounding box.
const seedRegionMargin = 0.05

// seedMaxEdge is the longest straight edge (degrees, about 200 m) that the
// cut between two grids may have.
const seedMaxEdge = 0.002

// seedServicesSep joins a station's services into one text for the unnest
// arrays (a text[][] must be rectangular); no service name holds it.
const seedServicesSep = "\x1f"

const (
	seedLockSQL = `SELECT pg_advisory_xact_lock(hashtext('onemap.seed'))`

	seedHasDataSQL = `SELECT EXISTS (SELECT 1 FROM grids) OR EXISTS (SELECT 1 FROM risk_points)
	OR EXISTS (SELECT 1 FROM households) OR EXISTS (SELECT 1 FROM cameras) OR EXISTS (SELECT 1 FROM stations)`

	seedKindsSQL = `SELECT 'risk_points', code, name_zh FROM risk_point_kinds
	UNION ALL SELECT 'households', code, name_zh FROM household_kinds
	UNION ALL SELECT 'cameras', code, name_zh FROM camera_kinds
	ORDER BY 1, 2`

	seedRegionSQL = `UPDATE region SET code = $1, name = $2,
	envelope = ST_Expand(ST_Envelope(ST_GeomFromWKB($3, 4326)), $4)`

	seedCountySQL = `INSERT INTO grids (level, code, name, worker_name, worker_phone, households, population, synthetic, geom)
	VALUES ($1, $2, $3, $4, $5, $6, $7, true, ST_Multi(ST_GeomFromWKB($8, 4326)))`

	// seedCellsSQL writes one level of grids below the county: each grid
	// is its parent's Voronoi cell of its site, clipped to the parent. A
	// parent with one child passes its whole geometry on. The cells'
	// straight edges are split every $11 degrees, so that a long boundary
	// keeps its course in other projections than lon/lat (and on the
	// sphere) and where the children's vertices split it.
	seedCellsSQL = `WITH s AS (
	SELECT u.ord, u.code, u.parent_code, u.name, u.worker_name, u.worker_phone, u.households, u.population,
	       ST_SetSRID(ST_MakePoint(u.x, u.y), 4326) AS site
	FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::int[], $9::float8[], $10::float8[])
	     WITH ORDINALITY AS u(code, parent_code, name, worker_name, worker_phone, households, population, x, y, ord)
), parent AS (
	SELECT g.id, g.code, g.geom, (SELECT count(*) FROM s WHERE s.parent_code = g.code) AS n
	FROM grids g
	WHERE g.code IN (SELECT parent_code FROM s)
), cell AS (
	SELECT p.id AS parent_id, d.geom
	FROM parent p,
	     LATERAL (SELECT ST_VoronoiPolygons(ST_Collect(s.site ORDER BY s.ord), 0, ST_Expand(p.geom, 0.1)) AS v
	              FROM s WHERE s.parent_code = p.code) vor,
	     LATERAL ST_Dump(vor.v) d
	WHERE p.n > 1
)
INSERT INTO grids (level, parent_id, code, name, worker_name, worker_phone, households, population, synthetic, geom)
SELECT $1, p.id, s.code, s.name, s.worker_name, s.worker_phone, s.households, s.population, true,
       CASE WHEN p.n = 1 THEN p.geom
            ELSE ST_Multi(ST_CollectionExtract(ST_Intersection(ST_Segmentize(c.geom, $11), p.geom), 3)) END
FROM s
JOIN parent p ON p.code = s.parent_code
LEFT JOIN cell c ON c.parent_id = p.id AND ST_Contains(c.geom, s.site)
ORDER BY s.ord`

	seedEmptyGridsSQL = `SELECT count(*), coalesce(min(code), '') FROM grids WHERE ST_IsEmpty(geom)`

	seedReserveRiskPointsSQL = `SELECT nextval(pg_get_serial_sequence('risk_points', 'id')) FROM generate_series(1, $1::int)`

	seedRiskPointsSQL = `INSERT INTO risk_points (id, kind, name, level, responsible_name, responsible_phone, description,
	last_assessed_on, next_assessment_due, grade, synthetic, geom)
SELECT u.id, u.kind, u.name, u.level, u.rname, u.rphone, u.descr, u.last, u.next, nullif(u.grade, ''), true, ST_SetSRID(ST_MakePoint(u.x, u.y), 4326)
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::date[], $8::date[], $9::float8[], $10::float8[], $11::text[], $12::bigint[])
     WITH ORDINALITY AS u(kind, name, level, rname, rphone, descr, last, next, x, y, grade, id, ord)
ORDER BY u.ord`

	seedReserveHouseholdsSQL = `SELECT nextval(pg_get_serial_sequence('households', 'id')) FROM generate_series(1, $1::int)`

	seedHouseholdsSQL = `INSERT INTO households (id, kind, level, responsible_name, responsible_phone,
	last_assessed_on, next_assessment_due, synthetic, geom)
SELECT u.id, u.kind, u.level, u.rname, u.rphone, u.last, u.next, true, ST_SetSRID(ST_MakePoint(u.x, u.y), 4326)
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::date[], $7::date[], $8::float8[], $9::float8[])
     AS u(id, kind, level, rname, rphone, last, next, x, y)
ORDER BY u.id`

	seedHouseholdDetailsSQL = `INSERT INTO household_details (household_id, head_name, head_phone, members, address, notes)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[])`

	// seedCamerasSQL writes the cameras and their streams in one statement,
	// matching them by device code.
	seedCamerasSQL = `WITH u AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::real[], $6::real[], $7::float8[], $8::float8[],
	                     $9::text[], $10::text[], $11::text[])
	     WITH ORDINALITY AS u(device_code, name, kind, status, heading, fov, x, y, platform, stream_url, channel, ord)
), ins AS (
	INSERT INTO cameras (device_code, name, kind, status, heading, fov, synthetic, geom)
	SELECT device_code, name, kind, status, heading, fov, true, ST_SetSRID(ST_MakePoint(x, y), 4326)
	FROM u ORDER BY ord
	RETURNING id, device_code
)
INSERT INTO camera_streams (camera_id, platform, stream_url, channel)
SELECT ins.id, u.platform, u.stream_url, u.channel FROM ins JOIN u USING (device_code)`

	seedStationsSQL = `INSERT INTO stations (kind, level, name, address, phone, opening_hours, services, synthetic, geom)
SELECT u.kind, u.level, u.name, u.address, u.phone, u.hours, string_to_array(u.services, $10), true,
       ST_SetSRID(ST_MakePoint(u.x, u.y), 4326)
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[], $9::float8[])
     WITH ORDINALITY AS u(kind, level, name, address, phone, hours, services, x, y, ord)
ORDER BY u.ord`

	seedUngriddedSQL = `SELECT (SELECT count(*) FROM risk_points WHERE grid_id IS NULL)
	+ (SELECT count(*) FROM households WHERE grid_id IS NULL)
	+ (SELECT count(*) FROM cameras WHERE grid_id IS NULL)
	+ (SELECT count(*) FROM stations WHERE grid_id IS NULL)`

	seedCountGridsSQL = `SELECT level, count(*) FROM grids GROUP BY level`

	seedCountPointsSQL = `SELECT (SELECT count(*) FROM risk_points), (SELECT count(*) FROM households),
	(SELECT count(*) FROM cameras), (SELECT count(*) FROM stations)`
)

// Seed loads a county into the database in one transaction: it reads the
// kinds of the layer tables, asks plan for the rows (a demo dataset's
// demo.Dataset.SeedRows), sets the region (code, name, and the county's
// bounding box widened by 0.05° as the envelope), writes the grid tree with
// boundaries cut from the county outline (Voronoi cells of the plan's
// sites, clipped to their parents, so that they nest without gap or
// overlap), then the risk points, risk households, cameras and stations.
// Every row is marked synthetic.
//
// The database must hold no features. If it does, Seed returns a report
// with Skipped set when ifEmpty is true, and an ECONFLICT error otherwise;
// either way it changes nothing, and plan is not called.
func (db *DB) Seed(ctx context.Context, plan func(onemap.SeedKinds) (*onemap.Seed, error), ifEmpty bool) (SeedReport, error) {
	start := time.Now()
	var rep SeedReport
	var name string
	err := db.inEdit(ctx, edit{actor: seedActor, code: onemap.ReasonSeed}, func(tx pgx.Tx) error {
		skip, err := seedBegin(ctx, tx, "seed", seedHasDataSQL, ifEmpty,
			"the database already holds data: the demo county can only be seeded into an empty database")
		if err != nil || skip {
			rep.Skipped = skip
			return err
		}
		kinds, err := seedKinds(ctx, tx)
		if err != nil {
			return err
		}
		t0 := time.Now()
		d, err := plan(kinds)
		if err != nil {
			return onemap.Errorf(onemap.EINVALID, "%v", err)
		}
		name = d.Name
		logStep := func(step string, t0 time.Time) {
			if db.log != nil {
				db.log.Debug("seed step", "dataset", d.Name, "step", step, "took", time.Since(t0))
			}
		}
		logStep("synthesize", t0)
		steps := []seedStep{{"region", func() error { return seedRegion(ctx, tx, d) }}}
		steps = append(steps, countySteps(ctx, tx, d, 0)...)
		steps = append(steps, seedFinish(ctx, tx, &rep)...)
		for _, s := range steps {
			t0 := time.Now()
			if err := s.fn(); err != nil {
				return mapError(fmt.Errorf("postgis: seed %s: %s: %w", d.Name, s.name, err))
			}
			logStep(s.name, t0)
		}
		return nil
	})
	rep.Took = time.Since(start)
	if err != nil {
		return SeedReport{Took: rep.Took}, err
	}
	if db.log != nil && !rep.Skipped {
		db.log.Info("seeded the demo county", "dataset", name, "grids", rep.Grids, "risk_points", rep.RiskPoints,
			"households", rep.Households, "cameras", rep.Cameras, "stations", rep.Stations, "took", rep.Took)
	}
	return rep, nil
}

// seedKinds reads the kinds of the layer tables.
func seedKinds(ctx context.Context, tx pgx.Tx) (onemap.SeedKinds, error) {
	var k onemap.SeedKinds
	rows, err := tx.Query(ctx, seedKindsSQL)
	if err != nil {
		return k, mapError(fmt.Errorf("postgis: seed: kinds: %w", err))
	}
	var table, code, name string
	_, err = pgx.ForEachRow(rows, []any{&table, &code, &name}, func() error {
		kind := onemap.SeedKind{Code: code, Name: name}
		switch table {
		case "risk_points":
			k.RiskPoints = append(k.RiskPoints, kind)
		case "households":
			k.Households = append(k.Households, kind)
		case "cameras":
			k.Cameras = append(k.Cameras, kind)
		}
		return nil
	})
	if err != nil {
		return k, mapError(fmt.Errorf("postgis: seed: kinds: %w", err))
	}
	return k, seedAssessKinds(ctx, tx, &k)
}

func seedRegion(ctx context.Context, tx pgx.Tx, d *onemap.Seed) error {
	outline, err := wkb.Marshal(d.Outline)
	if err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, seedRegionSQL, d.RegionCode, d.RegionName, outline, seedRegionMargin)
	if err != nil {
		return err
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("the region table holds %d rows, not 1", tag.RowsAffected())
	}
	return nil
}

// seedGrids writes the county grid (the outline), then every lower level
// in one statement each.
func seedGrids(ctx context.Context, tx pgx.Tx, d *onemap.Seed) error {
	byLevel := map[string][]onemap.SeedGrid{}
	for _, g := range d.Grids {
		byLevel[g.Level] = append(byLevel[g.Level], g)
	}
	county := byLevel[seedLevelCounty]
	if len(county) != 1 {
		return fmt.Errorf("the plan has %d county grids, not 1", len(county))
	}
	outline, err := wkb.Marshal(d.Outline)
	if err != nil {
		return err
	}
	c := county[0]
	if _, err := tx.Exec(ctx, seedCountySQL, c.Level, c.Code, c.Name, c.WorkerName, c.WorkerPhone,
		c.Households, c.Population, outline); err != nil {
		return err
	}
	for _, level := range []string{"township", "village", "group"} {
		gs := byLevel[level]
		n := len(gs)
		code, parent, name, worker, phone := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		hh, pop := make([]int32, n), make([]int32, n)
		x, y := make([]float64, n), make([]float64, n)
		for i, g := range gs {
			code[i], parent[i], name[i], worker[i], phone[i] = g.Code, g.ParentCode, g.Name, g.WorkerName, g.WorkerPhone
			hh[i], pop[i] = int32(g.Households), int32(g.Population)
			x[i], y[i] = g.Site.X(), g.Site.Y()
		}
		tag, err := tx.Exec(ctx, seedCellsSQL, level, code, parent, name, worker, phone, hh, pop, x, y, seedMaxEdge)
		if err != nil {
			return fmt.Errorf("%s grids: %w", level, err)
		}
		if int(tag.RowsAffected()) != n {
			return fmt.Errorf("%s grids: wrote %d of %d (a parent is missing)", level, tag.RowsAffected(), n)
		}
	}
	var empty int
	var first string
	if err := tx.QueryRow(ctx, seedEmptyGridsSQL).Scan(&empty, &first); err != nil {
		return err
	}
	if empty > 0 {
		return fmt.Errorf("%d grids came out empty, the first %s", empty, first)
	}
	return nil
}

// seedRiskPoints reserves the risk points' ids first, so that their
// assessments can be written against them.
func seedRiskPoints(ctx context.Context, tx pgx.Tx, rps []onemap.SeedRiskPoint) error {
	n := len(rps)
	rows, err := tx.Query(ctx, seedReserveRiskPointsSQL, n)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	as := make([]seedAssessment, n)
	kind, name, level, rname, rphone, descr := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	last, next, grade := make([]time.Time, n), make([]time.Time, n), make([]string, n)
	x, y := seedCoords(n, func(i int) orb.Point { return rps[i].Point })
	for i, r := range rps {
		kind[i], name[i], level[i], rname[i], rphone[i], descr[i] = r.Kind, r.Name, r.Level, r.ResponsibleName, r.ResponsiblePhone, r.Description
		last[i], next[i], grade[i] = r.LastAssessedOn, r.NextAssessmentDue, r.Grade
		as[i] = seedAssessment{note: r.AssessNote}
	}
	if _, err := tx.Exec(ctx, seedRiskPointsSQL, kind, name, level, rname, rphone, descr, last, next, x, y, grade, ids); err != nil {
		return err
	}
	return seedAssessments(ctx, tx, onemap.AssessRiskPoint, ids, as)
}

// seedHouseholds reserves the households' ids first, so that their
// details can be written against them.
func seedHouseholds(ctx context.Context, tx pgx.Tx, hs []onemap.SeedHousehold) error {
	n := len(hs)
	rows, err := tx.Query(ctx, seedReserveHouseholdsSQL, n)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	kind, level, rname, rphone := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	head, hphone, addr, notes := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	members := make([]int32, n)
	last, next := make([]time.Time, n), make([]time.Time, n)
	as := make([]seedAssessment, n)
	x, y := seedCoords(n, func(i int) orb.Point { return hs[i].Point })
	for i, h := range hs {
		kind[i], level[i], rname[i], rphone[i] = h.Kind, h.Level, h.ResponsibleName, h.ResponsiblePhone
		head[i], hphone[i], addr[i], notes[i] = h.HeadName, h.HeadPhone, h.Address, h.Notes
		members[i] = int32(h.Members)
		last[i], next[i] = h.LastAssessedOn, h.NextAssessmentDue
		as[i] = seedAssessment{situations: h.Situations, categories: h.Categories, note: h.AssessNote}
	}
	if _, err := tx.Exec(ctx, seedHouseholdsSQL, ids, kind, level, rname, rphone, last, next, x, y); err != nil {
		return err
	}
	if _, err = tx.Exec(ctx, seedHouseholdDetailsSQL, ids, head, hphone, members, addr, notes); err != nil {
		return err
	}
	return seedAssessments(ctx, tx, onemap.AssessHousehold, ids, as)
}

func seedCameras(ctx context.Context, tx pgx.Tx, cs []onemap.SeedCamera) error {
	n := len(cs)
	code, name, kind, status := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	platform, url, channel := make([]string, n), make([]string, n), make([]string, n)
	heading, fov := make([]*float32, n), make([]*float32, n)
	x, y := seedCoords(n, func(i int) orb.Point { return cs[i].Point })
	for i, c := range cs {
		code[i], name[i], kind[i], status[i] = c.DeviceCode, c.Name, c.Kind, c.Status
		platform[i], url[i], channel[i] = c.Platform, c.StreamURL, c.Channel
		heading[i], fov[i] = c.Heading, c.FOV
	}
	_, err := tx.Exec(ctx, seedCamerasSQL, code, name, kind, status, heading, fov, x, y, platform, url, channel)
	return err
}

func seedStations(ctx context.Context, tx pgx.Tx, ss []onemap.SeedStation) error {
	n := len(ss)
	kind, level, name, addr, phone, hours, services := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	x, y := seedCoords(n, func(i int) orb.Point { return ss[i].Point })
	for i, s := range ss {
		kind[i], level[i], name[i], addr[i], phone[i], hours[i] = s.Kind, s.Level, s.Name, s.Address, s.Phone, s.OpeningHours
		for _, v := range s.Services {
			if strings.Contains(v, seedServicesSep) {
				return fmt.Errorf("station %s: service %q holds a control character", s.Name, v)
			}
		}
		services[i] = strings.Join(s.Services, seedServicesSep)
	}
	_, err := tx.Exec(ctx, seedStationsSQL, kind, level, name, addr, phone, hours, services, x, y, seedServicesSep)
	return err
}

// seedCheck fails the seed if a point fell outside every group grid.
func seedCheck(ctx context.Context, tx pgx.Tx) error {
	var n int
	if err := tx.QueryRow(ctx, seedUngriddedSQL).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%d points lie in no group grid", n)
	}
	return nil
}

func seedCount(ctx context.Context, tx pgx.Tx, rep *SeedReport) error {
	rows, err := tx.Query(ctx, seedCountGridsSQL)
	if err != nil {
		return err
	}
	rep.Grids = map[string]int{}
	var level string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&level, &n}, func() error { rep.Grids[level] = n; return nil }); err != nil {
		return err
	}
	return tx.QueryRow(ctx, seedCountPointsSQL).Scan(&rep.RiskPoints, &rep.Households, &rep.Cameras, &rep.Stations)
}

func seedCoords(n int, at func(int) orb.Point) (x, y []float64) {
	x, y = make([]float64, n), make([]float64, n)
	for i := range n {
		p := at(i)
		x[i], y[i] = p.X(), p.Y()
	}
	return x, y
}
