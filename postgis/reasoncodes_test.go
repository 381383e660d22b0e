package postgis_test

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/migrations"
)

// TestMigrate_reasonCodes: migration 0010 turns the English default
// reasons of the history written before it into codes (with the restored
// version or the imported file), keeps a reason the editor typed, and from
// then on records the code the application sets, or else the operation's.
func TestMigrate_reasonCodes(t *testing.T) {
	ctx := context.Background()
	url := pgtest.EmptyURL(t)
	db := pgtest.Open(t, url)
	before := fstest.MapFS{}
	err := fs.WalkDir(migrations.FS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || name >= "0010" {
			return err
		}
		data, err := fs.ReadFile(migrations.FS, name)
		before[name] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, before); err != nil {
		t.Fatal(err)
	}
	old := []struct {
		layer, op, reason string
		want              string // reason_code, restored_version, import_file, reason after
	}{
		{"grids", "insert", "demo seed", "seed 0  "},
		{"cameras", "insert", "demo seed", "seed 0  "},
		{"grids", "insert", "create", "create 0  "},
		{"grids", "update", "update", "update 0  "},
		{"grids", "delete", "delete", "delete 0  "},
		{"grids", "update", "split", "split 0  "},
		{"grids", "delete", "merge", "merge 0  "},
		{"grids", "update", "restore version 12", "restore 12  "},
		{"grids", "insert", "import 网格 2024.zip", "import 0 网格 2024.zip "},
		{"grids", "update", "改名", "update 0  改名"},
		{"grids", "delete", "restore version x", "delete 0  restore version x"},
		{"stations", "update", "update", "update 0  update"}, // not the grid editor's default
	}
	for i, o := range old {
		if err := db.ExecForTest(ctx, `INSERT INTO feature_history (layer, feature_id, version, op, attrs, changed_by, reason)
			VALUES ($1, $2, 1, $3, '{}', 'someone', $4)`, o.layer, i+1, o.op, o.reason); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Migrate(ctx, migrations.FS); err != nil {
		t.Fatal(err)
	}
	for i, o := range old {
		var got string
		if err := db.QueryRowForTest(ctx, `SELECT format('%s %s %s %s', reason_code, coalesce(restored_version, 0), coalesce(import_file, ''), reason)
			FROM feature_history WHERE layer = $1 AND feature_id = $2`, o.layer, i+1).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != o.want {
			t.Errorf("%s %s %q: got %q, want %q", o.layer, o.op, o.reason, got, o.want)
		}
	}

	// New versions: the code set for the transaction, else the operation's.
	for _, c := range []struct{ settings, want string }{
		{"", "create 0  "},
		{"onemap.reason_code=restore onemap.restored_version=4 onemap.import_file=x", "restore 4  "},
		{"onemap.reason_code=import onemap.restored_version=4 onemap.import_file=a.kml onemap.reason=为何", "import 0 a.kml 为何"},
	} {
		var set []string
		for _, kv := range strings.Fields(c.settings) {
			k, v, _ := strings.Cut(kv, "=")
			set = append(set, fmt.Sprintf("set_config('%s', '%s', true)", k, v))
		}
		got, err := func() (string, error) {
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				return "", err
			}
			defer conn.Close(ctx)
			tx, err := conn.Begin(ctx)
			if err != nil {
				return "", err
			}
			defer tx.Rollback(ctx)
			if len(set) > 0 {
				if _, err := tx.Exec(ctx, `SELECT `+strings.Join(set, ", ")); err != nil {
					return "", err
				}
			}
			var id int64
			if err := tx.QueryRow(ctx, `INSERT INTO stations (kind, level, name, geom)
				VALUES ('police', 'village', '站', ST_SetSRID(ST_MakePoint(102.4, 25.5), 4326)) RETURNING id`).Scan(&id); err != nil {
				return "", err
			}
			var got string
			err = tx.QueryRow(ctx, `SELECT format('%s %s %s %s', reason_code, coalesce(restored_version, 0), coalesce(import_file, ''), reason)
				FROM feature_history WHERE layer = 'stations' AND feature_id = $1`, id).Scan(&got)
			return got, err
		}()
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("a write with %q: history %q, want %q", c.settings, got, c.want)
		}
	}
}
