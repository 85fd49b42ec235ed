package bench

import (
	"errors"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr bool
		is      error
	}{
		{name: "zero value is the full run", mutate: func(*Config) {}},
		{name: "quick", mutate: func(c *Config) { *c = Quick() }},
		{name: "myriad alone", mutate: func(c *Config) { c.Servers = []string{ServerMyriad} }},
		{name: "without myriad", mutate: func(c *Config) { c.Servers = []string{ServerNbio, ServerGws} }, wantErr: true, is: ErrNoMyriad},
		{name: "unknown server", mutate: func(c *Config) { c.Servers = []string{ServerMyriad, "uws"} }, wantErr: true},
		{name: "server twice", mutate: func(c *Config) { c.Servers = []string{ServerMyriad, ServerMyriad} }, wantErr: true},
		{name: "negative rounds", mutate: func(c *Config) { c.Rounds = -1 }, wantErr: true},
		{name: "conns not above dialers", mutate: func(c *Config) { c.Conns = 64 }, wantErr: true},
		{name: "negative dialers", mutate: func(c *Config) { c.DialWorkers = -3 }, wantErr: true},
		{name: "negative echo depth", mutate: func(c *Config) { c.EchoInFlight = -1 }, wantErr: true},
		{name: "echo depth too deep", mutate: func(c *Config) { c.EchoInFlight = 1025 }, wantErr: true},
		{name: "echo payload too small", mutate: func(c *Config) { c.EchoSize = 15 }, wantErr: true},
		{name: "negative settle", mutate: func(c *Config) { c.Settle = -time.Second }, wantErr: true},
		{name: "negative publish duration", mutate: func(c *Config) { c.PubDuration = -time.Second }, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			tt.mutate(&c)
			err := c.Validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate() = %v, want error %v", err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("Validate() = %v, want %v", err, tt.is)
			}
		})
	}
}

func TestLoadgenArgsSettleThenDuration(t *testing.T) {
	// The load generator waits --settle in full and holds or publishes for
	// --duration after it: the harness passes both as they are, even when
	// the settle is the longer.
	c := Config{Settle: 2 * time.Second, Hold: 100 * time.Millisecond, PubDuration: time.Second}.withDefaults()
	s := &server{ws: "127.0.0.1:1", api: "127.0.0.1:2"}
	for _, tc := range []struct {
		kind Kind
		want time.Duration
	}{{KindIdle, c.Hold}, {KindBroadcast, c.PubDuration}} {
		args := c.loadgenArgs(tc.kind, s, "r.json")
		if got := flagValue(t, args, "--settle"); got != c.Settle.String() {
			t.Errorf("%s: --settle %s, want %s", tc.kind, got, c.Settle)
		}
		if got := flagValue(t, args, "--duration"); got != tc.want.String() {
			t.Errorf("%s: --duration %s, want %s", tc.kind, got, tc.want)
		}
	}
	if got := flagValue(t, c.loadgenArgs(KindEcho, s, "r.json"), "--in-flight"); got != "1" {
		t.Errorf("echo: --in-flight %s, want 1", got)
	}
}

func flagValue(t *testing.T, args []string, name string) string {
	t.Helper()
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	t.Fatalf("no %s in %q", name, args)
	return ""
}
