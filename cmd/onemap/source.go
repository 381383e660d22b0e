package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/postgis"
)

const sourceUsage = `usage:
  onemap source add NAME --kinds KIND,KIND… --region GRIDCODE
  onemap source list
  onemap source revoke NAME
A source is a system that sends events to /api/ingest/ (the video platform,
the IoT platform). add prints its key once; the database keeps only the key's
verifier. kinds: face, crowd, intrusion, smoke_fire, tag_alarm, video_loss,
tamper, device_fault, other_alarm, status, heartbeat. region: the code of the
grid its cameras lie in (532329000000 for the county).`

// runSource manages live sources: `onemap source add|list|revoke`. Each
// is recorded in the audit trail.
func runSource(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", sourceUsage)
	}
	sub, rest := args[0], args[1:]
	var pos []string // NAME comes before the flags
	for len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		pos, rest = append(pos, rest[0]), rest[1:]
	}
	var c config
	var kinds, region string
	f := newFlags("source "+sub, "source "+sub+" [flags]", getenv, stderr)
	f.database(&c)
	f.fs.StringVar(&kinds, "kinds", "", "the event kinds the source may send, comma-separated")
	f.fs.StringVar(&region, "region", "", "the code of the grid the source's cameras lie in")
	if err := f.parse(rest); err != nil {
		return ignoreHelp(err)
	}
	pos = append(pos, f.fs.Args()...)
	want := map[string]int{"add": 1, "list": 0, "revoke": 1}
	n, ok := want[sub]
	if !ok || len(pos) != n {
		return fmt.Errorf("%s", sourceUsage)
	}
	if sub == "add" {
		// Checked before the database is opened: a typo costs nothing.
		if err := onemap.CheckSource(onemap.Source{Name: pos[0], Kinds: splitComma(kinds), Region: region}); err != nil {
			return err
		}
	}
	db, _, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = onemap.NewContext(ctx, onemap.Caller{Name: "system", Role: "system", Client: "command line"})
	live := postgis.NewLive(db, nil, 0)
	switch sub {
	case "add":
		key, verifier := onemap.NewSourceKey()
		s, err := live.AddSource(ctx, onemap.Source{Name: pos[0], Kinds: splitComma(kinds), Region: region}, verifier)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "onemap: added source %s (kinds %s, region %s)\n", s.Name, strings.Join(s.Kinds, ","), s.Region)
		fmt.Fprintf(stdout, "key: %s\n(shown once and not stored: give it to the source's owner; it signs requests as the README's Live sources says)\n", key)
	case "list":
		list, err := live.ListSources(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tKINDS\tREGION\tCREATED\tLAST USED\tREVOKED")
		for _, s := range list {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, strings.Join(s.Kinds, ","), s.Region, day(s.CreatedAt), day(s.LastUsedAt), day(s.RevokedAt))
		}
		return w.Flush()
	case "revoke":
		s, err := live.RevokeSource(ctx, pos[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "onemap: source %s revoked at %s: its requests are refused from now on\n", s.Name, s.RevokedAt.Format(time.RFC3339))
	}
	return nil
}

// day formats a time for a listing, "-" for none.
func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}
