package postgis_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
)

// TestDB_SeedDemo_AssessmentsFollowRules: in the seeded demo county, and
// in the seeded demo prefecture, every household and risk point has the
// assessment that set it, and its level is the one the county's rules
// give that assessment (HouseholdLevel of the ticks kept; RiskPointLevel of
// the grade), its next due day the one the cycle gives, and its
// responsible cadre the person of the grid of the level the rules name.
// The demo has households at every level, and a household's own dispute
// situation is ticked unless its dispute was settled and nothing is.
func TestDB_SeedDemo_AssessmentsFollowRules(t *testing.T) {
	t.Run("county", func(t *testing.T) { checkSeededAssessments(t, pgtest.DemoURL(t)) })
	t.Run("prefecture", func(t *testing.T) { checkSeededAssessments(t, pgtest.PrefectureURL(t)) })
}

func checkSeededAssessments(t *testing.T, url string) {
	ctx := context.Background()
	rules, err := postgis.NewAssessments(pgtest.Open(t, url), nil).AssessmentRules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn := seedConn(t, url)
	type row struct {
		subject, kind, level, grade, rname       string
		last, next                               time.Time
		aid                                      *int64
		sit, cat                                 []byte
		aLevel, aGrade, aStatus, aRLevel, aRName *string
		aOn, aNext                               *time.Time
		aNote                                    *string
		worker                                   *string
	}
	// The last assessment of each subject, and the worker of the grid of
	// the level the rules name for a household's level.
	rows, err := conn.Query(ctx, `WITH s AS (
			SELECT 'household' AS subject, id, kind, level, '' AS grade, responsible_name, last_assessed_on, next_assessment_due, grid_id FROM households
			UNION ALL SELECT 'risk_point', id, kind, level, coalesce(grade, ''), responsible_name, last_assessed_on, next_assessment_due, grid_id FROM risk_points)
		SELECT s.subject, s.kind, s.level, s.grade, coalesce(s.responsible_name, ''), s.last_assessed_on, s.next_assessment_due,
		       a.id, a.situations::text, a.categories::text, a.level, coalesce(a.grade, ''), a.status,
		       coalesce(a.responsible_level, ''), coalesce(a.responsible_name, ''), a.assessed_on, a.next_due, a.note,
		       (WITH RECURSIVE up AS (SELECT id, parent_id, level, worker_name FROM grids WHERE id = s.grid_id
		                              UNION ALL SELECT g.id, g.parent_id, g.level, g.worker_name FROM grids g JOIN up ON g.id = up.parent_id)
		        SELECT worker_name FROM up JOIN assessment_responsibles r ON r.grid_level = up.level WHERE r.level = s.level LIMIT 1)
		FROM s LEFT JOIN LATERAL (SELECT * FROM assessments a WHERE a.subject = s.subject AND a.subject_id = s.id ORDER BY a.id DESC LIMIT 1) a ON true
		ORDER BY s.subject, s.id`)
	if err != nil {
		t.Fatal(err)
	}
	var r row
	levels := map[string]map[string]int{}
	bad := 0
	fail := func(format string, args ...any) {
		bad++
		if bad <= 10 {
			t.Errorf(format, args...)
		}
	}
	_, err = pgx.ForEachRow(rows, []any{&r.subject, &r.kind, &r.level, &r.grade, &r.rname, &r.last, &r.next,
		&r.aid, &r.sit, &r.cat, &r.aLevel, &r.aGrade, &r.aStatus, &r.aRLevel, &r.aRName, &r.aOn, &r.aNext, &r.aNote, &r.worker}, func() error {
		if levels[r.subject] == nil {
			levels[r.subject] = map[string]int{}
		}
		levels[r.subject][r.level]++
		if r.aid == nil {
			fail("%s (%s %s) has no assessment", r.subject, r.kind, r.level)
			return nil
		}
		var want string
		key := r.kind
		switch r.subject {
		case onemap.AssessHousehold:
			var sit, cat []onemap.Tick
			if err := json.Unmarshal(r.sit, &sit); err != nil {
				return err
			}
			if err := json.Unmarshal(r.cat, &cat); err != nil {
				return err
			}
			want, key = rules.HouseholdLevel(sit, cat), r.level
			ownTicked := len(sit) == 1 && sit[0].Code == r.kind
			if !ownTicked && (len(sit)+len(cat) > 0 || *r.aNote == "") {
				fail("household %d of kind %s: its situation is not ticked (%s) and no settlement noted (%q)", *r.aid, r.kind, r.sit, *r.aNote)
			}
			if *r.aRLevel != rules.Responsible[r.level] || r.worker == nil || r.rname != *r.worker || *r.aRName != r.rname {
				fail("household %s: responsible %q (%s) in the assessment, %q on the row, want the %s grid's worker %v",
					r.level, *r.aRName, *r.aRLevel, r.rname, rules.Responsible[r.level], r.worker)
			}
		case onemap.AssessRiskPoint:
			got, err := rules.RiskPointLevel(r.kind, *r.aLevel, *r.aGrade)
			if err != nil {
				fail("risk point assessment %d: %v", *r.aid, err)
				return nil
			}
			want = got
			if *r.aGrade != r.grade {
				fail("risk point assessment %d: grade %q, the row's %q", *r.aid, *r.aGrade, r.grade)
			}
		}
		if r.level != want || *r.aLevel != want || *r.aStatus != onemap.AssessApplied {
			fail("%s assessment %d (%s): level %s on the row, %s %s in the assessment; the rules give %s", r.subject, *r.aid, r.kind,
				r.level, *r.aLevel, *r.aStatus, want)
		}
		if due := rules.NextDue(r.subject, key, r.last); !r.aOn.Equal(r.last) || !r.aNext.Equal(r.next) || !r.next.Equal(due) {
			fail("%s assessment %d: assessed %s due %s, the row's %s due %s; the cycle gives %s", r.subject, *r.aid,
				r.aOn.Format(time.DateOnly), r.aNext.Format(time.DateOnly), r.last.Format(time.DateOnly), r.next.Format(time.DateOnly), due.Format(time.DateOnly))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if bad > 10 {
		t.Errorf("%d subjects in all", bad)
	}
	for _, l := range onemap.RiskLevels() {
		if levels[onemap.AssessHousehold][l] == 0 {
			t.Errorf("no household at level %s: %v", l, levels[onemap.AssessHousehold])
		}
	}
	t.Logf("levels: %v", levels)
}
