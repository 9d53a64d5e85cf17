// Package faults is CES's fault-injection suite (make faults). Its test
// runs the real api, worker and Temporal dev server against a private
// PostgreSQL cluster, a private Redis and a stand-in ECB, breaks each of
// them in turn under bounded load on 127.0.0.1, and checks what clients
// and auditors rely on: every acknowledged conversion stored and nothing
// stored unacknowledged, no duplicate rate, Redis no newer or older than
// PostgreSQL, and lookups fast while a dependency is sick. The package
// has no code outside its tests.
package faults
