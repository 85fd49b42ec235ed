package broker

import (
	"errors"
	"testing"
	"time"
)

func TestServerConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  ServerConfig
		ok   bool
	}{
		{"zero value", ServerConfig{}, true},
		{"negative port", ServerConfig{Port: -1}, false},
		{"port too large", ServerConfig{Port: 70000}, false},
		{"jetstream without store", ServerConfig{JetStream: true}, false},
		{"negative payload", ServerConfig{MaxPayload: -1}, false},
		{"negative ready timeout", ServerConfig{ReadyTimeout: -time.Second}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrConfig)) {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestClientConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero value", Config{}, true},
		{"backoff upside down", Config{ReconnectMin: time.Second, ReconnectMax: time.Millisecond}, false},
		{"negative pending", Config{PendingMsgs: -1}, false},
		{"wildcard prefix", Config{TopicPrefix: "myriad.*"}, false},
		{"empty token in prefix", Config{TopicPrefix: "myriad..t"}, false},
		{"space in prefix", Config{QueryPrefix: "my riad"}, false},
		{"same prefixes", Config{TopicPrefix: "x", QueryPrefix: "x"}, false},
		{"announce prefix as topics", Config{AnnouncePrefix: DefaultTopicPrefix}, false},
		{"wildcard announce prefix", Config{AnnouncePrefix: "a.>"}, false},
		{"negative gather wait", Config{GatherWait: -1}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrConfig)) {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestJetStreamServer(t *testing.T) {
	srv := startServer(t, ServerConfig{JetStream: true, StoreDir: t.TempDir()})
	if !srv.JetStreamEnabled() {
		t.Fatal("JetStream not enabled")
	}
	c, in := connect(t, srv.URL(), Config{})
	if err := c.Interest("x"); err != nil {
		t.Fatal(err)
	}
	if err := c.Publish("x", []byte("hi"), nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "core delivery with JetStream on", func() bool { return in.len() == 1 })
}

func TestBackoffGrowsAndIsBounded(t *testing.T) {
	c := &Client{cfg: Config{ReconnectMin: 10 * time.Millisecond, ReconnectMax: 80 * time.Millisecond}}
	cases := []struct {
		attempt int
		base    time.Duration
	}{
		{1, 10 * time.Millisecond},
		{2, 20 * time.Millisecond},
		{4, 80 * time.Millisecond},
		{50, 80 * time.Millisecond},
	}
	for _, tc := range cases {
		for i := 0; i < 20; i++ {
			if d := c.backoff(tc.attempt); d < tc.base || d > tc.base+tc.base/2 {
				t.Fatalf("backoff(%d) = %v, want %v plus up to half", tc.attempt, d, tc.base)
			}
		}
	}
}
