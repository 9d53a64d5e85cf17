package config

// Variable documents one environment variable CES reads, or a few read
// together, or a family named by a pattern (FX_<KEY>_BASE_URL). Default
// and Meaning are Markdown, one line each; docs/configuration.md's tables
// are rendered from Variables() (go test ./internal/config -update), and
// the package's tests hold the list to what the code really reads.
type Variable struct {
	// Section groups the variable in the reference (one of Sections).
	Section string
	// Names are the variables, or patterns whose <UPPER> part stands
	// for a catalogue key or a header name.
	Names []string
	// Default is what applies when the variable is unset. When Config
	// has an envDefault for a name, Default starts with it in backticks.
	Default string
	// Meaning says what the variable does, with its limits.
	Meaning string
}

// The sections of the reference, in order.
const (
	SectionStorage       = "Database and Redis"
	SectionProviders     = "Providers"
	SectionIngestion     = "Ingestion"
	SectionRates         = "Freshness, conversions and quotes"
	SectionAPI           = "API"
	SectionKeys          = "Keys and quotas"
	SectionAudit         = "Audit"
	SectionTemporal      = "Temporal"
	SectionWorker        = "Worker"
	SectionObservability = "Observability"
)

// Sections lists the sections in the order the reference shows them.
var Sections = []string{
	SectionStorage, SectionProviders, SectionIngestion, SectionRates, SectionAPI,
	SectionKeys, SectionAudit, SectionTemporal, SectionWorker, SectionObservability,
}

// Variables returns every variable CES reads, by section.
func Variables() []Variable {
	return []Variable{
		// Database and Redis.
		{SectionStorage, []string{"DATABASE_URL"}, "required (`make up`: found or started)",
			"PostgreSQL URL, e.g. `postgres://ces:pw@127.0.0.1:5432/ces?sslmode=disable`; its password never appears in logs or errors"},
		{SectionStorage, []string{"REDIS_URL"}, "required (`make up`: found or started)",
			"Redis URL (`redis://` or `rediss://`), e.g. `redis://127.0.0.1:6379/0`; with `REDIS_CLUSTER` the cluster's seed nodes, `redis://:pw@h1:6379?addr=h2:6379&addr=h3:6379`; with `REDIS_SENTINEL_MASTER` the sentinels, `redis://:pw@s1:26379/0?addr=s2:26379&addr=s3:26379` (password and database are the primary's); its password never appears in logs or errors (see [Redis](redis.md))"},
		{SectionStorage, []string{"REDIS_CLUSTER"}, "`false`",
			"`true`: `REDIS_URL` names a Redis Cluster (ElastiCache cluster mode, Memorystore Cluster, Azure Cache Enterprise with the OSS cluster policy); CES follows its redirections and failovers"},
		{SectionStorage, []string{"REDIS_SENTINEL_MASTER"}, "none",
			"set: `REDIS_URL` names Sentinel nodes, and CES talks to the primary they manage under this name, following it across failovers; excludes `REDIS_CLUSTER`"},
		{SectionStorage, []string{"REDIS_SENTINEL_PASSWORD"}, "none",
			"the sentinels' own password (`requirepass` of the sentinels), when they ask for one; never logged"},
		{SectionStorage, []string{"DB_MAX_CONNS"}, "`16`",
			"PostgreSQL pool size per process (at least 1). In the API all but an eighth of it (two connections at least) may serve conversions at once, so conversions stuck on a locked table leave connections to lookups and `/readyz`; the API opens one more connection, outside the pool, to listen for changes to stored history"},
		{SectionStorage, []string{"DB_STATEMENT_TIMEOUT"}, "`30s`",
			"`statement_timeout` of every API and worker session (at least `1s`); migrations run without it. Connections time out after 5 s"},
		{SectionStorage, []string{"DB_LOCK_TIMEOUT"}, "`5s`",
			"`lock_timeout` of every API and worker session (at least `100ms`); migrations run without it"},
		{SectionStorage, []string{"CES_API_DB_PASSWORD", "CES_WORKER_DB_PASSWORD"}, "none",
			"read by `starter migrate` only: set both (or neither) and it creates, or resets, the database logins the API and the worker run as, and lets only them (and the owner) connect to the database (see [the logins](audit.md#least-privilege-the-processes-logins)); never logged"},
		{SectionStorage, []string{"CES_API_DB_LOGIN", "CES_WORKER_DB_LOGIN"}, "`ces_api_<database>`, `ces_worker_<database>`",
			"read by `starter migrate` and `starter db-logins` only: the names of those logins (lower-case letters, digits and underscores, not starting with a digit, at most 63; the two must differ). The default derives from the name of the database `DATABASE_URL` names, so CES databases on one server never share a login; name `ces_api` and `ces_worker` to keep the logins of earlier versions"},

		// Providers.
		{SectionProviders, []string{"FX_PROVIDERS"}, "`keyless`",
			"comma-separated providers, all ingested and served at once: any key of the publishers' catalogue ([publishers.md](publishers.md): `ecb`, `cbn`, `boc`, `boe`, `nbu`, `imf`, …), `openexchangerates` or `file`. The word `keyless` stands for every catalogue publisher that needs no API key, with each keyed one whose key is set. Unknown or repeated names are refused"},
		{SectionProviders, []string{"FX_PROVIDER"}, "none",
			"the one-element form of `FX_PROVIDERS`, kept for old configurations; setting both is refused"},
		{SectionProviders, []string{"FX_SOURCE_PRIORITY"}, "none: the default source policy",
			"an order of providers (each one of `FX_PROVIDERS`) that replaces the default source policy (each currency's issuer, then its peg, then the ECB, then the rest); configured providers left out follow in `FX_PROVIDERS` order (see [the source policy](pricing.md#the-source-policy-which-rows-price-a-pair))"},
		{SectionProviders, []string{"FX_API_KEY"}, "none",
			"Open Exchange Rates app id, required when `FX_PROVIDERS` lists `openexchangerates`; never logged"},
		{SectionProviders, []string{"FX_FRED_API_KEY"}, "none",
			"FRED API key, required when `FX_PROVIDERS` lists `fred` (the Federal Reserve's H.10 rates); never logged"},
		{SectionProviders, []string{"FX_ECB_BASE_URL", "FX_CBN_BASE_URL", "FX_OPENEXCHANGERATES_BASE_URL", "FX_<KEY>_BASE_URL"}, "the provider's own",
			"endpoint override per provider (`FX_BOC_BASE_URL` for `boc`, and so on): `http://` or `https://` (mirrors, tests), or `file://` of a folder holding the provider's files"},
		{SectionProviders, []string{"FX_BASE_URL"}, "none",
			"the endpoint override when only one provider is configured; refused with more than one (use `FX_<KEY>_BASE_URL`)"},
		{SectionProviders, []string{"FX_HTTP_TIMEOUT"}, "`30s`",
			"bound on one provider request, `1s` to `40s`: a provider that hangs longer fails that attempt, which is retried well inside the fetch activity's 45 s"},
		{SectionProviders, []string{"FX_FILE"}, "none",
			"an ECB XML or Open Exchange Rates JSON file, required when `FX_PROVIDERS` lists `file` (the offline demo)"},

		// Ingestion.
		{SectionIngestion, []string{"INGEST_INTERVAL"}, "none: each provider's own schedule",
			"when set, one fixed interval (a Go duration, at least `1m`) for every provider's schedule. Unset, each catalogue publisher is polled in the hours after it usually publishes (its cron in [publishers.md](publishers.md), UTC: the ECB at 14:10–17:10 on weekdays, the CBN hourly 08:20–18:20 on weekdays), and Open Exchange Rates and `file` hourly"},
		{SectionIngestion, []string{"BACKFILL_MAX_IN_FLIGHT"}, "`4`",
			"calls a backfill makes at once to a provider that serves one day per call (Open Exchange Rates), 1 to 64"},
		{SectionIngestion, []string{"RATE_JUMP_LIMIT"}, "`0.25`",
			"the quality gate: a rate that moves more than this relative change (a positive plain decimal) against its provider's previous rate, or against another provider's rate of the pair, is quarantined. A rate of a pair holding the currency its publisher issues (the catalogue's issuer) is compared with its own previous rate only"},
		{SectionIngestion, []string{"GATE_CONSENSUS_MIN_PUBLISHERS"}, "`4`",
			"the quality gate's consensus check: how many publishers (the incoming row's own included, 2 to 100) must value a currency on the same UTC date, on a common base (USD, or EUR for USD), for their median to hold an outlier; see docs/quality-gate.md"},
		{SectionIngestion, []string{"GATE_CONSENSUS_MADS"}, "`10`",
			"the consensus check holds a value further from the other publishers' median than this many median absolute deviations (a non-negative plain decimal) and than GATE_CONSENSUS_BAND"},
		{SectionIngestion, []string{"GATE_CONSENSUS_BAND"}, "`0.05`",
			"the relative distance from the median always tolerated by the consensus check, and the one a compiler's value may stray from the issuing authority's of the same date (a plain decimal between 0 and 1)"},
		{SectionIngestion, []string{"GATE_REFERENCE_MAX_AGE"}, "each publisher's staleness bound from its cadence (daily `97h`, weekly `217h`, monthly `913h`)",
			"the oldest rate of another publisher the quality gate compares an incoming rate with (a Go duration such as `48h`); rates of publishers not in FX_PROVIDERS are never compared with"},

		{SectionIngestion, []string{"PUBLISHER_LATE_AFTER_DAYS"}, "`2`",
			"publisher health (read by the worker, see [publisher-health.md](publisher-health.md)): a daily publisher is `late` once this many of its publication days (Monday to Friday unless its schedule names other weekdays) have passed in a row without a publication, 1 to 30. The catalogue holds no holiday calendars: 2 lets a one-day holiday pass"},
		{SectionIngestion, []string{"PUBLISHER_SILENT_AFTER_DAYS"}, "`5`",
			"a daily publisher is `silent` after this many publication days in a row without one (more than `PUBLISHER_LATE_AFTER_DAYS`, at most 60); a silent publisher's rates are answered `stale: true` whatever their age. 5 is a whole working week, longer than the usual runs of holidays. `0` makes no publisher of any cadence silent (`OFFLINE=1 make up` sets it: its recordings are years old)"},

		// Freshness, conversions and quotes.
		{SectionRates, []string{"RATE_STALE_AFTER"}, "per provider, from its cadence: daily publishers (ECB, CBN, …) `97h`, weekly `217h`, monthly `913h`, Open Exchange Rates `3h`",
			"age after which a rate is reported `stale: true` (a rate is stale when any leg is); a legal peg is never stale. The daily `97h` carries a Friday 16:00 CET ECB rate through a Monday that is a TARGET holiday; the CBN publishes on Lagos business days, Open Exchange Rates hourly"},
		{SectionRates, []string{"CONVERT_MAX_RATE_AGE"}, "`RATE_STALE_AFTER`",
			"the oldest rate a conversion may use, checked on every leg but a legal peg's"},
		{SectionRates, []string{"CONVERSION_MARGIN"}, "`0`",
			"margin taken on conversions, a plain decimal in [0, 1) such as `0.005` (exponent notation is refused)"},
		{SectionRates, []string{"QUOTE_TTL"}, "`30s`",
			"how long a quote holds its price, `1s` to `1h`"},

		// API.
		{SectionAPI, []string{"HTTP_ADDR"}, "`127.0.0.1:8080`",
			"the public API's listen address: `/api/v1`, `/healthz` and `/readyz` (see [Listeners and proxies](#listeners-and-proxies))"},
		{SectionAPI, []string{"ADMIN_ADDR"}, "`127.0.0.1:8081`",
			"the operators' listen address: the admin console (`/admin`) and the API's `/metrics`, never served on `HTTP_ADDR`, from which it must differ"},
		{SectionAPI, []string{"TRUSTED_PROXIES"}, "none: the peer is the client",
			"comma-separated CIDRs (or single addresses) of the reverse proxies whose `X-Forwarded-For` names the client (see [Listeners and proxies](#listeners-and-proxies))"},
		{SectionAPI, []string{"REQUEST_TIMEOUT"}, "`5s`",
			"every API request's deadline (the admin console's excepted), `100ms` to `5m`, carried into each PostgreSQL and Redis call; a conversion still waiting on the database then is rolled back and answered `503 database_unavailable` with the `Idempotency-Key` to retry with"},
		{SectionAPI, []string{"CORS_ALLOW_ORIGINS"}, "none: CORS off",
			"browser origins allowed to call `/api/v1`, comma-separated, or `*`"},
		{SectionAPI, []string{"HISTORY_CACHE_MB"}, "`64`",
			"memory the API keeps for historical rates (`at=`, history), 0 to 4096; `0` reads every one from PostgreSQL"},

		// Keys and quotas.
		{SectionKeys, []string{"RATES_PUBLIC"}, "`false` (`make up`, `.env.example`: `true`)",
			"serve rate lookups, history and currencies without an API key; conversions always need one"},
		{SectionKeys, []string{"QUOTA_RATES_PER_MINUTE"}, "`1200`",
			"each API key's requests per minute under the `rates:read` scope (a key may carry its own), shared by all replicas through Redis; `0` turns the quota off"},
		{SectionKeys, []string{"QUOTA_CONVERT_PER_MINUTE"}, "`120`",
			"each API key's requests per minute under the `convert` scope (a key may carry its own), shared by all replicas through Redis; `0` turns the quota off"},
		{SectionKeys, []string{"QUOTA_ANONYMOUS_PER_MINUTE"}, "`600`",
			"with `RATES_PUBLIC=true`, each client address's lookups per minute without a key (IPv6 by `/64`), up to 6000000, **per API replica**: each counts in its own memory, without calling Redis; `0` turns it off"},

		// Audit.
		{SectionAudit, []string{"AUDIT_SIGNING_KEY_FILE"}, "none; required by a worker serving `audit` (`make up`: `.data/audit-signing.key`)",
			"the Ed25519 private key (PEM, PKCS #8) the worker signs audit seals with; `starter audit-keygen` makes one. Only the worker reads it, and it warns when other users can read the file"},
		{SectionAudit, []string{"AUDIT_ANCHOR_DIR"}, "`.data/audit-anchor`",
			"the anchor: where the worker copies every seal outside PostgreSQL, and where `verify-audit` compares the database's seals with it"},
		{SectionAudit, []string{"IDEMPOTENCY_KEY_RETENTION"}, "`720h` (30 days)",
			"how long an `Idempotency-Key` keeps naming its receipt (at least `1h`): a repeat within it returns the receipt, after it converts anew. The worker forgets older keys each time it seals; receipts keep their keys forever (see [Audit log storage](audit.md#storage-over-years))"},

		// Temporal: CES's own, then the SDK's (see temporalconn).
		{SectionTemporal, []string{"TEMPORAL_ADDRESS"}, "`127.0.0.1:7233`",
			"the Temporal frontend (`host:port`)"},
		{SectionTemporal, []string{"TEMPORAL_NAMESPACE"}, "`default`",
			"the Temporal namespace"},
		{SectionTemporal, []string{"TEMPORAL_TASK_QUEUE"}, "`ces-ingest`",
			"task queue of ingestion and backfills (the provider schedules)"},
		{SectionTemporal, []string{"TEMPORAL_AUDIT_TASK_QUEUE"}, "`ces-audit`",
			"task queue of audit sealing (the `seal-audit-log` schedule) and verification (the console's verify button), apart from ingestion; it must differ from `TEMPORAL_TASK_QUEUE`"},
		{SectionTemporal, []string{"TEMPORAL_UI_URL"}, "`http://127.0.0.1:8233`",
			"the Temporal Web UI the admin console links runs to"},
		{SectionTemporal, []string{"TEMPORAL_TLS", "TEMPORAL_TLS_SERVER_CA_CERT_PATH", "TEMPORAL_TLS_SERVER_NAME"}, "off",
			"TLS to Temporal (`true` or `1`), trusting that CA and expecting that server name (see [Reaching a secured Temporal](#reaching-a-secured-temporal))"},
		{SectionTemporal, []string{"TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_KEY_PATH"}, "none",
			"mutual TLS: the client certificate and key (PEM files) every process presents"},
		{SectionTemporal, []string{"TEMPORAL_TLS_SERVER_CA_CERT_DATA", "TEMPORAL_TLS_CLIENT_CERT_DATA", "TEMPORAL_TLS_CLIENT_KEY_DATA"}, "none",
			"the same CA, certificate and key given as PEM text instead of a file (each excludes its `_PATH` form)"},
		{SectionTemporal, []string{"TEMPORAL_TLS_DISABLE_HOST_VERIFICATION"}, "`false`",
			"`true` skips verifying the server's certificate altogether (Go's `InsecureSkipVerify`): never in production"},
		{SectionTemporal, []string{"TEMPORAL_API_KEY"}, "none",
			"Temporal Cloud API key (turns TLS on); never logged"},
		{SectionTemporal, []string{"TEMPORAL_CLIENT_AUTHORITY"}, "none",
			"the `:authority` header and virtual host sent to Temporal, for a proxy that routes on it"},
		{SectionTemporal, []string{"TEMPORAL_GRPC_META_<NAME>"}, "none",
			"a gRPC header sent with every Temporal call, named after `<NAME>` in lower case with `_` as `-`"},
		{SectionTemporal, []string{"TEMPORAL_PROFILE", "TEMPORAL_CONFIG_FILE"}, "`default`, the `temporal` CLI's file",
			"a `temporal` CLI profile to start from; the variables above override it"},
		{SectionTemporal, []string{"TEMPORAL_CODEC_ENDPOINT", "TEMPORAL_CODEC_AUTH"}, "none",
			"read by the Temporal SDK but ignored: CES configures no remote codec"},

		// Worker.
		{SectionWorker, []string{"WORKER_QUEUES"}, "`ingest,audit`",
			"the queues a worker serves: `ingest`, `audit` or both, so that workers can be run, scaled and isolated per concern; only a worker serving `audit` needs `AUDIT_SIGNING_KEY_FILE`"},

		// Observability.
		{SectionObservability, []string{"METRICS_ADDR"}, "`127.0.0.1:9091`",
			"where the worker serves `/metrics` (the API serves it on `ADMIN_ADDR`)"},
		{SectionObservability, []string{"PPROF_ADDR"}, "none",
			"when set, the API serves `net/http/pprof` there; keep it on loopback"},
		{SectionObservability, []string{"LOG_LEVEL"}, "`info`",
			"`info` or `debug`"},

		// Tracing: the OpenTelemetry SDK's own variables (see internal/tracing).
		{SectionObservability, []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"}, "none: tracing off",
			"the OTLP collector the API, the worker and the starter send traces to, e.g. `http://127.0.0.1:4318` (the second, when set, is the traces' own, taken as is); unset, tracing is off and costs requests nothing (see [tracing.md](tracing.md))"},
		{SectionObservability, []string{"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"}, "`http/protobuf`",
			"`http/protobuf` or `grpc` (port 4317 by convention); anything else stops the process at start"},
		{SectionObservability, []string{"OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG"}, "`parentbased_always_on`",
			"which traces are kept, e.g. `parentbased_traceidratio` with `0.01` for one in a hundred; a workflow's activities follow its decision"},
		{SectionObservability, []string{"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"}, "`ces-api`, `ces-worker`, `ces-starter`",
			"the service name traces are filed under, and more resource attributes (`deployment.environment.name=prod,…`)"},
		{SectionObservability, []string{"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER"}, "`false`, `otlp`",
			"`OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` turns tracing off even with an endpoint set"},
		{SectionObservability, []string{"OTEL_EXPORTER_OTLP_<NAME>", "OTEL_EXPORTER_OTLP_TRACES_<NAME>"}, "the SDK's",
			"the exporter's `HEADERS` (a collector's token: never logged), `INSECURE`, `CERTIFICATE`, `CLIENT_CERTIFICATE`, `CLIENT_KEY`, `COMPRESSION` and `TIMEOUT`, as the OpenTelemetry specification defines them"},
		{SectionObservability, []string{"OTEL_BSP_<NAME>"}, "the SDK's",
			"the batch span processor's `SCHEDULE_DELAY`, `EXPORT_TIMEOUT`, `MAX_QUEUE_SIZE` and `MAX_EXPORT_BATCH_SIZE`: a full queue drops spans, never slows a request"},
	}
}
