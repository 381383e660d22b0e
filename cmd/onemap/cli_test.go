package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cliTest is the set-up the command-line tests share: a directory for the
// files they write, and the onemap command run against one database.
type cliTest struct {
	t        *testing.T
	dir, url string
}

// newCLITest returns the set-up of a test against the database at url,
// its directory removed when the test ends.
func newCLITest(t *testing.T, url string) *cliTest {
	return &cliTest{t: t, dir: t.TempDir(), url: url}
}

// write writes body to a file name of the test's directory and returns its
// path.
func (c *cliTest) write(name, body string) string {
	c.t.Helper()
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return p
}

// onemap runs `onemap args...` with ONEMAP_DATABASE_URL set to the test's
// database and no standard input, and returns what it wrote to standard
// output and its error.
func (c *cliTest) onemap(args ...string) (string, error) {
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"onemap"}, args...), env(map[string]string{"ONEMAP_DATABASE_URL": c.url}), nil, &out, &errb)
	return out.String(), err
}

// onemapIn is onemap with stdin as its standard input.
func (c *cliTest) onemapIn(stdin string, args ...string) (string, error) {
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"onemap"}, args...), env(map[string]string{"ONEMAP_DATABASE_URL": c.url}),
		strings.NewReader(stdin), &out, &errb)
	return out.String(), err
}
