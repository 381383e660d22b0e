package main

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// TestClusterCPU_endedBackends: the CPU a backend used counts after its
// client closed the connection (a load by another program, such as
// `onemap import`), and the reading never goes back.
func TestClusterCPU_endedBackends(t *testing.T) {
	ctx := context.Background()
	admin := pgtest.AdminURL(t)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	c, err := newClusterCPU(ctx, conn)
	if err != nil {
		t.Skipf("the database server's processes cannot be read here: %v", err)
	}
	before := c.read()
	other, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	// Half a second of CPU or so in the other backend, started and ended
	// between two readings, as a load by another program is.
	var pid int
	if err := other.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec(ctx, `SELECT count(*) FROM generate_series(1, 3000000) i WHERE md5(i::text) > 'f'`); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	_, busy, err := parseProcStat(b)
	if err != nil {
		t.Fatal(err)
	}
	if busy < 100*time.Millisecond {
		t.Fatalf("the query used %v of CPU: the test shows nothing", busy)
	}
	other.Close(ctx)
	var after time.Duration
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if after = c.read() - before; after >= busy {
			break
		}
	}
	if after < busy {
		t.Errorf("the server's CPU since the start reads %v after a backend that used %v ended: its CPU was lost", after, busy)
	}
}
