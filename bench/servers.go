package bench

// serverSpec says how to start one server: its binary and its command
// line for a WebSocket address and a publish API address. Every server
// serves /echo and /ws on the first and POST /publish on the second.
type serverSpec struct {
	bin  string
	args func(ws, api string) []string
}

// spec returns the server's spec; name is one of AllServers.
func spec(name string) serverSpec {
	switch name {
	case ServerMyriad:
		return serverSpec{bin: "myriad", args: func(ws, api string) []string {
			// --memory-release=-1s: no forced return of memory to the OS,
			// so RSS is what the server keeps on its own, like the peers.
			return []string{"--addr", ws, "--api-addr", api, "--memory-release=-1s", "--log-level", "warn"}
		}}
	default:
		return serverSpec{bin: "peer-" + name, args: func(ws, api string) []string {
			return []string{"--addr", ws, "--api-addr", api}
		}}
	}
}

// binaries is every package the harness builds, as `go build` arguments
// relative to the module root, and the binary each produces.
func binaries() map[string]string {
	return map[string]string{
		"myriad":         "./cmd/myriad",
		"myriad-loadgen": "./cmd/myriad-loadgen",
		"peer-nbio":      "./bench/cmd/peer-nbio",
		"peer-gws":       "./bench/cmd/peer-gws",
		"peer-gorilla":   "./bench/cmd/peer-gorilla",
	}
}
