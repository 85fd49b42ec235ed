package handshake

// SelectSubprotocol returns 1 + the index in supported of the first
// supported subprotocol that the client offered in values (each a
// Sec-WebSocket-Protocol header value, a comma-separated list), or 0 when
// there is none. The server's order of preference decides, so that an
// operator can roll out a new protocol version by listing it first.
// Subprotocol names are compared exactly (RFC 6455 §4.1 makes them
// case-sensitive tokens).
func SelectSubprotocol(supported []string, values [][]byte) int {
	for i, want := range supported {
		for _, v := range values {
			for len(v) > 0 {
				var item []byte
				item, v = NextItem(v)
				if string(item) == want {
					return i + 1
				}
			}
		}
	}
	return 0
}

// offered reports whether name is one of the client's protocols.
func offered(protocols []string, name []byte) bool {
	for _, p := range protocols {
		if p == string(name) {
			return true
		}
	}
	return false
}
