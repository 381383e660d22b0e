// Package hatest is the failover drill of a OneMap deployment (issue 19):
// a PostgreSQL primary and a streaming standby made by pg_basebackup, two
// servers reading from the standby and one from the primary, behind nginx
// with the repository's deploy/nginx.conf, under read and write load while
// the primary dies and the standby is promoted. It has no code of its own
// beyond the test.
//
// It needs PostgreSQL 15 with PostGIS (scripts/db.sh installs them) and
// nginx (apt-get install nginx-light; scripts/test.sh installs it). Without
// them it skips, except under CI=true, where it fails. As root, PostgreSQL
// runs as the postgres user (runuser), as in scripts/db.sh.
package hatest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap/internal/testfix"
)

const pgbin = "/usr/lib/postgresql/15/bin"

// need stops the test when a piece is missing: a failure under CI, a skip
// elsewhere.
func need(t *testing.T, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("hatest: %s is missing, and CI runs the failover drill: run scripts/test.sh (it installs it)", what)
	}
	t.Skipf("hatest: %s is missing; scripts/test.sh installs it", what)
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// drill is one run: its folder, its processes, its ports.
type drill struct {
	t       *testing.T
	dir     string
	root    bool
	procs   []*exec.Cmd
	primary int // ports
	standby int
	bin     string // the onemap binary, built for the drill
	nginx   string // its path
	// the clusters' data folders
	primaryData, standbyData string
}

// owner returns cmd to run as the clusters' owner: postgres as root.
func (d *drill) owner(name string, args ...string) *exec.Cmd {
	if d.root {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	return exec.Command(name, args...)
}

// run runs a command to its end, failing the test if it fails.
func (d *drill) run(cmd *exec.Cmd) {
	d.t.Helper()
	out, err := cmd.CombinedOutput()
	if err != nil {
		d.t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
}

// start starts a process that the drill stops at its end; its output goes
// to dir/logs/name.
func (d *drill) start(name string, cmd *exec.Cmd) *testfix.SyncBuffer {
	d.t.Helper()
	f, err := os.Create(filepath.Join(d.dir, "logs", name+".log"))
	if err != nil {
		d.t.Fatal(err)
	}
	out := &testfix.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = io.MultiWriter(out, f), f
	if err := cmd.Start(); err != nil {
		d.t.Fatalf("start %s: %v", name, err)
	}
	d.procs = append(d.procs, cmd)
	return out
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// pgStart starts the cluster in data on port.
func (d *drill) pgStart(data string, port int) {
	d.t.Helper()
	d.run(d.owner(pgbin+"/pg_ctl", "-D", data, "-l", data+".log", "-w", "-t", "60", "-o",
		fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=100 -c fsync=off "+
			"-c wal_level=replica -c max_wal_senders=8 -c hot_standby=on -c wal_receiver_status_interval=1s", port, d.dir),
		"start"))
}

func pgURL(ports ...int) string {
	hosts := make([]string, len(ports))
	for i, p := range ports {
		hosts[i] = "127.0.0.1:" + strconv.Itoa(p)
	}
	return "postgres://postgres@" + strings.Join(hosts, ",") + "/onemap?sslmode=disable&connect_timeout=2"
}

func (d *drill) sql(ctx context.Context, port int, query string, args ...any) {
	d.t.Helper()
	conn, err := pgx.Connect(ctx, pgURL(port))
	if err != nil {
		d.t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, query, args...); err != nil {
		d.t.Fatalf("%s: %v", query, err)
	}
}

// TestFailoverBehindNginx is the drill. It prints its figures (reads
// failed, writes refused with 503, writes acknowledged and lost, time to
// recover) and fails if an acknowledged write is lost, a read fails, a
// refusal is not a 503 that says why, or the servers do not converge on
// the new primary.
func TestFailoverBehindNginx(t *testing.T) {
	d := newDrill(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // a bound for a hung step; a run takes 1.5 min
	defer cancel()
	d.primaryAndStandby(ctx)
	bin, primaryData, standbyData, dir, nginx := d.bin, d.primaryData, d.standbyData, d.dir, d.nginx

	// --- three servers: A on the primary, B and C reading the standby;
	// every one writes to whichever of the two is primary
	writeURL := pgURL(d.primary, d.standby) + "&target_session_attrs=read-write"
	servers := map[string]string{}
	outs := map[string]*testfix.SyncBuffer{}
	for _, name := range []string{"A", "B", "C"} {
		args := []string{"serve", "--addr", "127.0.0.1:0", "--metrics-addr", "off", "--log-level", "warn",
			"--trusted-proxies", "127.0.0.1", "--basemap-demo=false", "--database-url", writeURL}
		if name != "A" {
			args = append(args, "--read-database-url", pgURL(d.standby), "--max-lag", "5s")
		}
		cmd := exec.Command(bin, args...)
		cmd.Env = os.Environ()
		outs[name] = d.start("server-"+name, cmd)
	}
	serving := regexp.MustCompile(`onemap: serving at (http://\S+)`)
	for _, name := range []string{"A", "B", "C"} {
		waitFor(t, 60*time.Second, "server "+name+" to serve", func() bool {
			if m := serving.FindSubmatch(outs[name].Bytes()); m != nil {
				servers[name] = string(m[1])
				return true
			}
			return false
		})
	}

	// --- nginx with deploy/nginx.conf, its upstream those three
	site, err := os.ReadFile("../../deploy/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	lbPort := freePort(t)
	var upstream strings.Builder
	for _, name := range []string{"A", "B", "C"} {
		fmt.Fprintf(&upstream, "\tserver %s max_fails=3 fail_timeout=5s;\n", strings.TrimPrefix(servers[name], "http://"))
	}
	conf := regexp.MustCompile(`(?m)^\tserver 127\.0\.0\.1:808\d [^\n]*\n`).ReplaceAllString(string(site), "")
	conf = strings.Replace(conf, "\tleast_conn;\n", "\tleast_conn;\n"+upstream.String(), 1)
	conf = strings.Replace(conf, "listen 80;", fmt.Sprintf("listen 127.0.0.1:%d;", lbPort), 1)
	if err := os.WriteFile(filepath.Join(dir, "onemap.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	main := fmt.Sprintf(`pid %[1]s/nginx.pid;
error_log %[1]s/logs/nginx-error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path %[1]s/nginx-body;
	proxy_temp_path %[1]s/nginx-proxy;
	include %[1]s/onemap.conf;
}
`, dir)
	if err := os.WriteFile(filepath.Join(dir, "nginx-main.conf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	d.run(exec.Command(nginx, "-t", "-p", dir, "-c", filepath.Join(dir, "nginx-main.conf")))
	d.start("nginx", exec.Command(nginx, "-p", dir, "-c", filepath.Join(dir, "nginx-main.conf"), "-g", "daemon off;"))
	lb := fmt.Sprintf("http://127.0.0.1:%d", lbPort)
	waitFor(t, 20*time.Second, "nginx to answer", func() bool {
		r, err := http.Get(lb + "/healthz")
		if err == nil {
			r.Body.Close()
		}
		return err == nil && r.StatusCode == 200
	})

	// --- sign in once, through nginx: the session holds on every server
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	r, err := client.Post(lb+"/api/session", "application/json", strings.NewReader(`{"name":"commander","password":"failover-drill"}`))
	if err != nil {
		t.Fatal(err)
	}
	var sess struct{ CSRF string }
	_ = json.NewDecoder(r.Body).Decode(&sess)
	r.Body.Close()
	if r.StatusCode != 200 || sess.CSRF == "" {
		t.Fatalf("sign-in through nginx: %d", r.StatusCode)
	}

	// --- a case to read back during the failover
	cr, err := http.NewRequest("POST", lb+"/api/cases", strings.NewReader(`{"category":"sanitation","description":"演练","lon":102.5,"lat":25.5}`))
	if err != nil {
		t.Fatal(err)
	}
	cr.Header.Set("Content-Type", "application/json")
	cr.Header.Set("X-CSRF-Token", sess.CSRF)
	r, err = client.Do(cr)
	if err != nil {
		t.Fatal(err)
	}
	var first struct{ ID int64 }
	_ = json.NewDecoder(r.Body).Decode(&first)
	r.Body.Close()
	if r.StatusCode != 201 || first.ID == 0 {
		t.Fatalf("a report through nginx: %d", r.StatusCode)
	}

	// --- load: readers of the replica and of the database (cases: from a
	// standby while no primary answers), and writers of cases, through
	// nginx
	var (
		stop                              atomic.Bool
		reads, readsFailed                atomic.Int64
		caseReads, caseReadsFailed        atomic.Int64 // of them, those that need the database
		mu                                sync.Mutex
		acked                             []int64     // ids of cases acknowledged
		ackedAt                           []time.Time // when
		refused, unknown                  int
		refusedBad                        []string
		refusedCodes                      = map[string]int{}
		readFailures                      []string
		firstRefusal, lastRefusal, killed time.Time
	)
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			paths := []string{"/api/nearby?lon=102.5&lat=25.5", "/api/region", "/api/session", "/api/within?bbox=102.4,25.4,102.6,25.6",
				"/api/cases?limit=20", fmt.Sprintf("/api/cases/%d", first.ID), "/api/cases/stats"}
			for n := 0; !stop.Load(); n++ {
				p := paths[n%len(paths)]
				r, err := client.Get(lb + p)
				reads.Add(1)
				isCase := strings.HasPrefix(p, "/api/cases")
				if isCase {
					caseReads.Add(1)
				}
				if err != nil {
					readsFailed.Add(1)
					if isCase {
						caseReadsFailed.Add(1)
					}
					mu.Lock()
					readFailures = append(readFailures, p+": "+err.Error())
					mu.Unlock()
					continue
				}
				body, _ := io.ReadAll(r.Body)
				r.Body.Close()
				if r.StatusCode != 200 || p == "/api/session" && !bytes.Contains(body, []byte(`"commander"`)) {
					readsFailed.Add(1)
					if isCase {
						caseReadsFailed.Add(1)
					}
					mu.Lock()
					readFailures = append(readFailures, fmt.Sprintf("%s: %d %.200s", p, r.StatusCode, body))
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for n := 0; !stop.Load(); n++ {
				body := fmt.Sprintf(`{"category":"sanitation","description":"演练 %d-%d","lon":102.5,"lat":25.5}`, w, n)
				req, _ := http.NewRequest("POST", lb+"/api/cases", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-CSRF-Token", sess.CSRF)
				req.Header.Set("Idempotency-Key", fmt.Sprintf("drill-%d-%d-%d", w, n, time.Now().UnixNano()))
				r, err := client.Do(req)
				if err != nil {
					mu.Lock()
					unknown++
					mu.Unlock()
					continue
				}
				out, _ := io.ReadAll(r.Body)
				r.Body.Close()
				mu.Lock()
				switch r.StatusCode {
				case 200, 201:
					var k struct{ ID int64 }
					if json.Unmarshal(out, &k) == nil && k.ID > 0 {
						acked = append(acked, k.ID)
						ackedAt = append(ackedAt, time.Now())
					} else {
						unknown++
					}
				case 503:
					refused++
					if firstRefusal.IsZero() {
						firstRefusal = time.Now()
					}
					lastRefusal = time.Now()
					var e struct{ Code string }
					_ = json.Unmarshal(out, &e)
					refusedCodes[e.Code]++
					if r.Header.Get("Retry-After") == "" || e.Code == "" {
						refusedBad = append(refusedBad, string(out))
					}
				default:
					unknown++
					refusedBad = append(refusedBad, fmt.Sprintf("%d %.200s", r.StatusCode, out))
				}
				mu.Unlock()
				if r.StatusCode == 503 {
					time.Sleep(100 * time.Millisecond) // as a client honouring Retry-After would, sooner
				}
			}
		}(i)
	}

	// --- the primary dies; two seconds later (an operator, or Patroni)
	// the standby is promoted; the load goes on until writes are back and
	// five seconds more
	time.Sleep(4 * time.Second)
	// A browser's stream on server A (the primary's): where it stands.
	at, _, err := streamSeqs(client, servers["A"], "", 0, 10*time.Second)
	if err != nil || len(at) != 1 {
		t.Fatalf("a new stream on server A: %v %v", at, err)
	}
	lastSeen := strconv.FormatInt(at[0], 10)
	mu.Lock()
	before := len(acked)
	killed = time.Now()
	mu.Unlock()
	d.run(d.owner(pgbin+"/pg_ctl", "-D", primaryData, "-m", "immediate", "stop"))
	time.Sleep(2 * time.Second)
	promoted := time.Now()
	d.run(d.owner(pgbin+"/pg_ctl", "-D", standbyData, "-w", "promote"))
	var recovered time.Time
	waitFor(t, 60*time.Second, "a write acknowledged after the promotion", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, at := range ackedAt {
			if at.After(promoted) {
				recovered = at
				return true
			}
		}
		return false
	})
	time.Sleep(5 * time.Second)
	stop.Store(true)
	wg.Wait()

	// --- every acknowledged write is on the new primary
	np, err := pgx.Connect(ctx, pgURL(d.standby))
	if err != nil {
		t.Fatal(err)
	}
	defer np.Close(ctx)
	var found int
	if err := np.QueryRow(ctx, `SELECT count(*) FROM cases WHERE id = ANY($1)`, acked).Scan(&found); err != nil {
		t.Fatal(err)
	}
	var head int64
	if err := np.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM change_feed`).Scan(&head); err != nil {
		t.Fatal(err)
	}
	// every server's replica reaches the new primary's feed position
	converged := map[string]time.Duration{}
	t0 := time.Now()
	for _, name := range []string{"A", "B", "C"} {
		waitFor(t, 30*time.Second, "server "+name+"'s replica to reach the new primary's change "+strconv.FormatInt(head, 10), func() bool {
			r, err := http.Get(servers[name] + "/readyz")
			if err != nil {
				return false
			}
			defer r.Body.Close()
			var ready struct {
				ReplicaSeq int64 `json:"replica_seq"`
			}
			_ = json.NewDecoder(r.Body).Decode(&ready)
			return r.StatusCode == 200 && ready.ReplicaSeq >= head
		})
		converged[name] = time.Since(t0).Round(time.Millisecond)
	}

	// That browser resumes on server B (a standby's), and through nginx,
	// by Last-Event-ID: every change since, in order, none twice, no reset.
	var want []int64
	rows, err := np.Query(ctx, `SELECT seq FROM change_feed WHERE seq > $1 ORDER BY seq`, at[0])
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n int64
		_ = rows.Scan(&n)
		want = append(want, n)
	}
	rows.Close()
	resumed := map[string]int{}
	for name, base := range map[string]string{"server B": servers["B"], "nginx": lb} {
		got, reset, err := streamSeqs(client, base, lastSeen, head, 20*time.Second)
		if err != nil || reset || !slices.Equal(got, want) {
			t.Errorf("resumed on %s after %s: %d changes (reset %v, %v), want the %d changes above it", name, lastSeen, len(got), reset, err, len(want))
		}
		resumed[name] = len(got)
	}

	lost := len(acked) - found
	t.Logf("failover drill: reads %d, failed %d; writes acknowledged %d (%d before the primary died), refused with 503 %d %v, in doubt (no answer) %d; acknowledged writes lost %d",
		reads.Load(), readsFailed.Load(), len(acked), before, refused, refusedCodes, unknown, lost)
	t.Logf("failover drill: of the reads, %d needed the database (cases: lists, details, statistics), failed %d",
		caseReads.Load(), caseReadsFailed.Load())
	t.Logf("failover drill: primary killed at 0 s, standby promoted at %.1f s, first write acknowledged after it at %.1f s (time to recover %.1f s after the promotion); writes refused from %s to %s",
		promoted.Sub(killed).Seconds(), recovered.Sub(killed).Seconds(), recovered.Sub(promoted).Seconds(), since(killed, firstRefusal), since(killed, lastRefusal))
	t.Logf("failover drill: replicas at the new primary's change %d: %v", head, converged)
	t.Logf("failover drill: a stream last at change %s on server A resumed with every change since (%d): %v", lastSeen, len(want), resumed)
	if lost != 0 {
		t.Errorf("%d acknowledged writes are not on the new primary", lost)
	}
	if n := readsFailed.Load(); n != 0 {
		t.Errorf("%d reads failed, first ones: %q", n, readFailures[:min(len(readFailures), 5)])
	}
	if refused == 0 {
		t.Errorf("no write was refused with 503 while no primary answered: the drill did not see the gap")
	}
	if len(refusedBad) > 0 {
		t.Errorf("%d writes were refused without a 503 that says why (Retry-After and a code), first: %q", len(refusedBad), refusedBad[0])
	}
	if len(acked) <= before {
		t.Errorf("no write was acknowledged after the failover")
	}
}

// newDrill checks that the drill's pieces are here (skipping or, under CI,
// failing when not), makes its folder, builds the onemap binary into it and
// arranges for every process and cluster to be stopped at the test's end.
func newDrill(t *testing.T) *drill {
	if testing.Short() {
		t.Skip("the failover drill takes a minute")
	}
	for _, bin := range []string{"initdb", "pg_ctl", "pg_basebackup"} {
		need(t, exists(pgbin+"/"+bin), "PostgreSQL 15 ("+pgbin+"/"+bin+")")
	}
	need(t, exists("/usr/share/postgresql/15/extension/postgis.control"), "PostGIS for PostgreSQL 15")
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		nginx = "/usr/sbin/nginx"
	}
	need(t, exists(nginx), "nginx")
	root := os.Geteuid() == 0
	if root {
		_, err := user.Lookup("postgres")
		need(t, err == nil, "the postgres user")
	}

	dir, err := os.MkdirTemp("/var/tmp", "onemap-ha-")
	if err != nil {
		t.Fatal(err)
	}
	d := &drill{t: t, dir: dir, root: root, primary: freePort(t), standby: freePort(t), nginx: nginx}
	d.primaryData, d.standbyData = filepath.Join(dir, "primary"), filepath.Join(dir, "standby")
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if root {
		// PostgreSQL runs as postgres; nginx's workers as nobody.
		d.run(exec.Command("chown", "postgres:postgres", dir))
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, p := range d.procs {
			if p.Process != nil {
				_ = p.Process.Signal(os.Interrupt)
			}
		}
		for _, p := range d.procs {
			_ = p.Wait()
		}
		for _, data := range []string{d.primaryData, d.standbyData} {
			if exists(data) {
				_ = d.owner(pgbin+"/pg_ctl", "-D", data, "-m", "immediate", "stop").Run()
			}
		}
		if t.Failed() {
			t.Logf("logs kept in %s/logs", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})
	d.bin = filepath.Join(dir, "onemap")
	d.run(exec.Command("go", "build", "-o", d.bin, "../../cmd/onemap"))
	return d
}

// primaryAndStandby makes the primary (database onemap, migrated, with
// the account commander, password failover-drill, and a county grid) and
// a standby streaming from it by pg_basebackup, synchronously: every commit
// waits for the standby (an acknowledged write is on both).
func (d *drill) primaryAndStandby(ctx context.Context) {
	t := d.t
	bin, primaryData, standbyData := d.bin, d.primaryData, d.standbyData

	// --- the primary, the database, an account and a county to report in
	d.run(d.owner(pgbin+"/initdb", "-D", primaryData, "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--auth=trust"))
	d.pgStart(primaryData, d.primary)
	conn, err := pgx.Connect(ctx, strings.Replace(pgURL(d.primary), "/onemap?", "/postgres?", 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE onemap"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	env := append(os.Environ(), "ONEMAP_DATABASE_URL="+pgURL(d.primary))
	migrate := exec.Command(bin, "migrate", "--log-level", "warn")
	migrate.Env = env
	d.run(migrate)
	add := exec.Command(bin, "user", "add", "commander", "--role", "commander", "--password-stdin", "--log-level", "warn")
	add.Env, add.Stdin = env, strings.NewReader("failover-drill\n")
	d.run(add)
	d.sql(ctx, d.primary, `INSERT INTO grids (level, code, name, geom)
		VALUES ('county', '532329000000', '演练县', ST_Multi(ST_MakeEnvelope(102, 25, 103, 26, 4326)))`)

	// --- the standby, streaming; then every commit waits for it
	// (synchronous replication: an acknowledged write is on both)
	d.run(d.owner(pgbin+"/pg_basebackup", "-D", standbyData, "-R", "-X", "stream", "-c", "fast",
		"-h", "127.0.0.1", "-p", strconv.Itoa(d.primary), "-U", "postgres"))
	d.pgStart(standbyData, d.standby)
	d.sql(ctx, d.primary, `ALTER SYSTEM SET synchronous_standby_names = '*'`)
	d.sql(ctx, d.primary, `SELECT pg_reload_conf()`)
	waitFor(t, 30*time.Second, "the standby to stream synchronously", func() bool {
		c, err := pgx.Connect(ctx, pgURL(d.primary))
		if err != nil {
			return false
		}
		defer c.Close(ctx)
		var n int
		_ = c.QueryRow(ctx, `SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'`).Scan(&n)
		return n == 1
	})
}

// streamSeqs reads the change events of base's /api/events resumed after
// lastID until one reaches until, or timeout: their ids in order, and
// whether the stream said "reset" (the client must reload: not a resume).
func streamSeqs(client *http.Client, base, lastID string, until int64, timeout time.Duration) (seqs []int64, reset bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/events", nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	c := *client
	c.Timeout = 0
	r, err := c.Do(req)
	if err != nil {
		return nil, false, err
	}
	defer r.Body.Close()
	if r.StatusCode != 200 {
		return nil, false, fmt.Errorf("GET %s/api/events: %d", base, r.StatusCode)
	}
	sc := bufio.NewScanner(r.Body)
	id, typ := "", ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			typ = strings.TrimPrefix(line, "event: ")
		case line == "":
			if typ == "reset" {
				reset = true
			}
			if typ == "change" {
				n, _ := strconv.ParseInt(id, 10, 64)
				seqs = append(seqs, n)
				if n >= until {
					return seqs, reset, nil
				}
			}
			if typ == "" && lastID == "" && id != "" && until == 0 {
				return []int64{mustInt(id)}, reset, nil // a new stream's first id: where it starts
			}
			typ = ""
		}
	}
	return seqs, reset, fmt.Errorf("the stream of %s ended at %v before change %d: %v", base, seqs, until, sc.Err())
}

func mustInt(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }

// since formats t's time after from, in seconds ("-" for a zero t).
func since(from, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return fmt.Sprintf("%.1f s", t.Sub(from).Seconds())
}

// waitFor polls ok every 50 ms until it holds, failing the test after max.
func waitFor(t *testing.T, max time.Duration, what string, ok func() bool) {
	t.Helper()
	end := time.Now().Add(max)
	for !ok() {
		if time.Now().After(end) {
			t.Fatalf("waited %v for %s", max, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
