package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onemapgis/onemap/internal/pgtest"
)

// TestAuditCommands: keygen, checkpoint and verify from the command line,
// a cut tail reported against the checkpoint, and serve writing
// checkpoints at start and at shutdown.
func TestAuditCommands(t *testing.T) {
	url := pgtest.URL(t)
	c := newCLITest(t, url)
	key, cps := filepath.Join(c.dir, "audit.key"), filepath.Join(c.dir, "checkpoints.jsonl")
	onemap := c.onemap
	if out, err := onemap("audit", "keygen", "--out", key); err != nil || !strings.Contains(out, "audit.key.pub") {
		t.Fatalf("audit keygen = %q, %v", out, err)
	}
	if st, err := os.Stat(key); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("the private key file: %v, %v; want mode 0600", st, err)
	}
	if _, err := onemap("audit", "keygen", "--out", key); err == nil {
		t.Error("audit keygen overwrote a key")
	}
	if out, err := onemap("audit", "verify"); err != nil || !strings.Contains(out, "not anchored") {
		t.Errorf("audit verify without checkpoints = %q, %v; want intact, not anchored", out, err)
	}
	for _, name := range []string{"aud1", "aud2", "aud3"} {
		if _, err := onemap("user", "add", name, "--role", "auditor"); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := onemap("audit", "checkpoint", "--audit-key", key, "--audit-checkpoints", cps); err != nil || !strings.Contains(out, "checkpoint of audit record") {
		t.Fatalf("audit checkpoint = %q, %v", out, err)
	}
	// The public key is enough to verify.
	if out, err := onemap("audit", "verify", "--audit-key", key+".pub", "--audit-checkpoints", cps); err != nil || !strings.Contains(out, "intact and anchored") {
		t.Errorf("audit verify = %q, %v", out, err)
	}
	if _, err := onemap("audit", "checkpoint", "--audit-key", key+".pub", "--audit-checkpoints", cps); err == nil {
		t.Error("a public key signed a checkpoint")
	}
	if _, err := onemap("audit", "verify", "--audit-key", key); err == nil || !strings.Contains(err.Error(), "go together") {
		t.Errorf("--audit-key alone: err = %v", err)
	}

	// serve signs a checkpoint at start and one at shutdown (the end of
	// the subtest, whose cleanup stops it).
	before := lines(t, cps)
	t.Run("serve", func(t *testing.T) {
		startServer(t, url, "--audit-key", key, "--audit-checkpoints", cps)
		deadline := time.Now().Add(30 * time.Second)
		for lines(t, cps) < before+1 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond) // the first is written as the server starts
		}
		if n := lines(t, cps); n != before+1 {
			t.Errorf("after serve started: %d checkpoints, want %d", n, before+1)
		}
	})
	if n := lines(t, cps); n != before+2 {
		t.Errorf("after serve stopped: %d checkpoints, want %d (one more at shutdown)", n, before+2)
	}
	if out, err := onemap("audit", "verify", "--audit-key", key+".pub", "--audit-checkpoints", cps); err != nil || !strings.Contains(out, "intact and anchored") {
		t.Errorf("audit verify after serve = %q, %v", out, err)
	}

	// A superuser cuts the trail's tail: the chain holds by itself, the
	// checkpoint catches it.
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, sql := range []string{`ALTER TABLE audit_log DISABLE TRIGGER USER`,
		`DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)`, `ALTER TABLE audit_log ENABLE TRIGGER USER`} {
		if _, err := conn.Exec(context.Background(), sql); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := onemap("audit", "verify", "--audit-key", key+".pub", "--audit-checkpoints", cps); err == nil || !strings.Contains(err.Error(), "were removed") {
		t.Errorf("audit verify after the tail was cut: err = %v", err)
	}
	if _, err := onemap("audit", "checkpoint", "--audit-key", key, "--audit-checkpoints", cps); err == nil {
		t.Error("a checkpoint was signed over a cut tail")
	}
}

func lines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}
