package inmem_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/postgis"
)

// server is what a OneMap server keeps of the database: its own pool and a
// replica loaded from it that follows the change feed.
type server struct {
	name    string
	db      *postgis.DB
	replica *inmem.Replica
	cancel  context.CancelFunc
	done    chan struct{}
}

func startReplicaServer(t *testing.T, name, url string) *server {
	t.Helper()
	s := &server{name: name, db: pgtest.Open(t, url), replica: inmem.New(onemap.NewCatalog()), done: make(chan struct{})}
	if err := s.replica.LoadFrom(t.Context(), s.db); err != nil {
		t.Fatal(err)
	}
	var ctx context.Context
	ctx, s.cancel = context.WithCancel(context.Background())
	go func() {
		defer close(s.done)
		s.replica.Follow(ctx, s.db, inmem.FollowOptions{Poll: 200 * time.Millisecond})
	}()
	return s
}

func (s *server) stop() {
	s.cancel()
	<-s.done
	s.db.Close()
}

// TestReplicas_converge runs three servers on one database while writers
// insert, update and delete features through each of them (straight SQL,
// as a server's writes are), and restarts one of them at random moments in
// between: at the end every server's replica equals the database, feature
// by feature and version by version. SEED=n replays a run.
func TestReplicas_converge(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("SEED=%d", seed)
	rng := rand.New(rand.NewPCG(seed, 9))
	url := pgtest.DemoURL(t)
	catalog := onemap.NewCatalog()

	servers := []*server{startReplicaServer(t, "A", url), startReplicaServer(t, "B", url), startReplicaServer(t, "C", url)}
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()

	// One writer per server, each on its own connection, each with its own
	// random sequence of writes.
	const writesEach = 150
	var (
		wg       sync.WaitGroup
		progress = make(chan int, 3*writesEach)
		errs     = make(chan error, 3)
	)
	for i := range servers {
		wrng := rand.New(rand.NewPCG(seed, uint64(i)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := pgx.Connect(context.Background(), url)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close(context.Background())
			for n := range writesEach {
				if err := randomWrite(conn, wrng, servers[i].name, n); err != nil {
					errs <- err
					return
				}
				progress <- 1
			}
		}()
	}
	// Restart server C, and now and then A, after random numbers of writes.
	done := 0
	for restarts := 0; restarts < 4; restarts++ {
		for next := done + 20 + rng.IntN(60); done < next && done < 3*writesEach; done++ {
			select {
			case <-progress:
			case err := <-errs:
				t.Fatal(err)
			}
		}
		i := 2
		if rng.IntN(3) == 0 {
			i = 0
		}
		t.Logf("after %d writes: restart %s", done, servers[i].name)
		servers[i].stop()
		servers[i] = startReplicaServer(t, servers[i].name, url)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	latest := pgtest.LatestSeq(t, url)
	for _, s := range servers {
		deadline := time.Now().Add(30 * time.Second)
		for s.replica.Snapshot().Seq() < latest {
			if time.Now().After(deadline) {
				t.Fatalf("%s: replica at seq %d 30 s after the writes ended at %d", s.name, s.replica.Snapshot().Seq(), latest)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if diff := pgtest.ReplicaDiff(t, url, s.replica.Snapshot(), catalog); len(diff) > 0 {
			t.Errorf("%s: the replica differs from the database at seq %d:\n%v", s.name, latest, diff)
		}
	}
}

// randomWrite inserts, updates or deletes a station or a camera.
func randomWrite(conn *pgx.Conn, rng *rand.Rand, by string, n int) error {
	ctx := context.Background()
	lon, lat := 101.9+rng.Float64()*0.6, 25.3+rng.Float64()*0.9 // within the demo envelope
	var sql string
	var args []any
	switch op := rng.IntN(10); {
	case op < 4:
		sql = `INSERT INTO stations (kind, level, name, geom) VALUES ('clinic', 'village', $1, ST_SetSRID(ST_MakePoint($2, $3), 4326))`
		args = []any{fmt.Sprintf("%s-%d", by, n), lon, lat}
	case op < 6:
		sql = `UPDATE stations SET name = $1, geom = ST_SetSRID(ST_MakePoint($2, $3), 4326)
			WHERE id = (SELECT id FROM stations ORDER BY random() LIMIT 1)`
		args = []any{fmt.Sprintf("%s-%d moved", by, n), lon, lat}
	case op < 8:
		sql = `UPDATE cameras SET status = (ARRAY['online', 'offline', 'fault'])[1 + floor(random() * 3)::int]
			WHERE id = (SELECT id FROM cameras ORDER BY random() LIMIT 1)`
	case op < 9:
		sql = `DELETE FROM stations WHERE id = (SELECT id FROM stations ORDER BY random() LIMIT 1)`
	default:
		sql = `DELETE FROM cameras WHERE id = (SELECT id FROM cameras ORDER BY random() LIMIT 1)`
	}
	for try := 0; ; try++ {
		_, err := conn.Exec(ctx, sql, args...)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001") && try < 5 {
			continue // a deadlock with another writer: the database undid it, write again
		}
		if err != nil {
			return fmt.Errorf("%s write %d: %s: %w", by, n, sql, err)
		}
		return nil
	}
}
