// Package migrations holds OneMap's database schema as numbered, forward-only
// SQL files. The runner that applies them lives in package postgis
// (DB.Migrate): each file once, in the order of their names, each in a
// transaction of its own. A file that has run in a deployment is never
// changed; a change of the schema is a new file (as 0009 restores the
// trigger function that 0004 re-declared).
package migrations

import "embed"

// FS holds the migration files, applied in the order of their names.
//
//go:embed *.sql
var FS embed.FS
