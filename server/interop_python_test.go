package server

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"testing"
)

// pythonReport is what testdata/ws_client.py prints.
type pythonReport struct {
	Extensions string `json:"extensions"`
	Messages   []struct {
		Name     string `json:"name"`
		SentType string `json:"sent_type"`
		GotType  string `json:"got_type"`
		SentLen  int    `json:"sent_len"`
		GotLen   int    `json:"got_len"`
		Equal    bool   `json:"equal"`
	} `json:"messages"`
	Pings       []int  `json:"pings"`
	CloseCode   int    `json:"close_code"`
	CloseReason string `json:"close_reason"`
}

// TestPythonWebsockets drives the Python websockets library from Debian
// (python3-websockets) against the echo endpoint, with permessage-deflate
// offered and accepted, offered and declined, and not offered.
func TestPythonWebsockets(t *testing.T) {
	needPythonWebsockets(t)
	cases := []struct {
		name        string
		compression bool   // server Config.Compression
		client      string // the client's compression argument
		deflate     bool   // expected to be negotiated
	}{
		{"deflate", true, "deflate", true},
		{"deflate offered to a server without compression", false, "deflate", false},
		{"no compression offered", true, "none", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, Config{Compression: tc.compression, MaxMessage: 2 << 20})
			ctx, cancel := context.WithTimeout(context.Background(), 2*ioTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, systemPython, "testdata/ws_client.py", wsURL(srv, "/echo"), tc.client)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("ws_client.py: %v\n%s", err, stderr.Bytes())
			}
			var r pythonReport
			if err := json.Unmarshal(out, &r); err != nil {
				t.Fatalf("report %q: %v", out, err)
			}
			wantExt := ""
			if tc.deflate {
				wantExt = deflateResponse
			}
			if r.Extensions != wantExt {
				t.Fatalf("negotiated extensions %q, want %q", r.Extensions, wantExt)
			}
			if len(r.Messages) != 7 {
				t.Fatalf("%d messages exchanged, want 7: %s", len(r.Messages), out)
			}
			for _, m := range r.Messages {
				if !m.Equal || m.GotType != m.SentType || m.GotLen != m.SentLen {
					t.Errorf("%s: sent %s of %d, got %s of %d back (equal %v)", m.Name, m.SentType, m.SentLen, m.GotType, m.GotLen, m.Equal)
				}
			}
			if len(r.Pings) != 3 {
				t.Errorf("%d pings answered, want 3", len(r.Pings))
			}
			if r.CloseCode != 4001 {
				t.Errorf("server answered the close with %d, want 4001", r.CloseCode)
			}
			waitFor(t, "the server to drop the connection", ioTimeout, func() bool { return srv.Stats().Open == 0 })
			st := srv.Stats()
			if tc.deflate {
				// Python compresses every message; the server compresses
				// its echoes of the compressible ones.
				if st.CompressedIn < 7 || st.CompressedOut < 4 {
					t.Errorf("compressed messages in %d, out %d; want at least 7 and 4", st.CompressedIn, st.CompressedOut)
				}
			} else if st.CompressedIn != 0 || st.CompressedOut != 0 {
				t.Errorf("compressed messages in %d, out %d; want none", st.CompressedIn, st.CompressedOut)
			}
		})
	}
}
