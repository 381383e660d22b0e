package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/postgis"
)

// config is every setting of every command; each command registers the
// flags it uses.
type config struct {
	DatabaseURL      string
	Addr             string
	AnonymousRole    string
	LogLevel         string
	LogFormat        string
	StatementTimeout time.Duration
	RequestTimeout   time.Duration
	// Limits of the HTTP server (serve).
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	MaxHeaderBytes    int
	MaxBodyBytes      int
	ShutdownTimeout   time.Duration
	TileCacheControl  string
	TileRenderer      string
	TileCacheMB       int
	FeatureCacheMB    int  // the point features the query answers keep written (api.Config.KeptFeatureBytes)
	LoadGOGC          int  // GOGC while the replica loads (0: left alone)
	HeapFloorMB       int  // MiB the collector counts as live while serving (heapfloor.go; 0: none)
	ReplicaSnapshot   bool // start from the replica's snapshot (replicasnap)
	PublicURL         string
	StaticDir         string
	AuditKeep         time.Duration
	// How often serve looks whether a new snapshot of the replica is due.
	ReplicaSnapshotEvery time.Duration
	// E-bike tags (tags.go).
	TagRetention       time.Duration
	MQTTURL            string
	MQTTTopic          string
	MQTTSource         string
	MQTTClientID       string
	MQTTUsername       string
	MQTTPassword       string
	SessionTTL         time.Duration
	SessionIdle        time.Duration
	SecureCookies      bool
	DemoAccounts       bool
	BasemapURL         string
	BasemapSubdomains  string
	BasemapAttribution string
	BasemapMaxZoom     int
	BasemapFile        string
	BasemapDemo        bool
	Envelope           string
	SeedDemo           bool
	IfEmpty            bool
	AsOf               string // seed demo: the day the demo describes
	History            bool   // seed demo, serve --seed-demo: the two years of cases too
	Layer              string
	Format             string
	LonColumn          string
	LatColumn          string
	Role               string
	Out                string
	Actor              string
	Reason             string
	// The public API (serve).
	TrustedProxies string
	PublicRate     float64
	PublicBurst    int
	PublicMaxRate  float64
	// Reads of personal data per account (api.PersonalReadConfig).
	PersonalPerHour, PersonalBurst, PersonalFlag int
	// The live side: video platform, retention, simulator (simulate.go).
	Live liveFlags
	// Reading from a hot standby (standby.go).
	Standby standbyFlags
	// MetricsAddr is where serve answers /metrics ("": nowhere).
	MetricsAddr string

	// The audit trail's checkpoints (serve, audit verify, audit checkpoint).
	AuditKey              string
	AuditCheckpoints      string
	AuditCheckpointsEvery time.Duration
}

// flags builds a command's flag set whose defaults come from the
// environment (ONEMAP_ + NAME).
type flags struct {
	fs     *flag.FlagSet
	getenv func(string) string
	errs   []error
}

func newFlags(name, help string, getenv func(string) string, stderr io.Writer) *flags {
	fs := flag.NewFlagSet("onemap "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: onemap %s\n\nFlags (each also read from its ONEMAP_* variable):\n", help)
		fs.PrintDefaults()
	}
	return &flags{fs: fs, getenv: getenv}
}

func envName(flagName string) string {
	return "ONEMAP_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (f *flags) str(p *string, name, def, usage string) {
	if v := f.getenv(envName(name)); v != "" {
		def = v
	}
	f.fs.StringVar(p, name, def, usage+" ("+envName(name)+")")
}

func (f *flags) dur(p *time.Duration, name string, def time.Duration, usage string) {
	if v := f.getenv(envName(name)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: %v", envName(name), v, err))
		} else {
			def = d
		}
	}
	f.fs.DurationVar(p, name, def, usage+" ("+envName(name)+")")
}

func (f *flags) integer(p *int, name string, def int, usage string) {
	if v := f.getenv(envName(name)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: not an integer", envName(name), v))
		} else {
			def = n
		}
	}
	f.fs.IntVar(p, name, def, usage+" ("+envName(name)+")")
}

func (f *flags) number(p *float64, name string, def float64, usage string) {
	if v := f.getenv(envName(name)); v != "" {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: not a number", envName(name), v))
		} else {
			def = n
		}
	}
	f.fs.Float64Var(p, name, def, usage+" ("+envName(name)+")")
}

func (f *flags) boolean(p *bool, name string, def bool, usage string) {
	if v := f.getenv(envName(name)); v != "" {
		def = v == "1" || strings.EqualFold(v, "true") || strings.EqualFold(v, "yes")
	}
	f.fs.BoolVar(p, name, def, usage+" ("+envName(name)+")")
}

// parse parses args; --help is not an error.
func (f *flags) parse(args []string) error {
	if err := f.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return err
	}
	return errors.Join(f.errs...)
}

var errHelp = errors.New("help requested")

// secret registers a string flag whose value --help must not print: the
// default taken from the environment stays out of the usage text.
func (f *flags) secret(p *string, name, usage string) {
	f.fs.StringVar(p, name, f.getenv(envName(name)), usage+" ("+envName(name)+")")
	f.fs.Lookup(name).DefValue = ""
}

// database registers the flags every database command takes.
func (f *flags) database(c *config) {
	f.secret(&c.DatabaseURL, "database-url", "PostgreSQL URL of the OneMap database, e.g. postgres://user:pass@127.0.0.1:5432/onemap")
	f.dur(&c.StatementTimeout, "statement-timeout", 30*time.Second, "longest a database statement may run")
	f.str(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.str(&c.LogFormat, "log-format", "text", "log format: text or json")
}

func (c *config) needDatabase() error {
	if c.DatabaseURL == "" {
		return onemap.Errorf(onemap.EINVALID, "no database: set --database-url or ONEMAP_DATABASE_URL (`make run` provisions one)")
	}
	return nil
}

func (c *config) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", c.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.LogFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", c.LogFormat)
}

// open checks that a database is configured, makes the logger and opens
// and migrates the database: the start of every command that needs one.
func (c *config) open(ctx context.Context, stderr io.Writer) (*postgis.DB, *slog.Logger, error) {
	if err := c.needDatabase(); err != nil {
		return nil, nil, err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return nil, nil, err
	}
	db, err := openAndMigrate(ctx, c, onemap.NewCatalog(), log)
	if err != nil {
		return nil, nil, err
	}
	return db, log, nil
}
