package postgis

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// primaryReads are the functions of the package that read through the
// primary's pool (db.pool) rather than the read path (db.read,
// readpool.go), and why: every other read falls back to a standby while
// no primary answers. A read added with db.pool fails
// TestReadPoolCallers until it is moved to db.read or listed here.
var primaryReads = map[string]string{
	"Changes":               whyOwn,
	"LatestSeq":             whyOwn,
	"FeedLag":               whyOwn,
	"InRecovery":            whyOwn,
	"MissingMigrations":     whyOwn,
	"FindSessionReadOnly":   whyOwn,
	"LoadLayersWith":        whyOwn,
	"LoadRecordsAndCases":   whyOwn,
	"loadWorker":            whyOwn,
	"ReadReplicaSnapshot":   whyOwn,
	"ReplicaSnapshotSchema": whyOwn,
	"ListenAlarms":          whyOwn,
	"FindAccount":           whySignIn,
	"FindSignInThrottle":    whySignIn,
	"KnownDevice":           whySignIn,
	"FindSessionAt":         whySignIn,
	"TakePersonalRead":      whySignIn,
	"FindIdempotentAnswer":  whySignIn,
	"GridIDByCode":          whySignIn,
	"ListAccounts":          whyPersonal,
	"ListPeople":            whyPersonal,
	"GridWorkerCounts":      whyPersonal,
	"FindAlarm":             whyPersonal,
	"ListAlarms":            whyPersonal,
	"LastPositions":         whyPersonal,
	"PositionAt":            whyPersonal,
	"Track":                 whyPersonal,
	"FindTag":               whyPersonal,
	"ListTags":              whyPersonal,
	"TagCodes":              whyPersonal,
	"ListGeofences":         whyPersonal,
	"FenceStates":           whyPersonal,
	"DueAssessments":        whyPersonal,
	"FindCameraStream":      whyPersonal,
	"ListAudit":             whyAudit,
	"AuditPowers":           whyAudit,
	"inReadTx":              whyAudit,
	"CutOutlines":           whyTools,
	"dropOldPositions":      whyTools,
	"vacuumClosedDays":      whyTools,
	"SimulationTargets":     whyTools,
	"ListQuarantine":        whyTools,
	"FindSource":            whyTools,
	"RestoreFeature":        whyTools,
	// The stored snapshot's standing, before a server writes one.
	"StoredReplicaSnapshotStanding": whyOwn,
}

// The reasons of primaryReads.
const (
	whyOwn      = "the state of the database it is asked of (a standby's DB asks the standby): the change feed, its lag, recovery, the schema, the replica's load at one feed position"
	whySignIn   = "sign-in and sessions: the primary decides (a session on a standby is read by FindSessionReadOnly), and the read goes with a write"
	whyPersonal = "personal data (accounts, people, positions of tags, face alarms, responsibles' phones): its audit is written on the primary, so with no primary the read is refused too"
	whyAudit    = "the audit trail, its chain (and a feature's whole history, read in the same kind of transaction), and the database user's powers: read where they are written"
	whyTools    = "commands and background work that write what they read (seeding, ingest, retention, restores, simulation)"
)

// TestReadPoolCallers: a query, a read-only transaction or a query
// function given the pool reads the primary only; each function that does
// so is listed in primaryReads with its reason, and each listed function
// still does.
func TestReadPoolCallers(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	found := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok && isPool(sel.X) &&
					slices.Contains([]string{"Query", "QueryRow", "BeginTx"}, sel.Sel.Name) {
					found[fn.Name.Name] = true
				}
				for _, a := range call.Args {
					if isPool(a) {
						found[fn.Name.Name] = true
					}
				}
				return true
			})
		}
	}
	for fn := range found {
		if _, ok := primaryReads[fn]; !ok {
			t.Errorf("%s reads through db.pool (the primary only): read through db.read (readpool.go), or list it in primaryReads with the reason", fn)
		}
	}
	for fn := range primaryReads {
		if !found[fn] {
			t.Errorf("%s is listed in primaryReads but reads nothing through db.pool", fn)
		}
	}
}

// isPool reports whether e is a DB's primary pool: x.pool.
func isPool(e ast.Expr) bool {
	sel, ok := e.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "pool"
}
