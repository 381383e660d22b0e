package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/checkpoint"
	"github.com/onemapgis/onemap/postgis"
)

const auditUsage = `usage:
  onemap audit verify [--audit-key K --audit-checkpoints F]   check the audit trail's hash chain, and against the latest checkpoint
  onemap audit prune --keep 4380h                             remove records older than --keep (at least six months)
  onemap audit keygen --out FILE                              make the key that signs checkpoints (FILE, and FILE.pub)
  onemap audit checkpoint --audit-key K --audit-checkpoints F sign and append a checkpoint of the trail's head`

// runAudit checks, prunes and anchors the audit trail.
func runAudit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", auditUsage)
	}
	switch args[0] {
	case "verify", "prune", "checkpoint":
	case "keygen":
		return runAuditKeygen(args[1:], getenv, stdout, stderr)
	default:
		return fmt.Errorf("%s", auditUsage)
	}
	var c config
	var keep time.Duration
	f := newFlags("audit "+args[0], "audit "+args[0]+" [flags]", getenv, stderr)
	f.database(&c)
	switch args[0] {
	case "prune":
		f.dur(&keep, "keep", 4380*time.Hour, "how long records are kept (at least six months: 4380h)")
	default:
		f.auditAnchor(&c)
	}
	if err := f.parse(args[1:]); err != nil {
		return ignoreHelp(err)
	}
	if args[0] == "checkpoint" && (c.AuditKey == "" || c.AuditCheckpoints == "") {
		return fmt.Errorf("audit checkpoint needs --audit-key and --audit-checkpoints")
	}
	db, _, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	switch args[0] {
	case "prune":
		n, err := db.PruneAudit(ctx, keep)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "onemap: removed %d audit records older than %s\n", n, keep)
		return nil
	case "checkpoint":
		a, err := c.anchor(db, nil)
		if err != nil {
			return err
		}
		cp, err := a.Write(ctx)
		if err != nil {
			return fmt.Errorf("audit checkpoint: %w", err)
		}
		fmt.Fprintf(stdout, "onemap: checkpoint of audit record %d signed by key %s, appended to %s\n", cp.Seq, cp.Key, c.AuditCheckpoints)
		return nil
	}
	a, err := c.anchor(db, nil)
	if err != nil {
		return err
	}
	r, err := a.Verify(ctx)
	if err != nil {
		return err
	}
	if !r.OK {
		return fmt.Errorf("audit trail broken at record %d: %s", r.BrokenAt, r.Problem)
	}
	if !r.Anchored {
		fmt.Fprintf(stdout, "onemap: audit trail intact: %d records, %d to %d (%s)\n", r.Rows, r.FirstSeq, r.LastSeq, r.Note)
		return nil
	}
	fmt.Fprintf(stdout, "onemap: audit trail intact and anchored: %d records, %d to %d, agreeing with the checkpoint of record %d signed at %s\n",
		r.Rows, r.FirstSeq, r.LastSeq, r.Checkpoint.Seq, r.Checkpoint.Time.Format(time.RFC3339))
	return nil
}

func runAuditKeygen(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var out string
	f := newFlags("audit keygen", "audit keygen --out FILE", getenv, stderr)
	f.str(&out, "out", "", "file to write the private key to (mode 0600; the public key goes to FILE.pub); it must not exist")
	if err := f.parse(args); err != nil {
		return ignoreHelp(err)
	}
	if out == "" {
		return fmt.Errorf("audit keygen needs --out FILE")
	}
	k, err := checkpoint.GenerateKey(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "onemap: wrote the checkpoint signing key %s (key %s; keep it off the database's host, readable by the server only) and its public key %s.pub (for verifying)\n",
		out, k.ID(), out)
	return nil
}

// auditAnchor registers the flags of the audit trail's checkpoints.
func (f *flags) auditAnchor(c *config) {
	f.str(&c.AuditKey, "audit-key", "", "Ed25519 key that signs the audit trail's checkpoints (onemap audit keygen); to verify, its .pub file is enough. Never on the database's host")
	f.str(&c.AuditCheckpoints, "audit-checkpoints", "", "file the signed checkpoints of the audit trail are appended to (JSON lines); ship it with the logs")
}

// anchor returns the audit trail's checkpoints as configured: without
// --audit-key and --audit-checkpoints, an anchor that verifies the chain
// alone and says it is not anchored.
func (c *config) anchor(db *postgis.DB, log *slog.Logger) (*checkpoint.Anchor, error) {
	a := &checkpoint.Anchor{Trail: db, Log: log}
	if (c.AuditKey == "") != (c.AuditCheckpoints == "") {
		return nil, errors.New("--audit-key and --audit-checkpoints go together")
	}
	if c.AuditKey == "" {
		return a, nil
	}
	k, err := checkpoint.LoadKey(c.AuditKey)
	if err != nil {
		return nil, fmt.Errorf("--audit-key: %w", err)
	}
	a.Key, a.File = k, checkpoint.File{Path: c.AuditCheckpoints}
	return a, nil
}

// runAuditWork counts refusals into the audit trail and, when a key is
// configured, writes its checkpoints (every a.Every), until ctx ends; the
// function it returns stops both and waits: the last refusals are
// written first, then a last checkpoint, which covers them.
func runAuditWork(ctx context.Context, a *checkpoint.Anchor, d *api.Denials) (stop func()) {
	dctx, stopDenials := context.WithCancel(context.WithoutCancel(ctx))
	actx, stopAnchor := context.WithCancel(context.WithoutCancel(ctx))
	counted, anchored := make(chan struct{}), make(chan struct{})
	go func() { defer close(counted); d.Run(dctx) }()
	go func() {
		defer close(anchored)
		if a.Key != nil {
			a.Run(actx)
		}
	}()
	return func() {
		stopDenials()
		<-counted
		stopAnchor()
		<-anchored
	}
}
