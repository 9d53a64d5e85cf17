// Package temporalconn says how a CES process reaches Temporal: through
// the SDK's own environment variables and `temporal` CLI profiles
// (go.temporal.io/sdk/contrib/envconfig), so that TLS, mutual TLS, an API
// key for Temporal Cloud, the server name and the namespace are set the
// way Temporal users set them for every other client.
package temporalconn

import (
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// Options returns the client options for the environment env (nil: the
// process's): the profile of the TOML file named by TEMPORAL_CONFIG_FILE
// (default: the temporal CLI's), chosen by TEMPORAL_PROFILE, then the
// TEMPORAL_* variables over it. address and namespace are CES's defaults
// for what neither sets. Errors name the variable or file at fault, never
// a key.
func Options(env map[string]string, address, namespace string) (client.Options, error) {
	var lookup envconfig.EnvLookup = envconfig.EnvLookupOS
	if env != nil {
		lookup = mapEnv(env)
	}
	opts, err := envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{EnvLookup: lookup})
	if err != nil {
		return client.Options{}, fmt.Errorf("temporal connection (TEMPORAL_* variables or profile): %w", redact(err, lookup))
	}
	if opts.HostPort == "" {
		opts.HostPort = address
	}
	if opts.Namespace == "" {
		opts.Namespace = namespace
	}
	return opts, nil
}

// Describe says how opts connect, for a log line: address, namespace and
// the kind of security, never a secret.
func Describe(opts client.Options) string {
	security := "plaintext"
	switch tls := opts.ConnectionOptions.TLS; {
	case opts.ConnectionOptions.TLSDisabled || tls == nil:
	case len(tls.Certificates) > 0:
		security = "mutual TLS"
	default:
		security = "TLS"
	}
	if opts.Credentials != nil {
		security += " with an API key"
	}
	return fmt.Sprintf("%s, namespace %s, %s", opts.HostPort, opts.Namespace, security)
}

// redact removes the API key from an error's text, should a parser ever
// quote it.
func redact(err error, env envconfig.EnvLookup) error {
	key, ok := env.LookupEnv("TEMPORAL_API_KEY")
	if !ok || key == "" || !strings.Contains(err.Error(), key) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), key, "[redacted]"))
}

// mapEnv is an environment held in a map (the process's merged with
// .data/env by config.Load).
type mapEnv map[string]string

func (m mapEnv) Environ() []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

func (m mapEnv) LookupEnv(key string) (string, bool) {
	v, ok := m[key]
	return v, ok
}

// Trace adds the Temporal SDK's OpenTelemetry tracing interceptor to opts,
// recording under tp: a workflow's span carries its context through the
// server to each activity's, so one trace runs from a scheduled workflow
// through the activities it starts and what they call. Every client of a
// process must have it (the worker's, the starter's and the API's) for a
// workflow a client starts to join the client's trace.
func Trace(opts *client.Options, tp trace.TracerProvider) error {
	i, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{Tracer: tp.Tracer("temporal-sdk-go")})
	if err != nil {
		return fmt.Errorf("temporal tracing interceptor: %w", err)
	}
	opts.Interceptors = append(opts.Interceptors, i)
	return nil
}
