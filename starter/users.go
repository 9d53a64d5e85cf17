package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"ces/internal/admin"
	"ces/internal/config"
	"ces/internal/store"
)

// starterActor is who the starter's user changes are recorded as, in
// admin_user_changes and admin_actions: whoever can run it holds the
// database owner's credentials.
const starterActor = "starter"

// createSuperuser makes a console user with the admin role.
func createSuperuser(ctx context.Context, log *slog.Logger, cfg config.Config, args []string, stdin *os.File) error {
	fs := flag.NewFlagSet("createsuperuser", flag.ContinueOnError)
	username := fs.String("username", "", "the admin's username")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := createUser(ctx, cfg, *username, string(admin.Admin), "createsuperuser", stdin); err != nil {
		return err
	}
	log.Info("admin user created; sign in at /admin on ADMIN_ADDR", "username", *username, "role", admin.Admin, "admin_addr", cfg.AdminAddr)
	return nil
}

// createUser checks the username and role, reads the password, and stores
// the user with its first change, recording the action.
func createUser(ctx context.Context, cfg config.Config, username, role, reason string, stdin *os.File) error {
	if username == "" {
		return errors.New("--username is required")
	}
	if err := admin.CheckUsername(username); err != nil {
		return fmt.Errorf("--username: %w", err)
	}
	r, err := admin.ParseRole(role)
	if err != nil {
		return fmt.Errorf("--role: %w", err)
	}
	password, err := readPassword(stdin)
	if err != nil {
		return err
	}
	if err := admin.CheckNewPassword(password); err != nil {
		return err
	}
	hash, err := admin.HashPassword(password)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	st := store.New(db)
	_, err = st.Console.CreateAdminUser(ctx, store.NewAdminUser{Username: username, PasswordHash: hash, Role: string(r), By: starterActor, Reason: reason})
	return record(ctx, st.Console, "user-create", "user "+username+" as "+string(r), reason, err)
}

// record appends a starter's user change to admin_actions, as the console
// records its own, and returns the change's error.
func record(ctx context.Context, users *store.Console, action, target, reason string, err error) error {
	outcome := "ok"
	if err != nil {
		outcome = "failed: " + err.Error()
	}
	if rerr := users.RecordAdminAction(ctx, store.AdminAction{
		Username: starterActor, Action: action, Target: target, Reason: reason, Outcome: outcome, Client: starterActor,
	}); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// readPassword reads a password without echo from a terminal (asking
// twice), or the first line of stdin when it is not a terminal (scripts).
func readPassword(stdin *os.File) (string, error) {
	fd := int(stdin.Fd())
	if !term.IsTerminal(fd) {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", errors.New("no password on stdin")
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	fmt.Fprint(os.Stderr, "Password: ")
	first, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", err
	}
	fmt.Fprint(os.Stderr, "Password (again): ")
	second, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", err
	}
	if string(first) != string(second) {
		return "", errors.New("the passwords differ")
	}
	return string(first), nil
}

// user makes, lists and changes console users: the way back in when no
// admin can sign in, and the scripted way to manage roles.
func user(ctx context.Context, cfg config.Config, args []string, stdin *os.File, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("user: want create, list, role, disable or enable")
	}
	sub, args := args[0], args[1:]
	if sub == "create" {
		fs := flag.NewFlagSet("user create", flag.ContinueOnError)
		username := fs.String("username", "", "the user's username")
		role := fs.String("role", string(admin.Viewer), "viewer, operator or admin")
		reason := fs.String("reason", "", "why (recorded)")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if err := createUser(ctx, cfg, *username, *role, *reason, stdin); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "user: created %s as %s\n", *username, *role)
		return nil
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	st := store.New(db)
	if sub == "list" {
		users, err := st.Console.AdminUsers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tROLE\tSTATE\tCHANGED\tBY\tWHY")
		for _, u := range users {
			role, state := u.Role, "enabled"
			if role == "" {
				role = "none"
			}
			if u.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, role, state, u.ChangedAt.Format(time.RFC3339), u.ChangedBy, u.Reason)
		}
		return tw.Flush()
	}
	var positional int // the username, and for role the role
	switch sub {
	case "role":
		positional = 2
	case "disable", "enable":
		positional = 1
	default:
		return fmt.Errorf("user: unknown subcommand %q (want create, list, role, disable or enable)", sub)
	}
	if len(args) < positional {
		return fmt.Errorf("user %s: want the username%s, then --reason", sub, strings.Repeat(" and the role", positional-1))
	}
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	reason := fs.String("reason", "", "why (required; recorded)")
	if err := fs.Parse(args[positional:]); err != nil {
		return err
	}
	if strings.TrimSpace(*reason) == "" {
		return fmt.Errorf("user %s: --reason is required", sub)
	}
	u, _, err := st.Console.AdminCredentials(ctx, args[0])
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("user %s: no user %q (see starter user list)", sub, args[0])
	}
	if err != nil {
		return err
	}
	switch sub {
	case "role":
		r, err := admin.ParseRole(args[1])
		if err != nil {
			return fmt.Errorf("user role: %w", err)
		}
		err = record(ctx, st.Console, "user-role", "user "+u.Username+" to "+string(r), *reason, st.Console.SetAdminRole(ctx, u.ID, string(r), starterActor, *reason))
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "user: %s is now %s, from its next request on\n", u.Username, r)
	default:
		disable := sub == "disable"
		err := record(ctx, st.Console, "user-"+sub, "user "+u.Username, *reason, st.Console.SetAdminDisabled(ctx, u.ID, disable, starterActor, *reason))
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "user: %s %sd\n", u.Username, sub)
	}
	return nil
}
