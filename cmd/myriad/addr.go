package main

import (
	"fmt"
	"net"
	"strconv"
)

// checkAddr reports a listen address that can never work, so the command
// says so first, with exit code 2, instead of after the start-up checks
// have logged and the API has bound its port. A port that is merely taken
// is found only when listening.
func checkAddr(flagName, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid value %q for %s: want host:port, such as :8080 or 127.0.0.1:8080 (%v)", addr, flagName, err)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		if _, lerr := net.LookupPort("tcp", port); lerr != nil {
			return fmt.Errorf("invalid value %q for %s: port %q is not a number from 0 to 65535", addr, flagName, port)
		}
	}
	if host != "" && net.ParseIP(host) == nil {
		if _, err := net.LookupHost(host); err != nil {
			return fmt.Errorf("invalid value %q for %s: host %q does not resolve (%v)", addr, flagName, host, err)
		}
	}
	return nil
}
