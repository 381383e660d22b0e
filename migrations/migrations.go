// Package migrations holds OneMap's database schema as numbered, forward-only
// SQL files. The runner that applies them lives in package postgis.
package migrations

import "embed"

// FS holds the migration files, applied in the order of their names.
//
//go:embed *.sql
var FS embed.FS
