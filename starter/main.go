// Command starter runs one-off operations against CES:
//
//	starter migrate                          apply database migrations, make the database's logins
//	starter db-logins                        print the names of the API's and the worker's logins
//	starter schedule                                   reconcile the ingestion schedules with FX_PROVIDERS
//	starter trigger [--provider P] [--date YYYY-MM-DD] run one ingestion now and wait for it
//	starter backfill --provider P --from D --to D      ingest a past period from one download
//	starter verify-audit [--full] [--keys F] check the audit log against its seals, signatures and anchor
//	starter audit-keygen --out FILE          write a new seal signing key pair
//	starter apikey create|list|revoke        manage the API keys clients send
//	starter createsuperuser --username U     create an admin console user
//	starter user create|list|role|disable|enable  manage console users and their roles
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"ces/internal/anchor"
	"ces/internal/audit"
	"ces/internal/cache"
	"ces/internal/clients"
	"ces/internal/config"
	"ces/internal/conversions"
	"ces/internal/flow"
	"ces/internal/ingestion"
	"ces/internal/logging"
	"ces/internal/store"
	"ces/internal/temporalconn"
	"ces/internal/tracing"
	"ces/internal/verifier"
	"ces/migrations"
)

const usage = `usage: starter <command> [flags]

commands:
  migrate                         apply pending database migrations (idempotent), as the owner of
                                  the tables; with CES_API_DB_PASSWORD and CES_WORKER_DB_PASSWORD
                                  also create or update the database's own API and worker logins
                                  (ces_api_<database>, ces_worker_<database>, or CES_API_DB_LOGIN and
                                  CES_WORKER_DB_LOGIN) and let only them and the owner connect
  db-logins                       print the names of those logins (CES_API_DB_LOGIN=…, CES_WORKER_DB_LOGIN=…)
  providers                       print the providers FX_PROVIDERS configures, one a line (the word
                                  keyless expanded to the publishers it stands for)
  schedule                        create or update the Temporal Schedule ingest-rates-<provider> of
                                  every provider in FX_PROVIDERS; pause those of providers removed
  trigger [--provider P] [--date YYYY-MM-DD]
                                  run one IngestRates now and print its result
  backfill --provider P --from D --to D [--wait=false]
                                  run BackfillRates: the days P published from D to D (inclusive)
  verify-audit [--full] [--keys FILE]
                                  check the seal chain, its signatures and the anchor (AUDIT_ANCHOR_DIR),
                                  then recompute the hash and figures of every row since the last clean
                                  run (--full: every row); --keys trusts only the public keys in FILE
                                  (PEM) instead of the anchor's; exit 1 naming the first bad row or
                                  seal, 2 when it cannot run (database or anchor unreachable)
  audit-keygen [--out FILE]       write a new Ed25519 seal signing key to FILE (mode 0600, never
                                  overwritten; default AUDIT_SIGNING_KEY_FILE) and its public key to
                                  FILE.pub; --if-missing does nothing when FILE exists
  apikey create --name N [--scopes rates:read,convert] [--per-minute N]
                                  make an API key and print it (once; only its hash is stored)
  apikey list                     list the keys: id, name, prefix, scopes, created, revoked
  apikey revoke ID [--reason R]   revoke a key, at once on every API replica
  createsuperuser --username U    create a console user with the admin role; the password is read
                                  from the terminal without echo, or from the first line of stdin
  user create --username U --role R [--reason R]
                                  create a console user with role R (viewer, operator or admin);
                                  the password is read as by createsuperuser
  user list                       list the console users: username, role, state, last change
  user role U R --reason R        give user U role R, from its next request on
  user disable U --reason R       disable user U and end all its sessions at once
  user enable U --reason R        let user U sign in again
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	log := logging.New("starter")
	defer logging.Flush()
	if os.Args[1] == "audit-keygen" {
		// Needs no database or Temporal, so no configuration either.
		if err := auditKeygen(os.Args[2:]); err != nil {
			logging.Fatal(log, "audit-keygen", err)
		}
		return
	}
	cfg, err := config.Load()
	if err != nil {
		logging.Fatal(log, "configuration", err)
	}
	if len(cfg.FromEnvFile) > 0 {
		log.Info("read variables unset in the environment from "+config.EnvFile, "variables", strings.Join(cfg.FromEnvFile, ","))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// With tracing on, a backfill or verification the starter starts is a
	// trace from its StartWorkflow call (see dial).
	traces, err := tracing.Setup(ctx, "ces-starter", cfg.OTelEnviron())
	if err != nil {
		logging.Fatal(log, "tracing", err)
	}

	cmd, args := os.Args[1], os.Args[2:]
	switch cmd {
	case "migrate":
		err = migrate(ctx, log, cfg)
	case "db-logins":
		err = dbLogins(ctx, cfg, os.Stdout)
	case "providers":
		// Scripts name schedules after providers: they need keyless spelled out.
		fmt.Println(strings.Join(cfg.FXProviders, "\n"))
	case "schedule":
		err = schedule(ctx, log, cfg)
	case "trigger":
		err = trigger(ctx, log, cfg, args)
	case "backfill":
		err = backfill(ctx, log, cfg, args)
	case "verify-audit":
		err = verifyAudit(ctx, cfg, args)
	case "apikey":
		err = apikey(ctx, cfg, args, os.Stdout)
	case "createsuperuser":
		err = createSuperuser(ctx, log, cfg, args, os.Stdin)
	case "user":
		err = user(ctx, cfg, args, os.Stdin, os.Stdout)
	default:
		fmt.Fprintf(os.Stderr, "starter: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), tracing.ShutdownTimeout)
	if serr := traces.Shutdown(shutdownCtx); serr != nil {
		log.Warn("tracing", "error", serr.Error())
	}
	cancel()
	if err != nil {
		if cmd == "verify-audit" && !errors.Is(err, errAuditMismatch) {
			// 1 means the log is wrong; 2 that it could not be checked.
			log.Error(cmd+": could not run", "error", err.Error())
			logging.Flush()
			os.Exit(2)
		}
		logging.Fatal(log, cmd, err)
	}
}

func migrate(ctx context.Context, log *slog.Logger, cfg config.Config) error {
	db, err := store.Open(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := migrations.Run(ctx, db, time.Minute)
	if err != nil {
		return err
	}
	if len(r.Applied) == 0 {
		log.Info("database is up to date; no migration applied")
	} else {
		log.Info("migrations applied", "group", r.Group, "migrations", r.Applied)
	}
	logins, err := config.LoadLogins()
	if err != nil || !logins.Set() {
		return err
	}
	database, api, worker, err := loginNames(ctx, db, logins)
	if err != nil {
		return err
	}
	// The server-wide logins of earlier versions lose this database unless
	// they are the ones configured; noted only when they could connect.
	var legacy []string
	for _, name := range []string{store.LegacyAPILogin, store.LegacyWorkerLogin} {
		if name != api && name != worker {
			legacy = append(legacy, name)
		}
	}
	if legacy, err = store.MayConnect(ctx, db, legacy...); err != nil {
		return err
	}
	// The API and the worker connect as these, never as the owner.
	err = store.EnsureLogins(ctx, db, []store.Login{
		{Name: api, Role: store.APIRole, Password: logins.APIPassword},
		{Name: worker, Role: store.WorkerRole, Password: logins.WorkerPassword},
	}, store.Limits{Statement: cfg.DBStatementTimeout, Lock: cfg.DBLockTimeout})
	if errors.Is(err, store.ErrLoginUnfit) {
		return fmt.Errorf("%w (name the logins with CES_API_DB_LOGIN and CES_WORKER_DB_LOGIN)", err)
	}
	if err != nil {
		return err
	}
	switch err := store.RestrictConnect(ctx, db, []string{api, worker}, legacy); {
	case errors.Is(err, store.ErrConnectNotRestricted):
		log.Warn("could not keep other logins out of the database: run starter migrate as its owner, or have the owner run the statements below",
			"database", database, "error", err.Error(),
			"statements", fmt.Sprintf("REVOKE CONNECT ON DATABASE %q FROM PUBLIC; GRANT CONNECT ON DATABASE %q TO %s, %s", database, database, api, worker))
	case err != nil:
		return err
	case len(legacy) > 0:
		log.Warn("logins are per database now: point the API's and the worker's DATABASE_URL at the new logins; the server-wide ones may no longer connect to this database "+
			"(to keep them instead, set CES_API_DB_LOGIN=ces_api and CES_WORKER_DB_LOGIN=ces_worker and run starter migrate again)",
			"database", database, "api", api, "worker", worker, "retired", strings.Join(legacy, ","))
	}
	log.Info("database logins ready", "database", database, "api", api, "worker", worker)
	return nil
}

// loginNames returns the database db is connected to and the names of
// its API and worker logins: those configured, or derived from the
// database's name.
func loginNames(ctx context.Context, db *bun.DB, l config.Logins) (database, api, worker string, err error) {
	if database, err = store.CurrentDatabase(ctx, db); err != nil {
		return "", "", "", err
	}
	api, worker = store.DatabaseLogins(database)
	if l.APILogin != "" {
		api = l.APILogin
	}
	if l.WorkerLogin != "" {
		worker = l.WorkerLogin
	}
	if api == worker {
		return "", "", "", fmt.Errorf("the API and the worker would share the login %s: set CES_API_DB_LOGIN and CES_WORKER_DB_LOGIN apart", api)
	}
	return database, api, worker, nil
}

// dbLogins prints the names of the logins the API and the worker connect
// to DATABASE_URL's database as, one assignment per line, for scripts.
func dbLogins(ctx context.Context, cfg config.Config, out io.Writer) error {
	logins, err := config.LoadLogins()
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, 1)
	if err != nil {
		return err
	}
	defer db.Close()
	_, api, worker, err := loginNames(ctx, db, logins)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "CES_API_DB_LOGIN=%s\nCES_WORKER_DB_LOGIN=%s\n", api, worker)
	return err
}

func dial(log *slog.Logger, cfg config.Config) (client.Client, error) {
	opts, err := cfg.TemporalOptions()
	if err != nil {
		return nil, err
	}
	opts.Logger = tlog.NewStructuredLogger(log.With("component", "temporal"))
	if tracing.Enabled() {
		if err := temporalconn.Trace(&opts, otel.GetTracerProvider()); err != nil {
			return nil, err
		}
	}
	c, err := client.Dial(opts)
	if err != nil {
		return nil, fmt.Errorf("temporal at %s: %w", temporalconn.Describe(opts), err)
	}
	return c, nil
}

func schedule(ctx context.Context, log *slog.Logger, cfg config.Config) error {
	c, err := dial(log, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, p := range cfg.FXProviders {
		cad := cfg.Cadence(p)
		created, err := ingestion.EnsureSchedule(ctx, c, ingestion.ScheduleOptions{
			Provider: p, TaskQueue: cfg.TaskQueue, Interval: cad.Interval, Cron: cad.Cron,
		})
		if err != nil {
			return err
		}
		log.Info("schedule "+verb(created), "schedule_id", ingestion.ScheduleID(p), "cadence", cad.String())
	}
	paused, err := ingestion.Reconcile(ctx, c, "", config.KnownProviders, cfg.FXProviders)
	if err != nil {
		return err
	}
	for _, id := range paused {
		log.Warn("schedule paused: its provider is no longer configured", "schedule_id", id, "providers", strings.Join(cfg.FXProviders, ","))
	}
	created, err := ingestion.EnsureSealSchedule(ctx, c, "", cfg.AuditTaskQueue)
	if err != nil {
		return err
	}
	log.Info("schedule "+verb(created), "schedule_id", flow.SealScheduleID, "interval", flow.SealInterval.String())
	created, err = ingestion.EnsurePublisherHealthSchedule(ctx, c, "", cfg.TaskQueue)
	if err != nil {
		return err
	}
	log.Info("schedule "+verb(created), "schedule_id", flow.PublisherHealthScheduleID, "interval", flow.PublisherHealthInterval.String())
	return nil
}

func verb(created bool) string {
	if created {
		return "created"
	}
	return "updated"
}

// errAuditMismatch makes verify-audit exit non-zero after printing its report.
var errAuditMismatch = errors.New("the audit log does not verify")

func verifyAudit(ctx context.Context, cfg config.Config, args []string) error {
	fs := flag.NewFlagSet("verify-audit", flag.ContinueOnError)
	full := fs.Bool("full", false, "recompute every row, not only those after the newest clean run")
	keysFile := fs.String("keys", "", "PEM file of the only public keys trusted to sign seals (default: the anchor's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var pinned audit.Keys
	if *keysFile != "" {
		b, err := os.ReadFile(*keysFile)
		if err != nil {
			return fmt.Errorf("--keys: %w", err)
		}
		if pinned, err = audit.ParsePublicKeys(b); err != nil {
			return fmt.Errorf("--keys %s: %w", *keysFile, err)
		}
	}
	sink, err := anchor.OpenDir(cfg.AuditAnchorDir)
	if err != nil {
		return fmt.Errorf("AUDIT_ANCHOR_DIR: %w", err)
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, store.VerifyConns()+1) // windows are checked in parallel
	if err != nil {
		return err
	}
	defer db.Close()
	last := time.Now() // progress only for runs longer than a moment
	rep, _, err := verifier.Run(ctx, store.NewAudit(db), sink, time.Now, verifier.Options{
		Full: *full, Pinned: pinned, StartedBy: "starter verify-audit",
		Progress: func(done, total int64) {
			if time.Since(last) >= 2*time.Second {
				fmt.Fprintf(os.Stderr, "verify-audit: %d of %d rows checked\n", done, total)
				last = time.Now()
			}
		},
	})
	if err != nil {
		return err
	}
	if !rep.OK() {
		fmt.Fprintf(os.Stderr, "verify-audit: FAILED: %s\n", rep.Problem)
		return fmt.Errorf("%w: %s", errAuditMismatch, rep.Problem)
	}
	if rep.CheckpointError != "" {
		fmt.Fprintf(os.Stderr, "verify-audit: could not record this run in the anchor (%s); the next run checks every row\n", rep.CheckpointError)
	}
	from := "from the start"
	if rep.From > 0 {
		from = fmt.Sprintf("after seal %d (verified before; --full rechecks them)", rep.From)
	}
	fmt.Printf("verify-audit: ok: %d audit rows checked %s, %d seals (%d unsigned, from before signing), %d not anchored yet, %d rows not sealed yet\n",
		rep.Rows, from, rep.Seals, rep.Unsigned, rep.PendingAnchor, rep.Unsealed)
	return nil
}

// auditKeygen writes a new signing key pair. The private key is created
// exclusively with mode 0600, so an existing key is never replaced.
func auditKeygen(args []string) error {
	fs := flag.NewFlagSet("audit-keygen", flag.ContinueOnError)
	out := fs.String("out", os.Getenv("AUDIT_SIGNING_KEY_FILE"), "where to write the private key (the public key goes to FILE.pub)")
	ifMissing := fs.Bool("if-missing", false, "do nothing when the key file exists")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("--out is required (or set AUDIT_SIGNING_KEY_FILE)")
	}
	if _, err := os.Stat(*out); err == nil && *ifMissing {
		fmt.Printf("audit-keygen: %s exists; left as it is\n", *out)
		return nil
	}
	private, public, id, err := audit.GenerateKey()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("%w (a key is never overwritten: to rotate, write a new file and point AUDIT_SIGNING_KEY_FILE at it)", err)
	}
	if _, err := f.Write(private); err != nil {
		f.Close()
		return err
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return err
	}
	if err := os.WriteFile(*out+".pub", public, 0o644); err != nil {
		return err
	}
	fmt.Printf("audit-keygen: wrote %s (private, mode 0600) and %s.pub; key id %s\n%s", *out, *out, id, public)
	return nil
}

func trigger(ctx context.Context, log *slog.Logger, cfg config.Config, args []string) error {
	fs := flag.NewFlagSet("trigger", flag.ContinueOnError)
	date := fs.String("date", "", "ingest the rates the provider published on this day (YYYY-MM-DD) instead of the latest")
	prov := fs.String("provider", cfg.FXProvider, "the provider to ingest (one of FX_PROVIDERS)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !slices.Contains(cfg.FXProviders, *prov) {
		return fmt.Errorf("--provider %q is not one of FX_PROVIDERS (%s)", *prov, strings.Join(cfg.FXProviders, ","))
	}
	c, err := dial(log, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	id := fmt.Sprintf("%s/manual-%s", ingestion.WorkflowIDPrefix(*prov), time.Now().UTC().Format("20060102T150405.000Z"))
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: cfg.TaskQueue, WorkflowExecutionTimeout: 35 * time.Minute,
	}, flow.IngestRatesName, flow.IngestInput{Provider: *prov, Date: *date})
	if err != nil {
		return fmt.Errorf("start %s: %w", id, err)
	}
	log.Info("ingestion started; waiting for its result", "workflow_id", id, "run_id", run.GetRunID())
	var res flow.IngestResult
	if err := run.Get(ctx, &res); err != nil {
		return fmt.Errorf("ingestion %s: %w", id, err)
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

func backfill(ctx context.Context, log *slog.Logger, cfg config.Config, args []string) error {
	fs := flag.NewFlagSet("backfill", flag.ContinueOnError)
	prov := fs.String("provider", cfg.FXProvider, "the provider whose history to ingest (one of FX_PROVIDERS)")
	from := fs.String("from", "", "first day to ingest (YYYY-MM-DD)")
	to := fs.String("to", "", "last day to ingest (YYYY-MM-DD, inclusive)")
	wait := fs.Bool("wait", true, "wait for the backfill to finish and print its result")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !slices.Contains(cfg.FXProviders, *prov) {
		return fmt.Errorf("--provider %q is not one of FX_PROVIDERS (%s)", *prov, strings.Join(cfg.FXProviders, ","))
	}
	start, err1 := time.Parse(time.DateOnly, *from)
	end, err2 := time.Parse(time.DateOnly, *to)
	if err := errors.Join(err1, err2); err != nil {
		return errors.New("--from and --to are required, as YYYY-MM-DD")
	}
	if end.Before(start) {
		return errors.New("--to is before --from")
	}
	if end.Sub(start) > flow.MaxBackfillDays*24*time.Hour {
		return fmt.Errorf("the range is longer than %d days; split it", flow.MaxBackfillDays)
	}
	c, err := dial(log, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	in := flow.BackfillInput{Provider: *prov, From: *from, To: *to}
	run, err := ingestion.StartBackfill(ctx, c, cfg.TaskQueue, in)
	if err != nil {
		return err
	}
	log.Info("backfill started; the live schedule keeps running", "workflow_id", run.GetID(), "run_id", run.GetRunID())
	if !*wait {
		return nil
	}
	var res flow.BackfillResult
	if err := run.Get(ctx, &res); err != nil {
		return fmt.Errorf("backfill %s: %w", run.GetID(), err)
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// apikey makes, lists and revokes API keys. The key itself is printed
// once, on stdout alone, so that it can be captured: KEY=$(starter apikey create …).
func apikey(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("apikey: want create, list or revoke")
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	st := store.New(db)
	sub, args := args[0], args[1:]
	switch sub {
	case "create":
		fs := flag.NewFlagSet("apikey create", flag.ContinueOnError)
		name := fs.String("name", "", "who or what the key is for (required)")
		scopes := fs.String("scopes", strings.Join(clients.DefaultScopes, ","), "comma-separated: "+strings.Join(clients.AllScopes, ", "))
		perMinute := fs.Int("per-minute", 0, "the key's own quota of requests per minute under each scope (0: QUOTA_*_PER_MINUTE)")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if n := strings.TrimSpace(*name); n == "" || len(n) > 100 {
			return errors.New("apikey create: --name is required (at most 100 characters)")
		}
		list, err := clients.ParseScopes(*scopes)
		if err != nil {
			return err
		}
		if *perMinute < 0 {
			return errors.New("apikey create: --per-minute must be 0 (the default) or more")
		}
		k, plain, hash, err := clients.NewKey(strings.TrimSpace(*name), list, *perMinute, "starter", time.Now())
		if err != nil {
			return err
		}
		if err := st.Keys.CreateAPIKey(ctx, k, hash); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "apikey: created %s (%s, scopes %s); the key is printed once, below, and cannot be shown again\n", k.ID, k.Name, strings.Join(k.Scopes, ","))
		fmt.Fprintln(out, plain)
		return nil
	case "list":
		keys, err := st.Keys.APIKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tSCOPES\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := "-"
			if k.Revoked() {
				revoked = k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, strings.Join(k.Scopes, ","), k.CreatedAt.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		if len(args) == 0 {
			return errors.New("apikey revoke: want the key's id")
		}
		id, rest := args[0], args[1:]
		fs := flag.NewFlagSet("apikey revoke", flag.ContinueOnError)
		reason := fs.String("reason", "", "why (recorded)")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if !conversions.ValidID(id) { // the canonical UUID text, as ids are written
			return fmt.Errorf("apikey revoke: %q is not a key id (see starter apikey list)", id)
		}
		if err := st.Keys.RevokeAPIKey(ctx, id, "starter", *reason); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("apikey revoke: no key %s", id)
		} else if err != nil {
			return err
		}
		// The database refuses the key's writes from now on; this tells
		// every API replica to stop trusting what it cached of it.
		rdb, err := cache.NewClient(cache.Conn{URL: cfg.RedisURL, Cluster: cfg.RedisCluster, SentinelMaster: cfg.RedisSentinelMaster, SentinelPassword: cfg.RedisSentinelPassword}, cache.WorkerTimeouts)
		if err == nil {
			err = clients.Announce(ctx, rdb, clients.RevocationChannel("ces:"), id)
			rdb.Close()
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "apikey: revoked %s; Redis did not carry the news, so API replicas may serve reads with it for up to %s\n", id, clients.CacheTTL)
			return nil
		}
		fmt.Fprintf(os.Stderr, "apikey: revoked %s\n", id)
		return nil
	}
	return fmt.Errorf("apikey: unknown subcommand %q (want create, list or revoke)", sub)
}
