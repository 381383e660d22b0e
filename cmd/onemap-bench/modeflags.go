package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

// modeFlags is the flag setup the subcommand modes share (cases, tags,
// alarms, public, soak and others): each mode's own flags on a flag set
// of its name, with --admin-url (default: $ONEMAP_TEST_DATABASE_URL) and
// --keep.
type modeFlags struct {
	*flag.FlagSet
	AdminURL string
	Keep     bool
}

// newModeFlags returns the flag set of mode name, its output to stderr.
func newModeFlags(name string, stderr io.Writer) *modeFlags {
	m := &modeFlags{FlagSet: flag.NewFlagSet("onemap-bench "+name, flag.ContinueOnError)}
	m.SetOutput(stderr)
	m.StringVar(&m.AdminURL, "admin-url", "", "URL of a maintenance database where the benchmark may create a database (default: $ONEMAP_TEST_DATABASE_URL)")
	m.BoolVar(&m.Keep, "keep", false, "keep the database afterwards (its name is printed)")
	return m
}

// parse parses args; help is true when -help was asked (the caller returns
// nil). A missing --admin-url is taken from the environment, and refused
// when that has none either.
func (m *modeFlags) parse(args []string, getenv func(string) string) (help bool, err error) {
	if err := m.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return false, err
	}
	if m.NArg() > 0 {
		return false, fmt.Errorf("unexpected arguments %q", m.Args())
	}
	if m.AdminURL == "" {
		m.AdminURL = getenv("ONEMAP_TEST_DATABASE_URL")
	}
	if m.AdminURL == "" {
		return false, fmt.Errorf("no database server: set --admin-url or ONEMAP_TEST_DATABASE_URL")
	}
	return false, nil
}

// runMode prints the report's head (title and date), runs the mode on a
// bench of cfg, and fails when a check of it failed.
func runMode(title string, cfg config, stdout, stderr io.Writer, run func(b *bench) error) error {
	b := &bench{config: cfg, out: stdout, progress: stderr}
	b.printf("OneMap %s benchmark\n\ndate      %s\n", title, time.Now().Format("2006-01-02 15:04:05 MST"))
	if err := run(b); err != nil {
		return err
	}
	if len(b.failures) > 0 {
		return fmt.Errorf("%d checks failed; the first: %s", len(b.failures), b.failures[0])
	}
	return nil
}
