// Command onemap is the one binary of OneMap: it serves the web map, vector
// tiles and spatial queries over PostGIS layers, and migrates, seeds, imports
// and exports them.
//
//	onemap serve          serve HTTP (migrates first)
//	onemap migrate        apply the database migrations
//	onemap seed demo      load the demo county
//	onemap import FILE    import GeoJSON or CSV into a layer, all or nothing
//	onemap export         write a layer as GeoJSON
//	onemap user ...       add, change, disable, unlock and list accounts
//	onemap audit ...      verify, prune and anchor the audit trail (signed checkpoints)
//	onemap source ...     add, list and revoke the live sources that send events
//	onemap snapshot       store the replica's snapshot, for servers to start from
//	onemap version        print the version
//
// Every flag can also be set by an ONEMAP_* environment variable; see
// `onemap help` and `onemap COMMAND --help`.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "onemap: %v\n", err)
		os.Exit(1)
	}
}

const usage = `onemap: the one-map GIS platform for county and township governance.

Usage:
  onemap serve   [flags]                 serve the web map, tiles and APIs (migrates first)
  onemap migrate [flags]                 apply the database migrations
  onemap seed demo [--if-empty] [--as-of DAY] [flags]  load the demo county (Wuding, synthetic geometry)
  onemap import --layer L [flags] FILE   import a GeoJSON or CSV file into layer L, all or nothing
  onemap export --layer L [flags]        write layer L as GeoJSON to stdout (or --out)
  onemap user add|passwd|role|disable|enable|unlock|list   manage accounts (onemap user for help)
  onemap audit verify|prune|keygen|checkpoint   check the audit trail (against its signed checkpoints), apply retention, sign its head
  onemap source add|list|revoke          manage the live sources that send events (onemap source for help)
  onemap snapshot [flags]                store the replica's snapshot, from which servers start fast
  onemap simulate --url URL              drive the demo county's cameras, alarms and tags through the ingest (demo only)
  onemap version                         print the version

Run "onemap COMMAND --help" for a command's flags. Every flag has an
environment variable: --database-url is ONEMAP_DATABASE_URL, --addr is
ONEMAP_ADDR, and so on (ONEMAP_ + the flag name in capitals, - as _).
Flags win over the environment.
`

// run is the whole program, with its environment passed in so that tests
// can run it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout, stderr)
	case "seed":
		return runSeed(ctx, rest, getenv, stdout, stderr)
	case "import":
		return runImport(ctx, rest, getenv, stdin, stdout, stderr)
	case "export":
		return runExport(ctx, rest, getenv, stdout, stderr)
	case "user":
		return runUser(ctx, rest, getenv, stdin, stdout, stderr)
	case "audit":
		return runAudit(ctx, rest, getenv, stdout, stderr)
	case "source":
		return runSource(ctx, rest, getenv, stdout, stderr)
	case "snapshot":
		return runSnapshot(ctx, rest, getenv, stdout, stderr)
	case "simulate":
		return runSimulate(ctx, rest, getenv, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, versionString())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
