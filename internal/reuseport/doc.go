// Package reuseport holds the SO_REUSEPORT socket helpers that the
// reactor and the worker supervisor share: a listener that joins a port's
// SO_REUSEPORT group (Listen), a port held by a bound socket that never
// listens (Reserve: the kernel queues no connection on it), and a check
// that nothing else listens on an address (CheckFree). Linux only, like
// the reactor.
package reuseport
