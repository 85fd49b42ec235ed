package tuning

import (
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// LogShortfalls writes one line per finding that falls short of the
// target, with the setting, its current and needed values, the reason and
// the fix as fields. Both binaries call it once at start. The lines are
// warnings for a target the user set and debug lines for an Assumed one,
// so a plain start stays quiet while --log-level debug still shows what a
// bigger target would need.
func (r Report) LogShortfalls(log *zap.Logger) {
	lvl, msg := zapcore.WarnLevel, "host setting short of target"
	if r.Target.Assumed {
		lvl, msg = zapcore.DebugLevel, "host setting short of the assumed target (set one to be warned)"
	}
	for _, f := range r.Shortfalls() {
		ce := log.Check(lvl, msg)
		if ce == nil {
			return
		}
		ce.Write(zap.Int("target_conns", r.Target.Conns), zap.Bool("target_assumed", r.Target.Assumed),
			zap.String("setting", f.Name), zap.String("severity", f.Severity.String()),
			zap.String("current", f.Current), zap.String("needed", f.Needed),
			zap.String("why", f.Why), zap.String("fix", f.Fix))
	}
}
