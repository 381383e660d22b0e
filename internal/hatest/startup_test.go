package hatest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestStartWithoutPrimary starts a server pointed at a standby while no
// primary answers (the primary stopped, the standby not promoted): it must
// start from the standby (its schema checked there), answer reads, the
// replica's and the database's (case lists, details and statistics from
// the standby), refuse changes with 503 read_only, and take them again
// once the primary is back, without a restart.
func TestStartWithoutPrimary(t *testing.T) {
	d := newDrill(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	d.primaryAndStandby(ctx)
	writeURL := pgURL(d.primary, d.standby) + "&target_session_attrs=read-write"
	serving := regexp.MustCompile(`onemap: serving at (http://\S+)`)
	// startServer starts a server (anonymous callers are commanders: no
	// session to keep) and returns its address, failing at once if it
	// stops instead.
	startServer := func(name string, args ...string) string {
		cmd := exec.Command(d.bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--metrics-addr", "off", "--log-level", "warn",
			"--basemap-demo=false", "--anonymous-role", "commander", "--database-url", writeURL}, args...)...)
		cmd.Env = os.Environ()
		out := d.start(name, cmd)
		var addr string
		waitFor(t, 90*time.Second, "server "+name+" to serve", func() bool {
			if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid)); err != nil || bytes.Contains(stat, []byte(") Z ")) {
				log, _ := os.ReadFile(filepath.Join(d.dir, "logs", name+".log"))
				t.Fatalf("server %s stopped instead of serving:\n%s", name, log)
			}
			if m := serving.FindSubmatch(out.Bytes()); m != nil {
				addr = string(m[1])
				return true
			}
			return false
		})
		return addr
	}
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(url string) (int, []byte) {
		r, err := client.Get(url)
		if err != nil {
			return 0, []byte(err.Error())
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, b
	}
	report := func(base string, n int) (int, []byte) {
		body := fmt.Sprintf(`{"category":"sanitation","description":"启动 %d","lon":102.5,"lat":25.5}`, n)
		r, err := client.Post(base+"/api/cases", "application/json", strings.NewReader(body))
		if err != nil {
			return 0, []byte(err.Error())
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, b
	}

	// --- a case, reported while the primary is up, is on the standby
	p := startServer("server-P")
	code, body := report(p, 1)
	var made struct{ ID int64 }
	if code != 201 || json.Unmarshal(body, &made) != nil || made.ID == 0 {
		t.Fatalf("a report on the primary: %d %s", code, body)
	}
	var county int64 // the county grid, whose history is read with no primary
	waitFor(t, 30*time.Second, "the case on the standby", func() bool {
		c, err := pgx.Connect(ctx, pgURL(d.standby))
		if err != nil {
			return false
		}
		defer c.Close(ctx)
		var n int
		_ = c.QueryRow(ctx, `SELECT count(*), (SELECT id FROM grids WHERE code = '532329000000') FROM cases WHERE id = $1`, made.ID).Scan(&n, &county)
		return n == 1
	})

	// --- the primary stops; a server pointed at the standby starts
	d.run(d.owner(pgbin+"/pg_ctl", "-D", d.primaryData, "-m", "fast", "-w", "stop"))
	s := startServer("server-S", "--read-database-url", pgURL(d.standby))
	for _, path := range []string{"/api/nearby?lon=102.5&lat=25.5", "/api/region", "/api/cases",
		fmt.Sprintf("/api/cases/%d", made.ID), "/api/cases/stats", "/readyz",
		// a read that was never wrapped for the standby: every read of the
		// database falls back (postgis/readpool.go)
		fmt.Sprintf("/api/grids/%d/history", county)} {
		code, body := get(s + path)
		if code != 200 {
			t.Errorf("GET %s with no primary: %d %.300s", path, code, body)
		}
		if path == "/api/cases" && !bytes.Contains(body, []byte(fmt.Sprintf(`"id":%d`, made.ID))) {
			t.Errorf("GET /api/cases with no primary: case %d missing: %.300s", made.ID, body)
		}
	}
	code, body = report(s, 2)
	var refusal struct{ Code string }
	_ = json.Unmarshal(body, &refusal)
	if code != 503 || refusal.Code != "read_only" {
		t.Errorf("a report with no primary: %d %s, want 503 read_only", code, body)
	}

	// --- the primary is back: changes go through the same server, and
	// its replica (following the standby) shows them
	d.pgStart(d.primaryData, d.primary)
	var back struct{ ID int64 }
	waitFor(t, 60*time.Second, "a report to go through once the primary is back", func() bool {
		code, body := report(s, 3)
		return code == 201 && json.Unmarshal(body, &back) == nil && back.ID > 0
	})
	waitFor(t, 30*time.Second, "the new case on the server that started without a primary", func() bool {
		code, _ := get(fmt.Sprintf("%s/api/cases/%d", s, back.ID))
		return code == 200
	})
	var ready struct{ Primary string }
	code, body = get(s + "/readyz")
	if code != 200 || json.Unmarshal(body, &ready) != nil || ready.Primary != "ok" {
		t.Errorf("/readyz once the primary is back: %d %s", code, body)
	}
}
