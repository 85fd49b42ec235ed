package tuning

import "os"

// CurrentHost describes the machine this process runs on: the real root
// "/", this process's RLIMIT_NOFILE and page size, and the given
// environment (pass os.Environ(); the package itself never reads the
// environment, so the caller decides whose it is).
func CurrentHost(environ []string) (Host, error) {
	lim, err := NoFileLimit()
	if err != nil {
		return Host{}, err
	}
	return Host{Root: "/", NoFile: lim, Environ: environ, PageSize: os.Getpagesize()}, nil
}

// StartupCheck checks the running process and its host against t. Both
// binaries call it at start, after RaiseNoFileLimit, and log each
// shortfall once, so an operator learns why a million connections will not
// fit before the millionth fails. It only reads.
//
// environ is the process's environment, normally os.Environ(). The error is
// for an invalid target or an unreadable descriptor limit; settings that
// cannot be read become findings.
func StartupCheck(t Target, environ []string) (Report, error) {
	h, err := CurrentHost(environ)
	if err != nil {
		return Report{}, err
	}
	return Check(h, t)
}
