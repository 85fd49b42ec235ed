package tuning

import (
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestLogShortfalls(t *testing.T) {
	rep := Report{
		Target: Target{Conns: 1000},
		Findings: []Finding{
			{Name: "net.core.somaxconn", Current: "128", Needed: ">= 1000", Severity: Warn, Why: "accept queue", Fix: "sysctl -w net.core.somaxconn=1000"},
			{Name: "fs.nr_open", Current: "1048576", Needed: ">= 2024", Severity: OK},
		},
	}
	core, logs := observer.New(zap.InfoLevel)
	rep.LogShortfalls(zap.New(core))
	if logs.Len() != 1 {
		t.Fatalf("logged %d lines, want one per shortfall (1)", logs.Len())
	}
	f := logs.All()[0].ContextMap()
	if f["setting"] != "net.core.somaxconn" || f["fix"] != "sysctl -w net.core.somaxconn=1000" || f["target_conns"] != int64(1000) {
		t.Fatalf("fields %v", f)
	}
}
