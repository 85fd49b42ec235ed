package main

import (
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/myriadws/myriad/server"
)

// TestHostChecksWarnOnlyForAUserTarget runs the start-up host check on this
// machine: without --max-conns the target is assumed and nothing is logged
// above info; a target no host can carry (more descriptors than Linux
// allows any process) warns.
func TestHostChecksWarnOnlyForAUserTarget(t *testing.T) {
	tests := []struct {
		name     string
		maxConns int
		wantWarn bool
	}{
		{"no --max-conns: quiet", 0, false},
		{"--max-conns beyond any host: warns", 1<<31 - 1 - 1024, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			core, logs := observer.New(zap.InfoLevel)
			hostChecks(zap.New(core), server.Config{Addr: "127.0.0.1:0", MaxConns: tc.maxConns})
			warned := logs.FilterLevelExact(zapcore.WarnLevel).FilterMessage("host setting short of target").Len()
			if tc.wantWarn && warned == 0 {
				t.Fatalf("no shortfall warning for a user target of %d; logged %v", tc.maxConns, logs.All())
			}
			if !tc.wantWarn {
				for _, e := range logs.All() {
					if e.Level > zapcore.InfoLevel {
						t.Errorf("assumed target logged %v %q %v", e.Level, e.Message, e.ContextMap())
					}
				}
			}
		})
	}
}
