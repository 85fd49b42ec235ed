// Package metrics exports a myriad node's counters to Prometheus and to
// the dashboard.
//
// The server and the gateway keep their own counters (per-loop atomics,
// written by one loop each) and know nothing of Prometheus. This package
// reads their snapshots (server.Stats, server.Breakdown, Loop.Stats,
// gateway.HubStats) only when it is scraped, so exporting costs the hot
// path nothing: no lock, no allocation, no label lookup per message.
//
// Collector is a prometheus.Collector built from a Sources; Handler serves
// it with the Go runtime and process collectors on a registry of its own.
// Snapshot is the same data as JSON for the dashboard.
package metrics
