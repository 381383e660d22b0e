package postgis

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/ewkb"
)

// HistoryReport says what SeedCaseHistory did.
type HistoryReport struct {
	// Skipped is true when the database already held cases and the seed was
	// asked to seed an empty one only: nothing was written.
	Skipped bool
	// Cases, Steps, Disputes and Sessions count the rows written; Open the
	// cases still open.
	Cases, Steps, Disputes, Sessions, Open int
	Took                                   time.Duration
}

// SeedCaseHistory loads a history of cases in one transaction: each batch
// that each hands it is bulk-loaded with COPY (cases, their steps, the
// disputes' records and sessions), every row marked synthetic, with no
// audit record (a seed is no one's work). Grids are named by code; a code
// the database has no grid for is an error. The database must hold no
// case: if it does, the report says Skipped when ifEmpty is true, and an
// ECONFLICT error otherwise; either way nothing is written.
func (db *DB) SeedCaseHistory(ctx context.Context, each func(func([]onemap.SeedCase) error) error, ifEmpty bool) (HistoryReport, error) {
	start := time.Now()
	var rep HistoryReport
	err := db.inEdit(ctx, edit{actor: seedActor, code: onemap.ReasonSeed}, func(tx pgx.Tx) error {
		skip, err := seedBegin(ctx, tx, "seed history", `SELECT EXISTS (SELECT 1 FROM cases)`, ifEmpty,
			"the database already holds cases: a history is seeded into a database without any")
		if err != nil || skip {
			rep.Skipped = skip
			return err
		}
		rows, err := tx.Query(ctx, `SELECT code, id FROM grids`)
		if err != nil {
			return mapError(fmt.Errorf("postgis: seed history: grids: %w", err))
		}
		ids := map[string]int64{}
		var (
			code string
			id   int64
		)
		if _, err := pgx.ForEachRow(rows, []any{&code, &id}, func() error { ids[code] = id; return nil }); err != nil {
			return mapError(fmt.Errorf("postgis: seed history: grids: %w", err))
		}
		l := &historyLoader{ctx: ctx, tx: tx, ids: ids, rep: &rep}
		if err := each(l.load); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `ANALYZE cases; ANALYZE case_steps; ANALYZE disputes; ANALYZE dispute_sessions`)
		return err
	})
	rep.Took = time.Since(start)
	if err != nil {
		return HistoryReport{Took: rep.Took}, mapError(err)
	}
	if db.log != nil && !rep.Skipped {
		db.log.Info("seeded the history of cases", "cases", rep.Cases, "open", rep.Open, "steps", rep.Steps,
			"disputes", rep.Disputes, "took", rep.Took.Round(time.Millisecond))
	}
	return rep, nil
}

// pointEWKB is a WGS-84 point as PostGIS's binary form takes it.
func pointEWKB(p orb.Point) []byte {
	b, err := ewkb.Marshal(p, 4326)
	if err != nil {
		panic(err) // a point always encodes
	}
	return b
}

// historyLoader copies the batches of one history.
type historyLoader struct {
	ctx context.Context
	tx  pgx.Tx
	ids map[string]int64
	rep *HistoryReport
}

// grid returns the id of a grid code ("": NULL).
func (l *historyLoader) grid(code string) (*int64, error) {
	if code == "" {
		return nil, nil
	}
	id, ok := l.ids[code]
	if !ok {
		return nil, fmt.Errorf("postgis: seed history: no grid %s", code)
	}
	return &id, nil
}

func (l *historyLoader) load(batch []onemap.SeedCase) error {
	if len(batch) == 0 {
		return nil
	}
	ctx, tx := l.ctx, l.tx
	rows, err := tx.Query(ctx, `SELECT nextval(pg_get_serial_sequence('cases', 'id')) FROM generate_series(1, $1::int)`, len(batch))
	if err != nil {
		return mapError(fmt.Errorf("postgis: seed history: ids: %w", err))
	}
	caseIDs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return mapError(fmt.Errorf("postgis: seed history: ids: %w", err))
	}
	var cases, steps, disputes, sessions [][]any
	for i, sc := range batch {
		c, id := sc.Case, caseIDs[i]
		place, err := l.grid(sc.GridCode)
		if err != nil {
			return err
		}
		holder, err := l.grid(sc.HolderCode)
		if err != nil || holder == nil {
			return fmt.Errorf("postgis: seed history: case %s has no holder grid %q: %v", c.TrackingCode, sc.HolderCode, err)
		}
		assigned, err := l.grid(sc.AssignedCode)
		if err != nil {
			return err
		}
		cases = append(cases, []any{id, c.TrackingCode, string(c.Source), c.Category, c.Description,
			pointEWKB(c.Point), place, *holder, c.Level, string(c.Status), c.Version,
			assigned, c.Assignee, c.Department, c.ReporterPhone, c.ReportedBy, c.CreatedAt, c.UpdatedAt, c.Deadlines.From,
			c.Deadlines.Accept, c.Deadlines.Response, c.Deadlines.Close, nullTime(c.AcceptedAt), nullTime(c.RespondedAt),
			nullTime(c.ClosedAt), c.Escalations, true})
		if c.Status.Open() {
			l.rep.Open++
		}
		for _, s := range sc.Steps {
			st := s.Step
			g, err := l.grid(s.GridCode)
			if err != nil {
				return err
			}
			var from *string
			if st.From != "" {
				f := string(st.From)
				from = &f
			}
			steps = append(steps, []any{id, st.Seq, st.At, st.Actor, string(st.Role), st.Action, from, string(st.To), st.Level, g,
				st.Assignee, st.Department, st.Note, st.Public, nullTime(st.Due)})
		}
		if sd := sc.Dispute; sd != nil {
			d := sd.Dispute
			held, err := l.grid(sd.GridCode)
			if err != nil || held == nil {
				return fmt.Errorf("postgis: seed history: dispute %s has no grid %q: %v", c.TrackingCode, sd.GridCode, err)
			}
			town, err := l.grid(sd.TownshipCode)
			if err != nil {
				return err
			}
			disputes = append(disputes, []any{id, d.Kind, d.Summary, partiesJSON(d.Parties), namesJSON(d.Mediators), d.Level, *held,
				town, string(d.Outcome), d.Agreement, d.Escalations, d.Version, d.CreatedAt, d.UpdatedAt, nullTime(d.EndedAt), true})
			for j, m := range d.Sessions {
				g, err := l.grid(sd.SessionGrids[j])
				if err != nil || g == nil {
					return fmt.Errorf("postgis: seed history: dispute %s session %d: %v", c.TrackingCode, j+1, err)
				}
				sessions = append(sessions, []any{id, m.Seq, m.At, m.Actor, m.Level, *g, namesJSON(m.Mediators), m.Note, m.Result})
			}
		}
	}
	for _, t := range []struct {
		table string
		cols  []string
		rows  [][]any
		count *int
	}{
		{"cases", []string{"id", "tracking_code", "source", "category", "description", "geom", "grid_id", "holder_grid_id", "level",
			"status", "version", "assigned_grid_id", "assignee", "department", "reporter_phone", "reported_by", "created_at", "updated_at",
			"due_from", "accept_due", "respond_due", "close_due", "accepted_at", "responded_at", "closed_at", "escalations", "synthetic"},
			cases, &l.rep.Cases},
		{"case_steps", []string{"case_id", "seq", "at", "actor", "role", "action", "from_status", "to_status", "level", "grid_id",
			"assignee", "department", "note", "public", "due"}, steps, &l.rep.Steps},
		{"disputes", []string{"case_id", "kind", "summary", "parties", "mediators", "level", "grid_id", "township_id", "outcome",
			"agreement", "escalations", "version", "created_at", "updated_at", "ended_at", "synthetic"}, disputes, &l.rep.Disputes},
		{"dispute_sessions", []string{"case_id", "seq", "at", "actor", "level", "grid_id", "mediators", "note", "result"},
			sessions, &l.rep.Sessions},
	} {
		n, err := tx.CopyFrom(ctx, pgx.Identifier{t.table}, t.cols, pgx.CopyFromRows(t.rows))
		if err != nil {
			return mapError(fmt.Errorf("postgis: seed history: copy %s: %w", t.table, err))
		}
		*t.count += int(n)
	}
	return nil
}
