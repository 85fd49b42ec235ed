package main

import (
	"net"
	"os"
	"strconv"

	"go.uber.org/zap"

	"github.com/myriadws/myriad/server"
	"github.com/myriadws/myriad/tuning"
)

// userBytesPerConn is the server's own resident memory per idle connection
// as measured with myriad-loadgen (see the README), used to judge free
// memory against the target.
const userBytesPerConn = 520

// hostChecks raises the file-descriptor limit and warns, once each, about
// host settings that cannot carry the configured connection target. With
// no --max-conns the target is what the descriptor limit allows, which the
// user never asked for: its shortfalls are logged at debug level only. It
// changes nothing but the process's own soft limit.
func hostChecks(log *zap.Logger, cfg server.Config) {
	before, after, err := tuning.RaiseNoFileLimit()
	if err != nil {
		log.Warn("could not raise the file descriptor limit", zap.Error(err))
	} else {
		log.Info("file descriptor limit", zap.Uint64("before", before), zap.Uint64("after", after))
	}
	conns := cfg.MaxConns
	if conns == 0 {
		conns = int(after) - tuning.FDHeadroom
	}
	if conns <= 0 {
		return
	}
	port := 0
	if _, p, err := net.SplitHostPort(cfg.Addr); err == nil {
		port, _ = strconv.Atoi(p)
	}
	rep, err := tuning.StartupCheck(tuning.Target{
		Conns: conns, Role: tuning.Server, Port: port, UserBytesPerConn: userBytesPerConn,
		Assumed: cfg.MaxConns == 0,
	}, os.Environ())
	if err != nil {
		log.Warn("host check failed", zap.Error(err))
		return
	}
	rep.LogShortfalls(log)
}
