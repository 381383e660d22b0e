package postgis

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
)

// The parts of cases' joint handling (migration 0017; onemap's
// casejoint.go for the rules).

// caseParts returns the parts of case id, in order.
func caseParts(ctx context.Context, q queryer, id int64) ([]onemap.CasePart, error) {
	parts, err := casesParts(ctx, q, []int64{id})
	return parts[id], err
}

// casesParts returns the parts of the cases ids, in order, by case (a case
// with none is not in the map). One query through the primary key
// (case_id, part), so that a list of cases shows their parts for one read
// however long it is.
func casesParts(ctx context.Context, q queryer, ids []int64) (map[int64][]onemap.CasePart, error) {
	rows, err := q.Query(ctx, `SELECT case_id, part, seq, department, task, coalesce(grid_id, 0), due, status, updated_at, reported_at
		FROM case_parts WHERE case_id = ANY($1) ORDER BY case_id, part`, ids)
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: case parts: %w", err))
	}
	out := map[int64][]onemap.CasePart{}
	var (
		id            int64
		p             onemap.CasePart
		due, reported *time.Time
		status        string
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &p.Part, &p.Seq, &p.Department, &p.Task, &p.GridID, &due, &status, &p.UpdatedAt, &reported}, func() error {
		part := p
		part.Status, part.UpdatedAt = onemap.PartStatus(status), p.UpdatedAt.UTC()
		part.Due, part.ReportedAt = time.Time{}, time.Time{}
		if due != nil {
			part.Due = due.UTC()
		}
		if reported != nil {
			part.ReportedAt = reported.UTC()
		}
		out[id] = append(out[id], part)
		return nil
	})
	if err != nil {
		return nil, mapError(fmt.Errorf("postgis: case parts: %w", err))
	}
	return out, nil
}

// withParts fills the parts of the listed cases.
func withParts(ctx context.Context, q queryer, list []*onemap.Case) error {
	if len(list) == 0 {
		return nil
	}
	ids := make([]int64, len(list))
	for i, c := range list {
		ids[i] = c.ID
	}
	parts, err := casesParts(ctx, q, ids)
	if err != nil {
		return err
	}
	for _, c := range list {
		c.Parts = parts[c.ID]
	}
	return nil
}

// resolvePartGrids fills the level of each grid a joint step's parts name
// and refuses a grid that is not the holder's or one below it (EINVALID,
// field parts[i].grid_id).
func resolvePartGrids(ctx context.Context, tx pgx.Tx, cur *onemap.Case, a *onemap.CaseAction) error {
	for i := range a.Parts {
		p := &a.Parts[i]
		p.GridLevel = ""
		if p.GridID == 0 {
			continue
		}
		var under bool
		err := tx.QueryRow(ctx, `WITH RECURSIVE up AS (
				SELECT id, parent_id FROM grids WHERE id = $1
				UNION ALL SELECT g.id, g.parent_id FROM grids g JOIN up ON g.id = up.parent_id)
			SELECT coalesce((SELECT level FROM grids WHERE id = $1), ''), EXISTS (SELECT 1 FROM up WHERE id = $2)`,
			p.GridID, cur.HolderGridID).Scan(&p.GridLevel, &under)
		if err != nil {
			return mapError(fmt.Errorf("postgis: case part grid: %w", err))
		}
		field := fmt.Sprintf("parts[%d].grid_id", i)
		if p.GridLevel == "" {
			return onemap.FieldErrorf(field, onemap.EINVALID, "part %d: no grid %d", i+1, p.GridID)
		}
		if !under {
			return onemap.FieldErrorf(field, onemap.EINVALID, "part %d: grid %d is not grid %d, which holds case %d, nor one below it", i+1, p.GridID, cur.HolderGridID, cur.ID)
		}
	}
	return nil
}

// writeCaseParts writes what a joint or part step changed of the parts:
// the parts it organised, or the part it worked. It runs after the step is
// inserted (a part names the step that organised it).
func writeCaseParts(ctx context.Context, tx pgx.Tx, next *onemap.Case, st onemap.CaseStep, action string) error {
	for _, p := range next.Parts {
		var err error
		switch {
		case action == onemap.ActJoint && p.Seq == st.Seq:
			_, err = tx.Exec(ctx, `INSERT INTO case_parts (case_id, part, seq, department, task, grid_id, due, status, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				next.ID, p.Part, p.Seq, p.Department, p.Task, nullGrid(p.GridID), nullTime(p.Due), string(p.Status), p.UpdatedAt)
		case onemap.IsPartAction(action) && p.Part == st.Part:
			_, err = tx.Exec(ctx, `UPDATE case_parts SET status = $3, updated_at = $4, reported_at = $5 WHERE case_id = $1 AND part = $2`,
				next.ID, p.Part, string(p.Status), p.UpdatedAt, nullTime(p.ReportedAt))
		}
		if err != nil {
			return mapError(fmt.Errorf("postgis: case part %d: %w", p.Part, err))
		}
	}
	return nil
}
