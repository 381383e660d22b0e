package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/password"
	"github.com/onemapgis/onemap/postgis"
)

const userUsage = `usage:
  onemap user add NAME --role ROLE [--grid ID|CODE] [--display-name TEXT] [--password-stdin]
  onemap user passwd NAME [--password-stdin]
  onemap user role NAME ROLE [--grid ID|CODE]
  onemap user disable NAME | enable NAME
  onemap user unlock NAME      forget its failed sign-ins: no client waits to try it any longer
  onemap user list
roles: commander, planner, admin, auditor; viewer, grid_worker and operator need --grid (the
account sees that grid and the grids below it; a grid worker works the cases of its grid, an
operator those of its subtree).
Without --password-stdin a random password is made and printed once.`

// runUser manages accounts: `onemap user add|passwd|role|disable|enable|unlock|list`.
func runUser(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", userUsage)
	}
	sub, rest := args[0], args[1:]
	var pos []string // NAME and ROLE come before the flags
	for len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		pos, rest = append(pos, rest[0]), rest[1:]
	}
	var c config
	var role, display string
	var grid string
	var fromStdin bool
	f := newFlags("user "+sub, "user "+sub+" [flags]", getenv, stderr)
	f.database(&c)
	f.fs.StringVar(&role, "role", "", "the account's role")
	f.fs.StringVar(&grid, "grid", "", "the grid of a viewer, grid worker or operator, by id or by code (532329101000): the account sees that grid and the grids below it")
	f.fs.StringVar(&display, "display-name", "", "the name shown for the account")
	f.fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	if err := f.parse(rest); err != nil {
		return ignoreHelp(err)
	}
	pos = append(pos, f.fs.Args()...)
	want := map[string]int{"add": 1, "passwd": 1, "role": 2, "disable": 1, "enable": 1, "unlock": 1, "list": 0}
	n, ok := want[sub]
	if !ok || len(pos) != n {
		return fmt.Errorf("%s", userUsage)
	}
	db, _, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = onemap.NewContext(ctx, onemap.Caller{Name: "system", Role: "system", Client: "command line"})
	var gridID int64
	if grid != "" {
		if gridID, err = strconv.ParseInt(grid, 10, 64); err != nil || len(grid) >= 12 {
			if gridID, err = db.GridIDByCode(ctx, grid); err != nil {
				return err
			}
		}
	}

	// newPassword reads the password from standard input, or makes one
	// (made), and returns it with its hash.
	newPassword := func() (pw, hash string, made bool, err error) {
		if fromStdin {
			line, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && line == "" {
				return "", "", false, fmt.Errorf("read the password from standard input: %w", err)
			}
			pw = strings.TrimRight(line, "\r\n")
		} else {
			b := make([]byte, 15)
			_, _ = rand.Read(b)
			pw, made = base64.RawURLEncoding.EncodeToString(b), true
		}
		hash, err = password.Hash(pw)
		return pw, hash, made, err
	}
	switch sub {
	case "add":
		r, err := accountRole("--role", role)
		if err != nil {
			return err
		}
		pw, hash, made, err := newPassword()
		if err != nil {
			return err
		}
		a, err := db.CreateAccount(ctx, onemap.Account{Name: pos[0], DisplayName: display, Role: r, GridID: gridID}, hash)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "onemap: added %s (%s)\n", a.Name, a.Role)
		if made {
			fmt.Fprintf(stdout, "password: %s\n(shown once; change it with onemap user passwd %s)\n", pw, a.Name)
		}
	case "passwd":
		pw, hash, made, err := newPassword()
		if err != nil {
			return err
		}
		if _, err := db.UpdateAccount(ctx, pos[0], postgis.AccountChange{PasswordHash: &hash}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "onemap: new password for %s; its sessions are ended\n", pos[0])
		if made {
			fmt.Fprintf(stdout, "password: %s\n", pw)
		}
	case "role":
		r, err := accountRole("role", pos[1])
		if err != nil {
			return err
		}
		ch := postgis.AccountChange{Role: &r}
		if gridID != 0 {
			ch.GridID = &gridID
		}
		a, err := db.UpdateAccount(ctx, pos[0], ch)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "onemap: %s is now %s; its sessions are ended\n", a.Name, a.Role)
	case "disable", "enable":
		off := sub == "disable"
		if _, err := db.UpdateAccount(ctx, pos[0], postgis.AccountChange{Disabled: &off}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "onemap: %s %sd\n", pos[0], sub)
	case "unlock":
		n, err := db.UnlockAccount(ctx, pos[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "onemap: %s unlocked (%d clients no longer wait)\n", pos[0], n)
	case "list":
		list, err := db.ListAccounts(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tROLE\tGRID\tDISABLED\tDISPLAY NAME")
		for _, a := range list {
			fmt.Fprintf(w, "%s\t%s\t%d\t%v\t%s\n", a.Name, a.Role, a.GridID, a.Disabled, a.DisplayName)
		}
		return w.Flush()
	}
	return nil
}

// accountRole parses the role of an account: any role but the public's.
func accountRole(what, s string) (onemap.Role, error) {
	r, err := onemap.ParseRole(s)
	if err != nil || r == onemap.RolePublic {
		return "", onemap.Errorf(onemap.EINVALID, "%s %q: want viewer, commander, planner, admin, auditor, grid_worker or operator", what, s)
	}
	return r, nil
}
