package onemap

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestAuditActions_complete reads the code that writes the audit trail and
// checks that every action it can write is one AuditActions lists (so that
// the auditor's page and GET /api/audit?action= offer it): every constant
// named Audit… of the root package whose value is a string, and every
// string literal handed as the action to the functions that append audit
// records (postgis's appendAudit, api's audit).
func TestAuditActions_complete(t *testing.T) {
	listed := AuditActions()
	seen := map[string]bool{}
	for _, a := range listed {
		if seen[a] {
			t.Errorf("AuditActions lists %q twice", a)
		}
		seen[a] = true
	}
	fset := token.NewFileSet()
	var consts, literals int
	for _, dir := range []string{".", "api", "postgis", "cmd/onemap", "checkpoint"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(fset, name, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.ValueSpec:
					if dir != "." {
						return true
					}
					for i, id := range n.Names {
						if !strings.HasPrefix(id.Name, "Audit") || i >= len(n.Values) {
							continue
						}
						if v, ok := stringLit(n.Values[i]); ok {
							consts++
							if !slices.Contains(listed, v) {
								t.Errorf("%s: %s = %q is not in AuditActions()", fset.Position(id.Pos()), id.Name, v)
							}
						}
					}
				case *ast.CallExpr:
					pos := -1
					switch fn := n.Fun.(type) {
					case *ast.Ident:
						if fn.Name == "appendAudit" {
							pos = 3
						}
					case *ast.SelectorExpr:
						if fn.Sel.Name == "audit" {
							pos = 1
						}
					}
					if pos >= 0 && pos < len(n.Args) {
						if v, ok := stringLit(n.Args[pos]); ok {
							literals++
							if !slices.Contains(listed, v) {
								t.Errorf("%s: the audit action %q is not in AuditActions()", fset.Position(n.Pos()), v)
							}
						}
					}
				}
				return true
			})
		}
	}
	if consts < 20 {
		t.Errorf("found %d audit action constants: the test reads the wrong files", consts)
	}
	t.Logf("%d constants and %d literal actions checked", consts, literals)
}

func stringLit(e ast.Expr) (string, bool) {
	b, ok := e.(*ast.BasicLit)
	if !ok || b.Kind != token.STRING {
		return "", false
	}
	v, err := strconv.Unquote(b.Value)
	return v, err == nil
}
