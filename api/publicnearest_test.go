package api_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
)

// nearestCase is one request of a public "nearest" route: the point, the
// kinds asked for (none: every kind) and the limit.
type nearestCase struct {
	p     orb.Point
	kinds []string
	limit int
}

// checkNearest asks route (a public route answering the features of table
// nearest a point, e.g. /api/public/stations) for each case, and holds the
// answer's list, its member named after the table, to PostGIS: the same
// features in the same order (ties by id) at the same geodesic distances,
// within 1 m, from the point rounded to 1e-4° as the server rounds it. It
// returns the answers, for the caller's checks of their fields.
func checkNearest(t *testing.T, baseURL string, conn *pgx.Conn, route, table string, cases []nearestCase) []nearestAnswer {
	t.Helper()
	answers := make([]nearestAnswer, len(cases))
	for i, tc := range cases {
		q := fmt.Sprintf("%s?lon=%v&lat=%v&limit=%d", route, tc.p[0], tc.p[1], tc.limit)
		if tc.kinds != nil {
			q += "&kind=" + strings.Join(tc.kinds, ",")
		}
		resp, body := get(t, baseURL+q)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", q, resp.StatusCode, body)
		}
		answers[i] = nearestAnswer{query: q, header: resp.Header, body: body}
		var answer map[string]json.RawMessage
		if err := json.Unmarshal(body, &answer); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var count int
		var got []struct {
			ID       int64   `json:"id"`
			Distance float64 `json:"distance_m"`
		}
		if err := json.Unmarshal(answer["count"], &count); err != nil {
			t.Fatalf("%s: count: %v", q, err)
		}
		if err := json.Unmarshal(answer[table], &got); err != nil {
			t.Fatalf("%s: %s: %v", q, table, err)
		}
		at := orb.Point{math.Round(tc.p[0]*1e4) / 1e4, math.Round(tc.p[1]*1e4) / 1e4}
		rows, err := conn.Query(t.Context(), `SELECT id, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography) d
			FROM `+pgx.Identifier{table}.Sanitize()+` WHERE coalesce(cardinality($3::text[]), 0) = 0 OR kind = ANY($3) ORDER BY d, id LIMIT $4`,
			at[0], at[1], tc.kinds, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		type ref struct {
			ID int64
			D  float64
		}
		refs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ref])
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(refs) || count != len(refs) {
			t.Fatalf("%s: %d %s (count %d), PostGIS %d", q, len(got), table, count, len(refs))
		}
		for j, g := range got {
			if g.ID != refs[j].ID || math.Abs(g.Distance-refs[j].D) > 1 {
				t.Errorf("%s: #%d is %d at %.0f m; PostGIS: %d at %.1f m", q, j, g.ID, g.Distance, refs[j].ID, refs[j].D)
			}
		}
	}
	return answers
}

// nearestAnswer is an answer checkNearest had: the query asked, the
// answer's header and body.
type nearestAnswer struct {
	query  string
	header http.Header
	body   []byte
}

// asPublicRole returns a function that runs a query on conn as the
// database role the public index reads as (onemap_public), in a
// transaction rolled back after, and returns its error.
func asPublicRole(t *testing.T, conn *pgx.Conn) func(q string) error {
	return func(q string) error {
		tx, err := conn.Begin(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(t.Context())
		if _, err := tx.Exec(t.Context(), `SET LOCAL ROLE onemap_public`); err != nil {
			t.Fatal(err)
		}
		rows, err := tx.Query(t.Context(), q)
		if err != nil {
			return err
		}
		rows.Close()
		return rows.Err()
	}
}
