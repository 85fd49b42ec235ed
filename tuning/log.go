package tuning

import "go.uber.org/zap"

// LogShortfalls writes one warning per finding that falls short of the
// target, with the setting, its current and needed values, the reason and
// the fix as fields. Both binaries call it once at start.
func (r Report) LogShortfalls(log *zap.Logger) {
	for _, f := range r.Shortfalls() {
		log.Warn("host setting short of target",
			zap.Int("target_conns", r.Target.Conns),
			zap.String("setting", f.Name), zap.String("severity", f.Severity.String()),
			zap.String("current", f.Current), zap.String("needed", f.Needed),
			zap.String("why", f.Why), zap.String("fix", f.Fix))
	}
}
