package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/myriadws/myriad/internal/history"
)

// TestHistoryOptions maps the history flags onto history.Config: 0 means
// no bound for size and age, and no history at all for memory.
func TestHistoryOptions(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want history.Config
		on   bool
	}{
		{"defaults", nil, nil, history.Config{Size: history.DefaultSize, TTL: history.DefaultTTL, Memory: history.DefaultMemory}, true},
		{"no bounds", []string{"--history-size", "0", "--history-ttl", "0"}, nil, history.Config{Size: -1, TTL: -1, Memory: history.DefaultMemory}, true},
		{"from the environment", nil, map[string]string{"MYRIAD_HISTORY_MEMORY": "1MiB", "MYRIAD_HISTORY_SIZE": "7"},
			history.Config{Size: 7, TTL: history.DefaultTTL, Memory: 1 << 20}, true},
		{"off", []string{"--history-memory", "0"}, nil, history.Config{Size: history.DefaultSize, TTL: history.DefaultTTL}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			o, err := parseOptions(tc.args, envFrom(tc.env), &stderr)
			if err != nil {
				t.Fatalf("parseOptions: %v (%s)", err, stderr.String())
			}
			if got := o.hist.config(); got != tc.want || o.hist.on() != tc.on {
				t.Fatalf("config %+v on %v, want %+v on %v", got, o.hist.on(), tc.want, tc.on)
			}
		})
	}
	for _, args := range [][]string{
		{"--history-size", "-1"}, {"--history-ttl", "-1s"}, {"--history-memory", "-5"}, {"--poll-timeout", "-1s"}, {"--poll-timeout", "1h"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			if o, err := parseOptions(args, envFrom(nil), &stderr); err == nil {
				if _, _, err = o.gw.build(); err == nil {
					t.Fatalf("%v accepted", args)
				}
			}
		})
	}
}

// TestHistoryOff runs the command with --history-memory 0: messages carry
// no position and /history says history is off.
func TestHistoryOff(t *testing.T) {
	n := startCommand(t, nil, "--history-memory", "0", "--poll-timeout", "200ms")
	if status, body := n.get(t, "/history?topic=a", ""); status != http.StatusNotFound || !strings.Contains(body, "history is off") {
		t.Fatalf("/history: %d %s", status, body)
	}
	resp, err := (&http.Client{Timeout: ioWait}).Get("http://" + n.addr + "/poll?topics=a")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK || body.String() != "{\"messages\":[],\"next\":{}}\n" {
		t.Fatalf("poll: %d %q", resp.StatusCode, body.String())
	}
}
