package tuning

import (
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestLogShortfalls(t *testing.T) {
	findings := []Finding{
		{Name: "net.core.somaxconn", Current: "128", Needed: ">= 1000", Severity: Warn, Why: "accept queue", Fix: "sysctl -w net.core.somaxconn=1000"},
		{Name: "fs.nr_open", Current: "1048576", Needed: ">= 2024", Severity: OK},
	}
	tests := []struct {
		name    string
		assumed bool
		level   zapcore.Level // the logger's level
		want    int           // lines logged
		wantLvl zapcore.Level
	}{
		{"user target warns", false, zap.InfoLevel, 1, zap.WarnLevel},
		{"assumed target is quiet at info", true, zap.InfoLevel, 0, 0},
		{"assumed target shows at debug", true, zap.DebugLevel, 1, zap.DebugLevel},
		{"user target silenced at error", false, zap.ErrorLevel, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := Report{Target: Target{Conns: 1000, Assumed: tc.assumed}, Findings: findings}
			core, logs := observer.New(tc.level)
			rep.LogShortfalls(zap.New(core))
			if logs.Len() != tc.want {
				t.Fatalf("logged %d lines, want %d", logs.Len(), tc.want)
			}
			if tc.want == 0 {
				return
			}
			e := logs.All()[0]
			f := e.ContextMap()
			if e.Level != tc.wantLvl || f["setting"] != "net.core.somaxconn" || f["fix"] != "sysctl -w net.core.somaxconn=1000" ||
				f["target_conns"] != int64(1000) || f["target_assumed"] != tc.assumed {
				t.Fatalf("level %v, fields %v", e.Level, f)
			}
		})
	}
}
