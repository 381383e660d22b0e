package postgis

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
)

// The demo seed's assessments: every household and risk point the seed
// writes gets the assessment that set its level (its last one), recorded
// by the seed on the day it was assessed, so that each level on the map
// is the one the county's rules give the ticks kept (a household's
// onemap.AssessmentRules.HouseholdLevel, a risk point's RiskPointLevel of
// its grade) and each next due day the one its cycle gives.

const (
	// seedAssessKindsSQL reads what an assessment may tick: the active
	// dispute situations and categories of people (migration 0015).
	seedAssessKindsSQL = `SELECT 'situations', code, name FROM dispute_kinds WHERE active
	UNION ALL SELECT 'categories', code, name FROM people_categories WHERE active
	ORDER BY 1, 2`

	// seedAssessmentsSQL writes the last assessment of each subject of
	// $1 by id: its ticks and note as given, the rest as the subject's
	// row stands (level, grade, day assessed and next due, responsible),
	// who answers for the level from assessment_responsibles, recorded
	// at 10:00 China time on the day by the seed. $2 is the subject's
	// table (from assessTables, never the caller's).
	seedAssessmentsSQL = `INSERT INTO assessments (subject, subject_id, grid_id, assessed_on, situations, categories, grade, note,
	level_before, level, responsible_level, responsible_name, responsible_phone, next_due, status, recorded_by, recorded_at)
SELECT $1, s.id, s.grid_id, s.last_assessed_on, u.sit, u.cat, %s, u.note, s.level, s.level, r.grid_level,
       s.responsible_name, s.responsible_phone, s.next_assessment_due, 'applied', $6,
       (s.last_assessed_on + time '10:00') AT TIME ZONE 'Asia/Shanghai'
FROM unnest($2::bigint[], $3::jsonb[], $4::jsonb[], $5::text[]) WITH ORDINALITY AS u(id, sit, cat, note, ord)
JOIN %s s ON s.id = u.id
LEFT JOIN assessment_responsibles r ON r.level = s.level AND $1 = 'household'
ORDER BY u.ord`
)

// seedAssessKinds adds to k what an assessment ticks and the rule table.
func seedAssessKinds(ctx context.Context, tx pgx.Tx, k *onemap.SeedKinds) error {
	rows, err := tx.Query(ctx, seedAssessKindsSQL)
	if err != nil {
		return mapError(fmt.Errorf("postgis: seed: assessment kinds: %w", err))
	}
	var list, code, name string
	_, err = pgx.ForEachRow(rows, []any{&list, &code, &name}, func() error {
		if list == "situations" {
			k.Situations = append(k.Situations, onemap.SeedKind{Code: code, Name: name})
		} else {
			k.Categories = append(k.Categories, onemap.SeedKind{Code: code, Name: name})
		}
		return nil
	})
	if err != nil {
		return mapError(fmt.Errorf("postgis: seed: assessment kinds: %w", err))
	}
	k.Rules, err = readRules(ctx, tx)
	return err
}

// seedAssessment is what the seed writes of one subject's last
// assessment beyond its row.
type seedAssessment struct {
	situations, categories []onemap.Tick
	note                   string
}

// seedAssessments writes the last assessment of each subject (ids[i] with
// as[i]) of the subject's kind.
func seedAssessments(ctx context.Context, tx pgx.Tx, subject string, ids []int64, as []seedAssessment) error {
	table, ok := assessTables[subject]
	if !ok {
		return fmt.Errorf("assessments of %q", subject)
	}
	grade := "NULL::text"
	if subject == onemap.AssessRiskPoint {
		grade = "s.grade"
	}
	sit, cat, note := make([]string, len(as)), make([]string, len(as)), make([]string, len(as))
	for i, a := range as {
		s, err := json.Marshal(ticksJSON(a.situations))
		if err != nil {
			return err
		}
		c, err := json.Marshal(ticksJSON(a.categories))
		if err != nil {
			return err
		}
		sit[i], cat[i], note[i] = string(s), string(c), a.note
	}
	tag, err := tx.Exec(ctx, fmt.Sprintf(seedAssessmentsSQL, grade, table), subject, ids, sit, cat, note, seedActor)
	if err != nil {
		return fmt.Errorf("assessments: %w", err)
	}
	if int(tag.RowsAffected()) != len(ids) {
		return fmt.Errorf("assessments: wrote %d of %d", tag.RowsAffected(), len(ids))
	}
	return nil
}
