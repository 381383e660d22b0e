package postgis

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// Tags is the store of e-bike tags (migration 0021): the tags and their
// owners, the positions partitioned by day, the geofences, and the alarms
// bound to a tag. It is safe for concurrent use.
type Tags struct {
	db        *DB
	now       func() time.Time
	storm     time.Duration
	retention time.Duration
	mu        sync.Mutex
	days      map[string]bool // the partitions known to exist, by name
	instance  string          // this store's id in its notifications (tagfence.go)
}

// TagOptions configure a Tags store; zero values take the defaults.
type TagOptions struct {
	Now       func() time.Time // the clock (nil: time.Now)
	Storm     time.Duration    // alarm storm window (onemap.DefaultStormWindow)
	Retention time.Duration    // how long positions are kept (onemap.TagRetentionDefault)
}

// NewTags returns the tag store of db.
func NewTags(db *DB, o TagOptions) *Tags {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Storm <= 0 {
		o.Storm = onemap.DefaultStormWindow
	}
	if o.Retention <= 0 {
		o.Retention = onemap.TagRetentionDefault
	}
	return &Tags{db: db, now: o.Now, storm: o.Storm, retention: o.Retention, days: map[string]bool{}, instance: newInstance()}
}

// Now returns the store's time, truncated to microseconds.
func (s *Tags) Now() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Retention returns how long positions are kept.
func (s *Tags) Retention() time.Duration { return s.retention }

// ListTags returns every tag, by id.
func (s *Tags) ListTags(ctx context.Context) ([]onemap.Tag, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT id, code, kind, coalesce(grid_id, 0), ST_X(home), ST_Y(home), synthetic FROM tags ORDER BY id`)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: tags: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (onemap.Tag, error) {
		var t onemap.Tag
		err := r.Scan(&t.ID, &t.Code, &t.Kind, &t.GridID, &t.Home[0], &t.Home[1], &t.Synthetic)
		return t, err
	})
	return out, mapError(err)
}

// LastPositions returns each tag's latest position within the retention
// period: one backward probe of the (tag_id, at) key per tag.
func (s *Tags) LastPositions(ctx context.Context) ([]onemap.TagPosition, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT t.id, p.at, p.lon, p.lat FROM tags t CROSS JOIN LATERAL (
			SELECT at, lon, lat FROM tag_positions WHERE tag_id = t.id AND at > $1 ORDER BY at DESC LIMIT 1) p`,
		s.Now().Add(-s.retention))
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: last positions: %w", err))
	}
	out, err := pgx.CollectRows(rows, scanPosition)
	return out, mapError(err)
}

func scanPosition(r pgx.CollectableRow) (onemap.TagPosition, error) {
	var p onemap.TagPosition
	err := r.Scan(&p.TagID, &p.At, &p.Point[0], &p.Point[1])
	p.At = p.At.UTC()
	return p, err
}

// FindTag returns the tag with code (ENOTFOUND if none).
func (s *Tags) FindTag(ctx context.Context, code string) (onemap.Tag, error) {
	var t onemap.Tag
	err := s.db.pool.QueryRow(ctx, `SELECT id, code, kind, coalesce(grid_id, 0), ST_X(home), ST_Y(home), synthetic FROM tags WHERE code = $1`, code).
		Scan(&t.ID, &t.Code, &t.Kind, &t.GridID, &t.Home[0], &t.Home[1], &t.Synthetic)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, onemap.Errorf(onemap.ENOTFOUND, "no tag %.40q", code)
	}
	return t, mapError(err)
}

// ReadTagOwner returns the owner of tag id (ENOTFOUND if none is
// recorded) and records the read in the audit trail, in one transaction:
// no owner is shown unaudited. masked says whether the caller sees it
// masked (recorded with the read).
func (s *Tags) ReadTagOwner(ctx context.Context, t onemap.Tag, masked bool) (onemap.TagOwner, error) {
	caller := callerOf(ctx)
	var o onemap.TagOwner
	err := s.db.inTx(ctx, caller.Actor(), "tag owner read", func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT name, phone, plate FROM tag_owners WHERE tag_id = $1`, t.ID).Scan(&o.Name, &o.Phone, &o.Plate)
		if errors.Is(err, pgx.ErrNoRows) {
			return onemap.Errorf(onemap.ENOTFOUND, "tag %s has no owner recorded", t.Code)
		}
		if err != nil {
			return mapError(err)
		}
		return appendAudit(ctx, tx, caller, onemap.AuditTagOwnerRead, "tags/"+t.Code, map[string]any{"masked": masked})
	})
	return o, err
}

// trackQuery is a track's: tag $1's positions in [$2, $3), oldest first,
// at most $4 (an index-only scan of the primary key: tracks.go).
const trackQuery = `SELECT tag_id, at, lon, lat FROM tag_positions WHERE tag_id = $1 AND at >= $2 AND at < $3 ORDER BY at LIMIT $4`

// Track returns tag id's positions in [from, to), oldest first, at most
// limit; more reports that there were more.
func (s *Tags) Track(ctx context.Context, id int64, from, to time.Time, limit int) ([]onemap.TagPosition, bool, error) {
	rows, err := s.db.pool.Query(ctx, trackQuery, id, from, to, limit+1)
	if err != nil {
		return nil, false, mapError(fmt.Errorf("postgis: track: %w", err))
	}
	out, err := pgx.CollectRows(rows, scanPosition)
	if err != nil {
		return nil, false, mapError(err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// PositionAt returns where tag id was at t: its last position at or
// before t within the retention period (ENOTFOUND if none).
func (s *Tags) PositionAt(ctx context.Context, id int64, t time.Time) (onemap.TagPosition, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT tag_id, at, lon, lat FROM tag_positions WHERE tag_id = $1 AND at <= $2 AND at > $3
		ORDER BY at DESC LIMIT 1`, id, t, t.Add(-s.retention))
	if err != nil {
		return onemap.TagPosition{}, mapError(fmt.Errorf("postgis: position at: %w", err))
	}
	out, err := pgx.CollectRows(rows, scanPosition)
	if err != nil {
		return onemap.TagPosition{}, mapError(err)
	}
	if len(out) == 0 {
		return onemap.TagPosition{}, onemap.Errorf(onemap.ENOTFOUND, "no position of the tag at or in the %s before %s", s.retention, t.Format(time.RFC3339))
	}
	return out[0], nil
}

// partitionName is the name of the day's partition of tag_positions: made
// from the date only, never from what a client sends.
func partitionName(day time.Time) string { return "tag_positions_p" + day.UTC().Format("20060102") }

// ensurePartitions makes the partitions of the days of ats that do not
// exist yet, each in a transaction of its own under an advisory lock (two
// servers making the same day wait for each other).
func (s *Tags) ensurePartitions(ctx context.Context, ats []time.Time) error {
	need := map[string]time.Time{}
	s.mu.Lock()
	for _, at := range ats {
		day := at.UTC().Truncate(24 * time.Hour)
		if n := partitionName(day); !s.days[n] {
			need[n] = day
		}
	}
	s.mu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(need)) {
		day := need[name]
		err := s.db.inTx(ctx, "", "", func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('onemap.tag_partitions'))`); err != nil {
				return mapError(err)
			}
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&exists); err != nil {
				return mapError(err)
			}
			if exists {
				return nil
			}
			// The name and bounds are the server's own (a date); DDL takes
			// no parameters.
			_, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE %s PARTITION OF tag_positions FOR VALUES FROM ('%s') TO ('%s')`,
				pgx.Identifier{name}.Sanitize(), day.Format(time.RFC3339), day.Add(24*time.Hour).Format(time.RFC3339)))
			return mapError(err)
		})
		if err != nil {
			return fmt.Errorf("postgis: partition %s: %w", name, err)
		}
		s.mu.Lock()
		s.days[name] = true
		s.mu.Unlock()
	}
	return nil
}

// TagRef is what an ingest needs of a tag.
type TagRef struct {
	ID       int64
	GridID   int64
	InRegion bool // registered in the source's region
}

// IngestTags applies a batch of tag-bound events of src, checked already
// (onemap.CheckIngestEvent, all TagBound), in one transaction: positions
// (a position of a tag at a time it has one already is a duplicate),
// tags' own alarms (a retried event id is a duplicate), and events of
// unknown tags quarantined. A tag registered outside the source's region
// is an EFORBIDDEN error and nothing is written; a position older than
// the retention period is refused. It crosses no geofence: see
// IngestTagsFenced.
func (s *Tags) IngestTags(ctx context.Context, src onemap.Source, events []onemap.IngestEvent) (onemap.TagIngest, error) {
	return s.IngestTagsFenced(ctx, src, events, nil)
}

// IngestTagsFenced is IngestTags that also writes, in the same
// transaction, the geofence crossings cross returns for the positions
// taken (inmem.LiveTags.Crossings): each crossing whose stored state is
// still the other side (writeCrossings) changes it and raises its alarm,
// if it has one, with the tags' own alarms. The positions taken are
// notified to every server at the commit (TagChannel), with the instance
// id of this store, so that each moves them on its live index.
func (s *Tags) IngestTagsFenced(ctx context.Context, src onemap.Source, events []onemap.IngestEvent,
	cross func([]onemap.TagPosition) []onemap.FenceCrossing) (onemap.TagIngest, error) {
	at := s.Now()
	caller := onemap.Caller{Name: src.Actor(), Role: "source"}
	if c, ok := onemap.CallerFrom(ctx); ok {
		caller.Client = c.Client
	}
	ctx = onemap.NewContext(ctx, caller)
	oldest := at.Add(-s.retention)
	var days []time.Time
	for _, e := range events {
		if e.Kind == onemap.EventTagPosition && e.At.After(oldest) {
			days = append(days, e.At)
		}
	}
	if err := s.ensurePartitions(ctx, days); err != nil {
		return onemap.TagIngest{}, err
	}
	var out onemap.TagIngest
	err := s.db.inTx(ctx, caller.Actor(), "ingest", func(tx pgx.Tx) error {
		out = onemap.TagIngest{Results: make([]onemap.IngestResult, len(events))}
		codes := make([]string, 0, len(events))
		for _, e := range events {
			codes = append(codes, e.Tag)
		}
		refs, err := resolveTags(ctx, tx, src.Region, codes)
		if err != nil {
			return err
		}
		for _, e := range events {
			if r, ok := refs[e.Tag]; ok && !r.InRegion {
				return onemap.FieldErrorf("tag", onemap.EFORBIDDEN, "event %.40q: tag %s is registered outside source %s's region %s: nothing of the batch was taken",
					e.ID, e.Tag, src.Name, src.Region)
			}
		}
		var ids []int64
		var ats []time.Time
		var lons, lats []float64
		var posIdx []int
		var alarms []onemap.TagAlarm
		var alarmIdx []int
		counts := map[string]int{}
		for i, e := range events {
			r := &out.Results[i]
			r.ID = e.ID
			ref, known := refs[e.Tag]
			switch {
			case !known:
				r.Outcome, r.Reason = onemap.IngestQuarantined, "no tag has code "+e.Tag
				if err := tx.QueryRow(ctx, `INSERT INTO ingest_quarantine (source_id, event_id, kind, device_code, event_at, received_at, reason)
					VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, src.ID, e.ID, e.Kind, e.Tag, e.At, at, r.Reason).Scan(&r.QuarantineID); err != nil {
					return mapError(err)
				}
			case e.Kind == onemap.EventTagPosition && !e.At.After(oldest):
				r.Outcome, r.Field, r.Reason = onemap.IngestRefused, "at", fmt.Sprintf("positions are kept %s: %s is older", s.retention, e.At.Format(time.RFC3339))
			case e.Kind == onemap.EventTagPosition:
				ids, ats, lons, lats = append(ids, ref.ID), append(ats, e.At), append(lons, e.Point[0]), append(lats, e.Point[1])
				posIdx = append(posIdx, i)
				continue // counted below
			default: // a tag's own alarm
				alarms = append(alarms, onemap.TagAlarm{EventID: e.ID, TagID: ref.ID, At: e.At, Point: e.Point, Severity: e.Severity,
					Description: e.Description})
				alarmIdx = append(alarmIdx, i)
				continue
			}
			counts[r.Outcome]++
		}
		if len(ids) > 0 {
			rows, err := tx.Query(ctx, `INSERT INTO tag_positions (tag_id, at, lon, lat)
				SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::float8[], $4::float8[]) ON CONFLICT DO NOTHING
				RETURNING tag_id, at`, ids, ats, lons, lats)
			if err != nil {
				return mapError(fmt.Errorf("postgis: positions: %w", err))
			}
			type key struct {
				id int64
				at int64
			}
			keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (key, error) {
				var k key
				var t time.Time
				err := r.Scan(&k.id, &t)
				k.at = t.UnixMicro()
				return k, err
			})
			if err != nil {
				return mapError(err)
			}
			taken := make(map[key]bool, len(keys))
			for _, k := range keys {
				taken[k] = true
			}
			for j, i := range posIdx {
				k := key{ids[j], ats[j].Truncate(time.Microsecond).UnixMicro()}
				r := &out.Results[i]
				if taken[k] {
					delete(taken, k) // a batch that sends one twice: the second is the duplicate
					r.Outcome = onemap.IngestTaken
					out.Positions = append(out.Positions, onemap.TagPosition{TagID: ids[j], At: ats[j].UTC(), Point: orb.Point{lons[j], lats[j]}})
				} else {
					r.Outcome = onemap.IngestDuplicate
				}
				counts[r.Outcome]++
			}
		}
		// The geofences' alarms go with the tags' own: one set of locks.
		if cross != nil && len(out.Positions) > 0 {
			fenced, err := writeCrossings(ctx, tx, cross(out.Positions))
			if err != nil {
				return err
			}
			alarms = append(alarms, fenced...)
		}
		if err := s.notifyPositions(ctx, tx, src.ID, out.Positions); err != nil {
			return err
		}
		if len(alarms) > 0 {
			got, raised, err := s.raiseTagAlarms(ctx, tx, src, alarms, at)
			if err != nil {
				return err
			}
			for j, i := range alarmIdx {
				r := &out.Results[i]
				*r = got[j]
				r.ID = events[i].ID
				counts[r.Outcome]++
			}
			out.Alarms = raised
		}
		if _, err := tx.Exec(ctx, `UPDATE ingest_sources SET last_used_at = $2 WHERE id = $1`, src.ID, at); err != nil {
			return mapError(err)
		}
		return appendAudit(ctx, tx, caller, onemap.AuditIngest, sourceTarget(src.Name), map[string]any{
			"events": len(events), "taken": counts[onemap.IngestTaken], "duplicate": counts[onemap.IngestDuplicate],
			"quarantined": counts[onemap.IngestQuarantined], "refused": counts[onemap.IngestRefused]})
	})
	if err != nil {
		return onemap.TagIngest{}, err
	}
	return out, nil
}

// resolveTags returns the tags of codes that exist, and whether each is
// registered in the region (the grid of that code or one below it).
func resolveTags(ctx context.Context, tx pgx.Tx, region string, codes []string) (map[string]TagRef, error) {
	rows, err := tx.Query(ctx, `WITH RECURSIVE region AS (
			SELECT id FROM grids WHERE code = $2
			UNION SELECT g.id FROM grids g JOIN region r ON g.parent_id = r.id)
		SELECT t.code, t.id, coalesce(t.grid_id, 0), t.grid_id IS NOT NULL AND t.grid_id IN (SELECT id FROM region)
		FROM tags t WHERE t.code = ANY($1)`, codes, region)
	if err != nil {
		return nil, mapError(err)
	}
	type coded struct {
		code string
		ref  TagRef
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (coded, error) {
		var c coded
		err := r.Scan(&c.code, &c.ref.ID, &c.ref.GridID, &c.ref.InRegion)
		return c, err
	})
	if err != nil {
		return nil, mapError(err)
	}
	out := make(map[string]TagRef, len(list))
	for _, c := range list {
		out[c.code] = c.ref
	}
	return out, nil
}

// raiseTagAlarms raises tag alarms in tx: an alarm with an event id sent
// before is a duplicate; else it joins the open alarm of its tag, kind and
// fence whose last event came within the storm window, or opens one. It
// returns each alarm's result and the alarms raised or changed, by id.
func (s *Tags) raiseTagAlarms(ctx context.Context, tx pgx.Tx, src onemap.Source, alarms []onemap.TagAlarm, at time.Time) ([]onemap.IngestResult, []*onemap.Alarm, error) {
	keys := make([]int32, 0, len(alarms))
	for _, a := range alarms {
		keys = append(keys, int32(uint32(a.TagID)*16+15)) // apart from the cameras' keys' kinds (stormKey: < 15)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('onemap.tag_alarm'), k) FROM (
			SELECT DISTINCT k FROM unnest($1::int[]) AS k ORDER BY k) s`, keys); err != nil {
		return nil, nil, mapError(err)
	}
	results := make([]onemap.IngestResult, len(alarms))
	byID := map[int64]*onemap.Alarm{}
	for i, a := range alarms {
		r := &results[i]
		r.ID = a.EventID
		if a.EventID != "" {
			dup, err := priorEvent(ctx, tx, src.ID, a.EventID, r)
			if err != nil {
				return nil, nil, err
			}
			if dup {
				r.Outcome = onemap.IngestDuplicate
				continue
			}
		}
		if a.Severity == 0 {
			a.Severity = onemap.DefaultSeverity(onemap.EventTagAlarm)
		}
		var fence *int64
		if a.FenceID != 0 {
			fence = &a.FenceID
		}
		// The tag's alarm's point: where it said it was, else its last
		// position, else its home.
		var id int64
		err := tx.QueryRow(ctx, `UPDATE alarms SET count = count + 1, last_at = greatest(last_at, $3), severity = least(severity, $4),
				description = CASE WHEN description = '' THEN $5 ELSE description END, version = version + 1, updated_at = $3
			WHERE id = (SELECT id FROM alarms WHERE tag_id = $1 AND kind = 'tag_alarm' AND geofence_id IS NOT DISTINCT FROM $2
			            AND status IN ('new', 'acknowledged') AND last_at >= $6 ORDER BY last_at DESC LIMIT 1)
			RETURNING id`, a.TagID, fence, at, a.Severity, a.Description, at.Add(-s.storm)).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			var pt []byte
			if a.Point != (orb.Point{}) {
				if pt, err = wkb.Marshal(a.Point); err != nil {
					return nil, nil, fmt.Errorf("postgis: tag alarm point: %w", err)
				}
			}
			err = tx.QueryRow(ctx, `INSERT INTO alarms (kind, severity, tag_id, geofence_id, grid_id, geom, source_id, status, event_at, first_at, last_at,
					description, updated_at)
				SELECT 'tag_alarm', $2, t.id, $3, t.grid_id, coalesce(ST_SetSRID(ST_GeomFromWKB($4), 4326),
					(SELECT ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326) FROM tag_positions p WHERE p.tag_id = t.id ORDER BY p.at DESC LIMIT 1), t.home),
					$5, 'new', $6, $7, $7, $8, $7 FROM tags t WHERE t.id = $1
				RETURNING id`, a.TagID, a.Severity, fence, pt, src.ID, a.At, at, a.Description).Scan(&id)
		}
		if err != nil {
			return nil, nil, mapError(fmt.Errorf("postgis: raise tag alarm: %w", err))
		}
		al, err := scanAlarm(tx.QueryRow(ctx, `SELECT `+alarmColumns+alarmFrom+` WHERE a.id = $1`, id))
		if err != nil {
			return nil, nil, err
		}
		byID[id] = al
		r.Outcome, r.AlarmID, r.Count = onemap.IngestTaken, id, al.Count
		if a.EventID != "" {
			if _, err := tx.Exec(ctx, `INSERT INTO ingest_events (source_id, event_id, received_at, outcome, alarm_id)
				VALUES ($1, $2, $3, 'alarm', $4)`, src.ID, a.EventID, at, id); err != nil {
				return nil, nil, mapError(err)
			}
		}
	}
	ids := slices.Sorted(maps.Keys(byID))
	if err := notifyAlarms(ctx, tx, ids); err != nil {
		return nil, nil, err
	}
	out := make([]*onemap.Alarm, 0, len(ids))
	for _, id := range ids {
		out = append(out, byID[id])
	}
	return results, out, nil
}

// DropOldPositions removes the positions older than the retention period
// by whole days: it drops each day's partition that ends at or before now
// minus the retention (so a position is kept at least the retention period
// and less than a day longer), and returns the partitions dropped. Then it
// vacuums each day's partition once its day has closed, so that a track
// reads the key alone (vacuumClosedDays).
func (s *Tags) DropOldPositions(ctx context.Context) ([]string, error) {
	dropped, err := s.dropOldPositions(ctx)
	if err != nil {
		return dropped, err
	}
	if _, err := s.vacuumClosedDays(ctx, s.Now()); err != nil {
		return dropped, err
	}
	return dropped, nil
}

func (s *Tags) dropOldPositions(ctx context.Context) ([]string, error) {
	cutoff := s.Now().Add(-s.retention)
	rows, err := s.db.pool.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'tag_positions'::regclass ORDER BY c.relname`)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: tag partitions: %w", err))
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, mapError(err)
	}
	var dropped []string
	for _, name := range names {
		day, err := time.Parse("20060102", strings.TrimPrefix(name, "tag_positions_p"))
		if err != nil || partitionName(day) != name {
			continue // not one of the server's
		}
		if day.Add(24 * time.Hour).After(cutoff) {
			continue
		}
		if err := s.db.inTx(ctx, "system", "tag positions older than "+cutoff.Format(time.RFC3339), func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('onemap.tag_partitions'))`); err != nil {
				return mapError(err)
			}
			// The name is the catalogue's, of the server's own form.
			if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS `+pgx.Identifier{name}.Sanitize()); err != nil {
				return mapError(err)
			}
			return appendAudit(ctx, tx, onemap.Caller{Name: "system"}, onemap.AuditTagRetention, "tag_positions/"+name,
				map[string]any{"before": day.Add(24 * time.Hour).Format(time.RFC3339)})
		}); err != nil {
			return dropped, fmt.Errorf("postgis: drop %s: %w", name, err)
		}
		s.mu.Lock()
		delete(s.days, name)
		s.mu.Unlock()
		dropped = append(dropped, name)
	}
	return dropped, nil
}

const geofenceColumns = `id, name, ST_AsBinary(geom), trigger, window_from, window_to, coalesce(grid_id, 0), coalesce(tag_ids, '{}'),
	severity, created_at, created_by`

func scanGeofence(r pgx.Row) (onemap.Geofence, error) {
	var f onemap.Geofence
	var from, to *int16
	var sev int16
	var g wkb.GeometryScanner
	if err := r.Scan(&f.ID, &f.Name, &g, &f.Trigger, &from, &to, &f.GridID, &f.TagIDs, &sev, &f.CreatedAt, &f.CreatedBy); err != nil {
		return f, mapError(err)
	}
	if mp, ok := g.Geometry.(orb.MultiPolygon); ok {
		f.Area = mp
	}
	if from != nil && to != nil {
		f.Window = &onemap.DayWindow{From: int(*from), To: int(*to)}
	}
	f.Severity, f.CreatedAt = int(sev), f.CreatedAt.UTC()
	return f, nil
}

// ListGeofences returns every geofence, by id.
func (s *Tags) ListGeofences(ctx context.Context) ([]onemap.Geofence, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT `+geofenceColumns+` FROM geofences ORDER BY id`)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: geofences: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (onemap.Geofence, error) { return scanGeofence(r) })
	return out, mapError(err)
}

// AddGeofence adds a geofence (onemap.CheckGeofence) with its audit
// record; its grid must exist and its tags too.
func (s *Tags) AddGeofence(ctx context.Context, f onemap.Geofence) (onemap.Geofence, error) {
	if err := onemap.CheckGeofence(&f); err != nil {
		return f, err
	}
	caller := callerOf(ctx)
	var from, to *int16
	if f.Window != nil {
		a, b := int16(f.Window.From), int16(f.Window.To)
		from, to = &a, &b
	}
	var grid *int64
	if f.GridID != 0 {
		grid = &f.GridID
	}
	var tagIDs []int64
	if len(f.TagIDs) > 0 {
		tagIDs = f.TagIDs
	}
	area, err := wkb.Marshal(f.Area)
	if err != nil {
		return f, onemap.FieldErrorf("geometry", onemap.EINVALID, "geometry: %v", err)
	}
	var out onemap.Geofence
	err = s.db.inTx(ctx, caller.Actor(), "geofence add", func(tx pgx.Tx) error {
		if grid != nil {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM grids WHERE id = $1`, *grid).Scan(&n); err != nil {
				return mapError(err)
			}
			if n == 0 {
				return onemap.FieldErrorf("grid", onemap.EINVALID, "no grid %d", *grid)
			}
		}
		var err error
		out, err = scanGeofence(tx.QueryRow(ctx, `INSERT INTO geofences (name, geom, trigger, window_from, window_to, grid_id, tag_ids, severity,
				created_at, created_by)
			VALUES ($1, ST_SetSRID(ST_GeomFromWKB($2), 4326), $3, $4, $5, $6, $7, $8, $9, $10) RETURNING `+geofenceColumns,
			f.Name, area, f.Trigger, from, to, grid, tagIDs, f.Severity, s.Now(), caller.Actor()))
		if err != nil {
			return err
		}
		if err := s.notifyFences(ctx, tx); err != nil {
			return err
		}
		return appendAudit(ctx, tx, caller, onemap.AuditGeofenceAdd, "geofences/"+strconv.FormatInt(out.ID, 10),
			map[string]any{"name": f.Name, "trigger": f.Trigger})
	})
	return out, err
}

// DeleteGeofence removes geofence id (ENOTFOUND if none) with its audit
// record; its alarms stay, no longer naming it.
func (s *Tags) DeleteGeofence(ctx context.Context, id int64) error {
	caller := callerOf(ctx)
	return s.db.inTx(ctx, caller.Actor(), "geofence delete", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM geofences WHERE id = $1`, id)
		if err != nil {
			return mapError(err)
		}
		if tag.RowsAffected() == 0 {
			return onemap.Errorf(onemap.ENOTFOUND, "no geofence %d", id)
		}
		if err := s.notifyFences(ctx, tx); err != nil {
			return err
		}
		return appendAudit(ctx, tx, caller, onemap.AuditGeofenceDelete, "geofences/"+strconv.FormatInt(id, 10), nil)
	})
}

// TagCodes returns the ids of the tags of codes, refusing an unknown one
// (EINVALID naming field).
func (s *Tags) TagCodes(ctx context.Context, field string, codes []string) ([]int64, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT code, id FROM tags WHERE code = ANY($1)`, codes)
	if err != nil {
		return nil, mapError(err)
	}
	type coded struct {
		code string
		id   int64
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (coded, error) {
		var c coded
		err := r.Scan(&c.code, &c.id)
		return c, err
	})
	if err != nil {
		return nil, mapError(err)
	}
	got := make(map[string]int64, len(list))
	for _, c := range list {
		got[c.code] = c.id
	}
	out := make([]int64, 0, len(codes))
	for _, c := range codes {
		id, ok := got[c]
		if !ok {
			return nil, onemap.FieldErrorf(field, onemap.EINVALID, "no tag %.40q", c)
		}
		out = append(out, id)
	}
	return out, nil
}

// Demo tags: how many, and the townships they are registered in (the three
// 数字乡镇 pilot townships), with how many each.
var demoTagTownships = []struct {
	code string
	n    int
}{{"532329101000", 240}, {"532329208000", 148}, {"532329207000", 148}} // 狮山镇, 东坡, 环州乡: 536

// seedTags seeds the demo's synthetic tags TAG-000001 to TAG-000536 at
// random (but fixed) places in the pilot townships, each registered in the
// village it lies in (its township where none does), with made-up owners,
// and a night geofence per township: a tag of it leaving it between 22:00
// and 06:00 China time raises a tag alarm. A county without those
// townships gets none.
func seedTags(ctx context.Context, tx pgx.Tx) error {
	codes := make([]string, len(demoTagTownships))
	counts := make([]int32, len(demoTagTownships))
	for i, t := range demoTagTownships {
		codes[i], counts[i] = t.code, int32(t.n)
	}
	if _, err := tx.Exec(ctx, `
		WITH towns AS (
			SELECT g.id, g.geom, c.n, c.k, coalesce(sum(c.n) OVER (ORDER BY c.k ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS base
			FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS c(code, n, k) JOIN grids g ON g.code = c.code),
		pts AS (
			SELECT t.id AS grid_id, t.base + d.path[1] AS i, d.geom
			FROM towns t CROSS JOIN LATERAL ST_Dump(ST_GeneratePoints(t.geom, t.n, 21 + t.k::int)) d)
		INSERT INTO tags (code, kind, grid_id, home, synthetic)
		SELECT 'TAG-' || lpad(i::text, 6, '0'), CASE WHEN i % 5 = 0 THEN 'motorcycle' ELSE 'ebike' END,
			coalesce((SELECT v.id FROM grids v WHERE v.parent_id = pts.grid_id AND ST_Intersects(v.geom, pts.geom) ORDER BY v.id LIMIT 1), grid_id),
			geom, true
		FROM pts ORDER BY i`, codes, counts); err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO tag_owners (tag_id, name, phone, plate)
		SELECT id, (ARRAY['张','李','王','赵','杨','刘','陈','普','罗','鲁'])[1 + id % 10] || (ARRAY['明','华','芳','强','丽','军','秀英','建国'])[1 + id % 8],
			'1' || (ARRAY['38','39','58','87'])[1 + id % 4] || lpad(((id * 7919) % 100000000)::text, 8, '0'),
			'云E' || lpad(((id * 104729) % 100000)::text, 5, '0')
		FROM tags WHERE synthetic`); err != nil {
		return fmt.Errorf("tag owners: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO geofences (name, geom, trigger, window_from, window_to, grid_id, severity, created_at, created_by)
		SELECT g.name || '夜间离开', g.geom, 'leave', 1320, 360, g.id, 2, now(), $2
		FROM grids g WHERE g.code = ANY($1) ORDER BY g.code`, codes, seedActor); err != nil {
		return fmt.Errorf("geofences: %w", err)
	}
	return nil
}
