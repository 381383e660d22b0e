package postgis

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
)

// Live is the store of live sources, their events and the alarms they
// raise (migration 0016), with the clock that times the replay window and
// the storm window. Every ingest batch is one transaction (Ingest).
type Live struct {
	storeClock
	db    *DB
	storm time.Duration
}

// NewLive returns the live store of db under the clock now (nil:
// time.Now), grouping alarm storms within storm (0:
// onemap.DefaultStormWindow).
func NewLive(db *DB, now func() time.Time, storm time.Duration) *Live {
	if storm <= 0 {
		storm = onemap.DefaultStormWindow
	}
	return &Live{storeClock: newStoreClock(now), db: db, storm: storm}
}

const sourceColumns = `id, name, kinds, region, created_at, created_by, revoked_at, last_used_at`

func scanSource(row pgx.Row, extra ...any) (onemap.Source, error) {
	var (
		s             onemap.Source
		revoked, used *time.Time
	)
	if err := row.Scan(append([]any{&s.ID, &s.Name, &s.Kinds, &s.Region, &s.CreatedAt, &s.CreatedBy, &revoked, &used}, extra...)...); err != nil {
		return s, mapError(err)
	}
	s.CreatedAt = s.CreatedAt.UTC()
	if revoked != nil {
		s.RevokedAt = revoked.UTC()
	}
	if used != nil {
		s.LastUsedAt = used.UTC()
	}
	return s, nil
}

func sourceTarget(name string) string { return "sources/" + name }

// AddSource adds a source with the verifier of its key
// (onemap.SigningKey). Its region must be the code of a grid; a name taken
// already is an ECONFLICT error.
func (l *Live) AddSource(ctx context.Context, s onemap.Source, verifier []byte) (onemap.Source, error) {
	if err := onemap.CheckSource(s); err != nil {
		return s, err
	}
	if len(verifier) != 32 {
		return s, onemap.Errorf(onemap.EINVALID, "a key's verifier is 32 bytes")
	}
	caller := callerOf(ctx)
	at := l.Now()
	var out onemap.Source
	err := l.db.inTx(ctx, caller.Actor(), "source add", func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM grids WHERE code = $1`, s.Region).Scan(&n); err != nil {
			return mapError(err)
		}
		if n == 0 {
			return onemap.FieldErrorf("region", onemap.EINVALID, "no grid has code %s", s.Region)
		}
		var err error
		out, err = scanSource(tx.QueryRow(ctx, `INSERT INTO ingest_sources (name, verifier, kinds, region, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING `+sourceColumns,
			s.Name, verifier, s.Kinds, s.Region, at, caller.Actor()))
		if onemap.ErrorCode(err) == onemap.ENOTFOUND {
			return onemap.FieldErrorf("name", onemap.ECONFLICT, "a source named %s exists already (revoked or not): choose another name", s.Name)
		}
		if err != nil {
			return err
		}
		return appendAudit(ctx, tx, caller, onemap.AuditSourceAdd, sourceTarget(s.Name), map[string]any{"kinds": s.Kinds, "region": s.Region})
	})
	return out, err
}

// ListSources returns every source, revoked or not, by name, and records
// the listing in the audit trail.
func (l *Live) ListSources(ctx context.Context) ([]onemap.Source, error) {
	caller := callerOf(ctx)
	var out []onemap.Source
	err := l.db.inTx(ctx, caller.Actor(), "source list", func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+sourceColumns+` FROM ingest_sources ORDER BY name`)
		if err != nil {
			return mapError(err)
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (onemap.Source, error) { return scanSource(r) })
		if err != nil {
			return mapError(err)
		}
		return appendAudit(ctx, tx, caller, onemap.AuditSourceList, "sources", map[string]any{"count": len(out)})
	})
	return out, err
}

// RevokeSource revokes a source: its requests are refused from now on. A
// source revoked already is left as it is (ENOTFOUND for no such source).
func (l *Live) RevokeSource(ctx context.Context, name string) (onemap.Source, error) {
	caller := callerOf(ctx)
	at := l.Now()
	var out onemap.Source
	err := l.db.inTx(ctx, caller.Actor(), "source revoke", func(tx pgx.Tx) error {
		var err error
		out, err = scanSource(tx.QueryRow(ctx, `UPDATE ingest_sources SET revoked_at = coalesce(revoked_at, $2) WHERE name = $1
			RETURNING `+sourceColumns, name, at))
		if onemap.ErrorCode(err) == onemap.ENOTFOUND {
			return onemap.Errorf(onemap.ENOTFOUND, "no source named %.70q", name)
		}
		if err != nil {
			return err
		}
		return appendAudit(ctx, tx, caller, onemap.AuditSourceRevoke, sourceTarget(name), nil)
	})
	return out, err
}

// FindSource returns the source named name with its key's verifier.
func (l *Live) FindSource(ctx context.Context, name string) (onemap.Source, []byte, error) {
	var verifier []byte
	s, err := scanSource(l.db.pool.QueryRow(ctx, `SELECT `+sourceColumns+`, verifier FROM ingest_sources WHERE name = $1`, name), &verifier)
	if onemap.ErrorCode(err) == onemap.ENOTFOUND {
		return s, nil, onemap.Errorf(onemap.EUNAUTHORIZED, "no source named %.70q", name)
	}
	return s, verifier, err
}

// UseSignature records a source's signature as used at now, removing the
// source's signatures older than the window; it reports false for a
// signature used before (a replay), on any server.
func (l *Live) UseSignature(ctx context.Context, sourceID int64, sig []byte) (bool, error) {
	at := l.Now()
	// One statement, one round trip. Twice the window: a request's
	// timestamp may lie the window on either side of the clock.
	tag, err := l.db.pool.Exec(ctx, `WITH gone AS (DELETE FROM ingest_signatures WHERE source_id = $1 AND seen_at < $4)
		INSERT INTO ingest_signatures (source_id, signature, seen_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		sourceID, sig, at, at.Add(-2*onemap.SignatureWindow))
	if err != nil {
		return false, mapError(fmt.Errorf("postgis: signature: %w", err))
	}
	return tag.RowsAffected() == 1, nil
}

// ListQuarantine returns the events kept for unknown devices, newest
// first: at most limit, with ids below before (0: from the newest).
func (l *Live) ListQuarantine(ctx context.Context, before int64, limit int) ([]onemap.QuarantinedEvent, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var b *int64
	if before > 0 {
		b = &before
	}
	rows, err := l.db.pool.Query(ctx, `SELECT q.id, s.name, q.event_id, q.kind, q.device_code, q.event_at, q.received_at, q.reason
		FROM ingest_quarantine q JOIN ingest_sources s ON s.id = q.source_id
		WHERE $1::bigint IS NULL OR q.id < $1 ORDER BY q.id DESC LIMIT $2`, b, limit)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (onemap.QuarantinedEvent, error) {
		var q onemap.QuarantinedEvent
		err := r.Scan(&q.ID, &q.Source, &q.EventID, &q.Kind, &q.Device, &q.At, &q.ReceivedAt, &q.Reason)
		q.At, q.ReceivedAt = q.At.UTC(), q.ReceivedAt.UTC()
		return q, err
	})
	return out, mapError(err)
}

// camera is what an ingest needs of a camera.
type camera struct {
	id     int64
	status string
	inArea bool // in the source's region
}

// stormPair is a camera and an alarm kind: a batch's events of one pair
// raise or join one alarm.
type stormPair struct {
	camera int64
	kind   string
}

// stormGroup is the alarm that a batch's events of one stormPair raise or
// join, and what they add to it.
type stormGroup struct {
	id       int64              // the open alarm joined; 0 for a new one until it is written
	base     int                // its count before the batch (0: new)
	n        int                // the batch's events in it
	first    onemap.IngestEvent // a new alarm's first event
	severity int                // the least of the events' (1 most severe)
	// The first of the events' that is given, for a field the alarm has
	// empty.
	description, watchlist, snapshot string
	fill                             []int // the results that get a new alarm's id
}

// add joins event e to g and returns g's count after it.
func (g *stormGroup) add(e onemap.IngestEvent) int {
	if g.n == 0 && g.id == 0 {
		g.first, g.severity = e, e.Severity
	}
	g.n++
	g.severity = min(g.severity, e.Severity)
	if g.description == "" {
		g.description = e.Description
	}
	if g.watchlist == "" {
		g.watchlist = e.Watchlist
	}
	if g.snapshot == "" {
		g.snapshot = e.Snapshot
	}
	return g.base + g.n
}

// priorEventRow is what became of an event id the source sent before.
type priorEventRow struct {
	alarm, quarantine, camera int64
	count                     int // the alarm's count when read
}

// ingestPlan is what a batch of camera events writes, worked out in
// memory from what the database holds (planIngest), so that each table
// is written by one statement for the whole batch.
type ingestPlan struct {
	results []onemap.IngestResult
	groups  map[stormPair]*stormGroup // the alarms raised or joined
	order   []stormPair               // groups in the order the batch first names them
	// The events written to ingest_events (the first of each id not sent
	// before), with their outcome.
	written    []int
	outcomes   []string
	quarantine []int            // the events quarantined
	dupOf      map[int]int      // a batch's second event of an id: the first's index
	status     map[int64]string // the status each camera is to have
	heard      map[int64]bool   // the cameras heard from (liveness)
}

// planIngest works out what the batch's events do, in the order sent:
// prior holds the event ids the source sent before, open the open alarm
// of each camera and kind within the storm window (read under the storm
// locks), cams the cameras by device code. It mirrors event by event what
// applying them one at a time would do: an id sent before, or earlier in
// the batch, is a duplicate; events of one camera and kind join one
// alarm, each answered with the alarm's count after it.
func planIngest(events []onemap.IngestEvent, cams map[string]camera, prior map[string]priorEventRow, open map[stormPair]priorEventRow) ingestPlan {
	p := ingestPlan{results: make([]onemap.IngestResult, len(events)), groups: map[stormPair]*stormGroup{},
		dupOf: map[int]int{}, status: map[int64]string{}, heard: map[int64]bool{}}
	firstOf := map[string]int{}
	groupOf := map[int]*stormGroup{}   // by event index, of the alarm events
	byAlarm := map[int64]*stormGroup{} // the open alarms joined, by id
	for i, e := range events {
		r := &p.results[i]
		r.ID = e.ID
		if j, ok := firstOf[e.ID]; ok { // the same id earlier in the batch
			p.dupOf[i] = j
			r.Outcome, r.Count = onemap.IngestDuplicate, p.results[j].Count
			if g := groupOf[j]; g != nil {
				r.Count = g.base + g.n
			} else if g := byAlarm[p.results[j].AlarmID]; g != nil && p.results[j].AlarmID != 0 {
				r.Count = g.base + g.n
			}
			continue
		}
		firstOf[e.ID] = i
		if pr, ok := prior[e.ID]; ok {
			r.Outcome, r.AlarmID, r.QuarantineID, r.CameraID, r.Count = onemap.IngestDuplicate, pr.alarm, pr.quarantine, pr.camera, pr.count
			if g := byAlarm[pr.alarm]; g != nil && pr.alarm != 0 {
				r.Count = g.base + g.n
			}
			continue
		}
		c, known := cams[e.Device]
		outcome := e.Kind
		switch {
		case !known:
			r.Outcome, r.Reason = onemap.IngestQuarantined, "no camera has device code "+e.Device
			p.quarantine = append(p.quarantine, i)
			outcome = "quarantined"
		case onemap.IsAlarmKind(e.Kind):
			k := stormPair{c.id, e.Kind}
			g := p.groups[k]
			if g == nil {
				g = &stormGroup{}
				if o, ok := open[k]; ok {
					g.id, g.base, g.severity = o.alarm, o.count, e.Severity
					byAlarm[o.alarm] = g
				}
				p.groups[k] = g
				p.order = append(p.order, k)
			}
			r.Count = g.add(e)
			r.Outcome, r.AlarmID, r.CameraID = onemap.IngestTaken, g.id, c.id
			if g.id == 0 {
				g.fill = append(g.fill, i)
			}
			groupOf[i] = g
			outcome = "alarm"
		default:
			r.Outcome, r.CameraID = onemap.IngestTaken, c.id
			cur, set := p.status[c.id]
			if !set {
				cur = c.status
			}
			switch {
			case e.Kind == onemap.EventStatus:
				p.status[c.id] = e.Status
			case cur == onemap.CameraOffline: // a heartbeat: alive; a fault stays until a status clears it
				p.status[c.id] = onemap.CameraOnline
			}
			p.heard[c.id] = true
		}
		p.written = append(p.written, i)
		p.outcomes = append(p.outcomes, outcome)
	}
	return p
}

// Ingest applies a batch of events of source src, checked already
// (onemap.CheckIngestEvent), in one transaction, and returns what became
// of each and the alarms it raised or changed. An event whose id the
// source has sent before is a duplicate, applied once only; an event for
// a device no camera has is quarantined. An event about a camera outside
// the source's region is an EFORBIDDEN error, and nothing of the batch is
// written. A camera's status changes (through the cameras layer: history,
// change feed, audit) when a status event says so, or to online at a
// heartbeat.
//
// The batch is written set-wise, in a few round trips whatever its size:
// the cameras; under the storm locks the prior events and the open
// alarms; then (planIngest) each table by one statement over arrays; the
// alarms' rows for the answer, one notification and the source's use; the
// audit record.
func (l *Live) Ingest(ctx context.Context, src onemap.Source, events []onemap.IngestEvent) ([]onemap.IngestResult, []*onemap.Alarm, error) {
	at := l.Now()
	caller := onemap.Caller{Name: src.Actor(), Role: "source"}
	if c, ok := onemap.CallerFrom(ctx); ok {
		caller.Client = c.Client
	}
	ctx = onemap.NewContext(ctx, caller)
	var (
		results []onemap.IngestResult
		changed []*onemap.Alarm
	)
	err := l.db.inTx(ctx, caller.Actor(), "ingest", func(tx pgx.Tx) error {
		var err error
		if results, changed, err = l.ingest(ctx, tx, src, events, at); err != nil {
			return err
		}
		counts := map[string]int{}
		for _, r := range results {
			counts[r.Outcome]++
		}
		return appendAudit(ctx, tx, caller, onemap.AuditIngest, sourceTarget(src.Name), map[string]any{
			"events": len(events), "taken": counts[onemap.IngestTaken], "duplicate": counts[onemap.IngestDuplicate],
			"quarantined": counts[onemap.IngestQuarantined]})
	})
	if err != nil {
		return nil, nil, err
	}
	return results, changed, nil
}

// ingest is Ingest's work in tx.
func (l *Live) ingest(ctx context.Context, tx pgx.Tx, src onemap.Source, events []onemap.IngestEvent, at time.Time) ([]onemap.IngestResult, []*onemap.Alarm, error) {
	codes := make([]string, 0, len(events))
	ids := make([]string, 0, len(events))
	for _, e := range events {
		codes, ids = append(codes, e.Device), append(ids, e.ID)
	}
	// The cameras named, and whether each lies in the region: the
	// region's grid or one below it.
	rows, err := tx.Query(ctx, `WITH RECURSIVE region AS (
			SELECT id FROM grids WHERE code = $2
			UNION SELECT g.id FROM grids g JOIN region r ON g.parent_id = r.id)
		SELECT c.device_code, c.id, c.status, c.grid_id IS NOT NULL AND c.grid_id IN (SELECT id FROM region)
		FROM cameras c WHERE c.device_code = ANY($1)`, codes, src.Region)
	if err != nil {
		return nil, nil, mapError(err)
	}
	cams := map[string]camera{}
	var code string
	var c camera
	if _, err := pgx.ForEachRow(rows, []any{&code, &c.id, &c.status, &c.inArea}, func() error { cams[code] = c; return nil }); err != nil {
		return nil, nil, mapError(err)
	}
	for _, e := range events {
		if c, ok := cams[e.Device]; ok && !c.inArea {
			return nil, nil, onemap.FieldErrorf("device", onemap.EFORBIDDEN, "event %.40q: camera %s lies outside source %s's region %s: nothing of the batch was taken",
				e.ID, e.Device, src.Name, src.Region)
		}
	}
	var pairCams []int64
	var pairKinds []string
	seen := map[stormPair]bool{}
	for _, e := range events {
		if c, ok := cams[e.Device]; ok && onemap.IsAlarmKind(e.Kind) && !seen[stormPair{c.id, e.Kind}] {
			seen[stormPair{c.id, e.Kind}] = true
			pairCams, pairKinds = append(pairCams, c.id), append(pairKinds, e.Kind)
		}
	}
	// One round trip: the storm locks first, in one order (two batches
	// about the same cameras never wait on each other the other way
	// round); then, under them, the events sent before and the open
	// alarm of each camera and kind.
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock(hashtext('onemap.alarm'), k) FROM (
			SELECT DISTINCT k FROM unnest($1::int[]) AS k ORDER BY k) s`, stormKeys(events, cams))
	b.Queue(`SELECT e.event_id, coalesce(e.alarm_id, 0), coalesce(e.quarantine_id, 0), coalesce(e.camera_id, 0), coalesce(a.count, 0)
		FROM ingest_events e LEFT JOIN alarms a ON a.id = e.alarm_id WHERE e.source_id = $1 AND e.event_id = ANY($2)`, src.ID, ids)
	b.Queue(`SELECT p.cam, p.kind, o.id, o.count FROM unnest($1::bigint[], $2::text[]) AS p(cam, kind)
		CROSS JOIN LATERAL (SELECT id, count FROM alarms WHERE camera_id = p.cam AND kind = p.kind AND status IN ('new', 'acknowledged')
			AND last_at >= $3 ORDER BY last_at DESC LIMIT 1) o`, pairCams, pairKinds, at.Add(-l.storm))
	prior := map[string]priorEventRow{}
	open := map[stormPair]priorEventRow{}
	err = func() error {
		br := tx.SendBatch(ctx, b)
		defer br.Close()
		if _, err := br.Exec(); err != nil {
			return err
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		var id string
		var pr priorEventRow
		if _, err := pgx.ForEachRow(rows, []any{&id, &pr.alarm, &pr.quarantine, &pr.camera, &pr.count}, func() error {
			prior[id] = pr
			return nil
		}); err != nil {
			return err
		}
		if rows, err = br.Query(); err != nil {
			return err
		}
		var k stormPair
		if _, err := pgx.ForEachRow(rows, []any{&k.camera, &k.kind, &pr.alarm, &pr.count}, func() error {
			open[k] = pr
			return nil
		}); err != nil {
			return err
		}
		return br.Close()
	}()
	if err != nil {
		return nil, nil, mapError(fmt.Errorf("postgis: ingest: %w", err))
	}
	p := planIngest(events, cams, prior, open)
	if err := l.writeIngest(ctx, tx, src, events, p, at); err != nil {
		return nil, nil, mapError(fmt.Errorf("postgis: ingest: %w", err))
	}
	for i, j := range p.dupOf { // the first's alarm, quarantine and camera, at the count then
		r := &p.results[i]
		f := p.results[j]
		r.AlarmID, r.QuarantineID, r.CameraID = f.AlarmID, f.QuarantineID, f.CameraID
	}
	// The alarms raised or changed, by id, for the answer and the streams.
	var changedIDs []int64
	for _, g := range p.groups {
		changedIDs = append(changedIDs, g.id)
	}
	slices.Sort(changedIDs)
	// One round trip: the alarms' rows, their ids notified at the commit
	// (notifyAlarms' form), and last the source's use: its row is locked
	// from here to the commit, so batches of one source wait on each
	// other only for the audit record and the commit.
	b = &pgx.Batch{}
	if len(changedIDs) > 0 {
		parts := make([]string, len(changedIDs))
		for i, id := range changedIDs {
			parts[i] = strconv.FormatInt(id, 10)
		}
		b.Queue(`SELECT `+alarmColumns+alarmFrom+` WHERE a.id = ANY($1) ORDER BY a.id`, changedIDs)
		b.Queue(`SELECT pg_notify($1, $2)`, AlarmChannel, strings.Join(parts, ","))
	}
	b.Queue(`UPDATE ingest_sources SET last_used_at = $2 WHERE id = $1`, src.ID, at)
	var changed []*onemap.Alarm
	err = func() error {
		br := tx.SendBatch(ctx, b)
		defer br.Close()
		if len(changedIDs) > 0 {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			if changed, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*onemap.Alarm, error) { return scanAlarm(r) }); err != nil {
				return err
			}
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		if _, err := br.Exec(); err != nil {
			return err
		}
		return br.Close()
	}()
	if err != nil {
		return nil, nil, mapError(fmt.Errorf("postgis: ingest alarms: %w", err))
	}
	return p.results, changed, nil
}

// writeIngest writes plan p of a batch in one round trip, a statement a
// table: the open alarms joined; the new alarms, the quarantined events
// and every event's record (one statement, which answers the new ids,
// filled into p); the cameras' liveness and status.
func (l *Live) writeIngest(ctx context.Context, tx pgx.Tx, src onemap.Source, events []onemap.IngestEvent, p ingestPlan, at time.Time) error {
	b := &pgx.Batch{}
	// The open alarms joined.
	var (
		upIDs                  []int64
		upN                    []int32
		upSev                  []int16
		upDesc, upWatch, upRef []string
	)
	// The new alarms, in the order the batch first names them.
	var (
		newCams                    []int64
		newKinds                   []string
		newN                       []int32
		newSev                     []int16
		newAt                      []time.Time
		newDesc, newWatch, newRefs []string
	)
	for _, k := range p.order {
		g := p.groups[k]
		if g.id != 0 {
			upIDs, upN, upSev = append(upIDs, g.id), append(upN, int32(g.n)), append(upSev, int16(g.severity))
			upDesc, upWatch, upRef = append(upDesc, g.description), append(upWatch, g.watchlist), append(upRef, g.snapshot)
			continue
		}
		newCams, newKinds, newN, newSev = append(newCams, k.camera), append(newKinds, k.kind), append(newN, int32(g.n)), append(newSev, int16(g.severity))
		newAt = append(newAt, g.first.At)
		newDesc, newWatch, newRefs = append(newDesc, g.description), append(newWatch, g.watchlist), append(newRefs, g.snapshot)
	}
	if len(upIDs) > 0 {
		b.Queue(`UPDATE alarms a SET count = a.count + u.n, last_at = greatest(a.last_at, $7), severity = least(a.severity, u.severity),
				description = CASE WHEN a.description = '' THEN u.description ELSE a.description END,
				watchlist = CASE WHEN a.watchlist = '' THEN u.watchlist ELSE a.watchlist END,
				snapshot_ref = CASE WHEN a.snapshot_ref = '' THEN u.snapshot ELSE a.snapshot_ref END,
				version = a.version + u.n, updated_at = $7
			FROM unnest($1::bigint[], $2::int[], $3::smallint[], $4::text[], $5::text[], $6::text[]) AS u(id, n, severity, description, watchlist, snapshot)
			WHERE a.id = u.id`, upIDs, upN, upSev, upDesc, upWatch, upRef, at)
	}
	// Quarantined events.
	var qIDs, qKinds, qDevices, qReasons []string
	var qAts []time.Time
	for _, i := range p.quarantine {
		e := events[i]
		qIDs, qKinds, qDevices, qReasons = append(qIDs, e.ID), append(qKinds, e.Kind), append(qDevices, e.Device), append(qReasons, p.results[i].Reason)
		qAts = append(qAts, e.At)
	}
	// Every event's record: a new alarm's id and a quarantined event's
	// come from the statement's own inserts (by camera and kind, by
	// event id).
	var (
		evIDs, evOutcomes, evNewKinds []string
		evAlarms, evCams, evNewCams   []int64
	)
	for j, i := range p.written {
		e, r := events[i], p.results[i]
		evIDs, evOutcomes, evAlarms, evCams = append(evIDs, e.ID), append(evOutcomes, p.outcomes[j]), append(evAlarms, r.AlarmID), append(evCams, r.CameraID)
		newCam, newKind := int64(0), ""
		if r.AlarmID == 0 && p.outcomes[j] == "alarm" {
			newCam, newKind = r.CameraID, e.Kind
		}
		evNewCams, evNewKinds = append(evNewCams, newCam), append(evNewKinds, newKind)
	}
	wroteEvents := len(evIDs) > 0
	if wroteEvents {
		b.Queue(`WITH fresh AS (
				INSERT INTO alarms (kind, severity, camera_id, grid_id, geom, source_id, status, count, version, event_at, first_at, last_at,
					description, watchlist, snapshot_ref, updated_at)
				SELECT n.kind, n.severity, c.id, c.grid_id, c.geom, $1, 'new', n.n, n.n, n.event_at, $2, $2, n.description, n.watchlist, n.snapshot, $2
				FROM unnest($3::bigint[], $4::text[], $5::int[], $6::smallint[], $7::timestamptz[], $8::text[], $9::text[], $10::text[])
					WITH ORDINALITY AS n(cam, kind, n, severity, event_at, description, watchlist, snapshot, ord)
				JOIN cameras c ON c.id = n.cam ORDER BY n.ord
				RETURNING id, camera_id, kind),
			kept AS (
				INSERT INTO ingest_quarantine (source_id, event_id, kind, device_code, event_at, received_at, reason)
				SELECT $1, q.id, q.kind, q.device, q.at, $2, q.reason
				FROM unnest($11::text[], $12::text[], $13::text[], $14::timestamptz[], $15::text[]) WITH ORDINALITY AS q(id, kind, device, at, reason, ord)
				ORDER BY q.ord
				RETURNING id, event_id),
			written AS (
				INSERT INTO ingest_events (source_id, event_id, received_at, outcome, alarm_id, quarantine_id, camera_id)
				SELECT $1, e.id, $2, e.outcome, coalesce(nullif(e.alarm, 0), f.id), k.id, nullif(e.cam, 0)
				FROM unnest($16::text[], $17::text[], $18::bigint[], $19::bigint[], $20::bigint[], $21::text[]) AS e(id, outcome, alarm, cam, new_cam, new_kind)
				LEFT JOIN fresh f ON f.camera_id = e.new_cam AND f.kind = e.new_kind
				LEFT JOIN kept k ON k.event_id = e.id)
			SELECT 'alarm', camera_id, kind, id FROM fresh UNION ALL SELECT 'quarantine', 0, event_id, id FROM kept`,
			src.ID, at, newCams, newKinds, newN, newSev, newAt, newDesc, newWatch, newRefs,
			qIDs, qKinds, qDevices, qAts, qReasons,
			evIDs, evOutcomes, evAlarms, evCams, evNewCams, evNewKinds)
	}
	// The cameras heard from, and those whose status changes, through the
	// layer (history, change feed, audit; an unchanged status writes
	// nothing): in the order of their ids, as every batch locks them.
	heard := slices.Sorted(maps.Keys(p.heard))
	if len(heard) > 0 {
		b.Queue(`INSERT INTO camera_liveness (camera_id, last_at, source_id) SELECT id, $2, $3 FROM unnest($1::bigint[]) AS id ORDER BY id
			ON CONFLICT (camera_id) DO UPDATE SET last_at = greatest(camera_liveness.last_at, EXCLUDED.last_at), source_id = EXCLUDED.source_id`,
			heard, at, src.ID)
	}
	statusIDs := slices.Sorted(maps.Keys(p.status))
	if len(statusIDs) > 0 {
		statuses := make([]string, len(statusIDs))
		for i, id := range statusIDs {
			statuses[i] = p.status[id]
		}
		b.Queue(`UPDATE cameras c SET status = u.status FROM (
				SELECT k.id, x.status FROM unnest($1::bigint[], $2::text[]) AS x(id, status) JOIN cameras k ON k.id = x.id
				WHERE k.status <> x.status ORDER BY k.id FOR UPDATE OF k) u
			WHERE c.id = u.id`, statusIDs, statuses)
	}
	if len(b.QueuedQueries) == 0 {
		return nil
	}
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	if len(upIDs) > 0 {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("open alarms: %w", err)
		}
	}
	if wroteEvents {
		rows, err := br.Query()
		if err != nil {
			return fmt.Errorf("events: %w", err)
		}
		fresh := map[stormPair]int64{}
		kept := map[string]int64{}
		var what, key string
		var cam, id int64
		if _, err := pgx.ForEachRow(rows, []any{&what, &cam, &key, &id}, func() error {
			if what == "alarm" {
				fresh[stormPair{cam, key}] = id
			} else {
				kept[key] = id
			}
			return nil
		}); err != nil {
			return fmt.Errorf("events: %w", err)
		}
		for k, g := range p.groups {
			if g.id != 0 {
				continue
			}
			if g.id = fresh[k]; g.id == 0 {
				return fmt.Errorf("no alarm written for camera %d, %s", k.camera, k.kind)
			}
			for _, i := range g.fill {
				p.results[i].AlarmID = g.id
			}
		}
		for _, i := range p.quarantine {
			p.results[i].QuarantineID = kept[events[i].ID]
		}
	}
	for range len(b.QueuedQueries) - btoi(len(upIDs) > 0) - btoi(wroteEvents) {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	return br.Close()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// stormKeys returns the storm lock keys of the batch's alarm events about
// known cameras: the camera's id and the kind, folded into 32 bits.
func stormKeys(events []onemap.IngestEvent, cams map[string]camera) []int32 {
	var keys []int32
	for _, e := range events {
		if c, ok := cams[e.Device]; ok && onemap.IsAlarmKind(e.Kind) {
			keys = append(keys, stormKey(c.id, e.Kind))
		}
	}
	return keys
}

func stormKey(camera int64, kind string) int32 {
	i := slices.Index(onemap.AlarmKinds(), kind) // fewer than 16 kinds
	return int32(uint32(camera)*16 + uint32(i))
}

// priorEvent reports whether the source has sent event id before, and if
// so fills what became of it.
func priorEvent(ctx context.Context, tx pgx.Tx, source int64, id string, r *onemap.IngestResult) (bool, error) {
	var alarm, quarantine, cam *int64
	var count *int
	err := tx.QueryRow(ctx, `SELECT e.alarm_id, e.quarantine_id, e.camera_id, a.count FROM ingest_events e
		LEFT JOIN alarms a ON a.id = e.alarm_id WHERE e.source_id = $1 AND e.event_id = $2`, source, id).Scan(&alarm, &quarantine, &cam, &count)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, mapError(fmt.Errorf("postgis: ingest event: %w", err))
	}
	if alarm != nil {
		r.AlarmID = *alarm
	}
	if quarantine != nil {
		r.QuarantineID = *quarantine
	}
	if cam != nil {
		r.CameraID = *cam
	}
	if count != nil {
		r.Count = *count
	}
	return true, nil
}

// MarkSilentCameras turns offline the online cameras last heard from (a
// heartbeat or a status) more than silence ago, through the cameras layer
// (history, change feed, audit, by "system"), and returns how many. A
// camera never heard from through the ingest is left as it is.
func (l *Live) MarkSilentCameras(ctx context.Context, silence time.Duration) (int64, error) {
	before := l.Now().Add(-silence)
	var n int64
	err := l.db.inTx(ctx, "system", "no heartbeat since "+before.Format(time.RFC3339), func(tx pgx.Tx) error {
		// Locked in the order of their ids, as an ingest locks them.
		tag, err := tx.Exec(ctx, `UPDATE cameras SET status = 'offline' WHERE id IN (
				SELECT c.id FROM cameras c JOIN camera_liveness l ON l.camera_id = c.id
				WHERE c.status = 'online' AND l.last_at < $1 ORDER BY c.id FOR UPDATE OF c)`, before)
		if err != nil {
			return mapError(fmt.Errorf("postgis: silent cameras: %w", err))
		}
		n = tag.RowsAffected()
		return nil
	})
	return n, err
}
