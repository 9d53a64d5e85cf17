// Package jaeger pins the Jaeger all-in-one that the tracing integration
// test runs (scripts/lib.sh ensure_jaeger builds it into bin/jaeger). It is
// a module of its own so that Jaeger's dependencies and its replace
// directive stay out of the service's go.mod.
package jaeger
