package gateway

import (
	"net"
	"strings"
)

// hostAllowed reports whether the API answers a request with this Host
// header. A DNS rebinding page reaches the API under a name of its own
// that resolves to the API's address, so names are what must be checked:
// an IP literal (which no rebinding can produce) and "localhost" always
// pass, other names only when listed in Config.APIAllowedHosts. With an
// API key every name passes: a rebinding page does not have the key, and
// publishers behind a service name need no list.
func (g *Gateway) hostAllowed(hostport string) bool {
	if g.cfg.APIKey != "" {
		return true
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if host == "" {
		return false
	}
	if net.ParseIP(host) != nil || strings.EqualFold(host, "localhost") {
		return true
	}
	for _, h := range g.cfg.APIAllowedHosts {
		if h == "*" || strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

// originAllowed reports whether a browser page of origin may call the
// API (Config.APICORSOrigins; none by default).
func (g *Gateway) originAllowed(origin string) bool {
	for _, o := range g.cfg.APICORSOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}
