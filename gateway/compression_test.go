package gateway

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/server"
)

// dialDeflate upgrades a raw connection to /ws?topics=topic offering
// permessage-deflate (or not) and returns it with its reader.
func dialDeflate(t *testing.T, srv *server.Server, topic string, offer bool) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	req := "GET /ws?topics=" + topic + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	if offer {
		req += "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	}
	if _, err := conn.Write([]byte(req + "\r\n")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	if got := strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate"); got != offer {
		t.Fatalf("deflate negotiated %v, want %v", got, offer)
	}
	return conn, br
}

// TestPublishCompressed publishes 2 KB through the API to a subscriber
// that negotiated permessage-deflate and to one that did not: the first
// gets a compressed frame (RSV1) that inflates to the message, the second
// the same message uncompressed.
func TestPublishCompressed(t *testing.T) {
	srv, g := startGateway(t, server.Config{Compression: true}, Config{})
	cases := []struct {
		name       string
		offer      bool
		compressed bool
	}{
		{"deflate subscriber", true, true},
		{"plain subscriber", false, false},
	}
	type sub struct {
		br   *bufio.Reader
		want bool
	}
	var subs []sub
	for _, tc := range cases {
		_, br := dialDeflate(t, srv, "big", tc.offer)
		subs = append(subs, sub{br, tc.compressed})
	}
	waitHub(t, g, "both subscriptions", func(s HubStats) bool { return s.Subscriptions == 2 })
	text := strings.Repeat("all work and no play makes a dull frame. ", 50) // 2 KB
	body, _ := json.Marshal(map[string]any{"topic": "big", "data": map[string]string{"text": text}})
	if status, ans := apiCall(t, g, "POST", "/publish", "", string(body)); status != http.StatusOK || ans["delivered"] != 2.0 {
		t.Fatalf("publish: %d %v, want delivered 2", status, ans)
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			br := subs[i].br
			h, err := ws.ReadHeader(br)
			if err != nil {
				t.Fatal(err)
			}
			payload := make([]byte, h.Length)
			if _, err := io.ReadFull(br, payload); err != nil {
				t.Fatal(err)
			}
			if h.Rsv1() != tc.compressed || !h.Fin || h.OpCode != ws.OpText {
				t.Fatalf("frame op %v fin %v RSV1 %v, want a text frame with RSV1 %v", h.OpCode, h.Fin, h.Rsv1(), tc.compressed)
			}
			if tc.compressed {
				if len(payload) >= len(text) {
					t.Fatalf("compressed payload of %d bytes for a %d-byte message", len(payload), len(text))
				}
				payload, err = io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(payload), bytes.NewReader([]byte{0, 0, 0xff, 0xff}))))
				if err != nil && err != io.ErrUnexpectedEOF {
					t.Fatalf("inflate: %v", err)
				}
			}
			var m struct {
				Type, Topic string
				Data        map[string]string
			}
			if err := json.Unmarshal(payload, &m); err != nil || m.Type != "message" || m.Topic != "big" || m.Data["text"] != text {
				t.Fatalf("message %.80q (%v)", payload, err)
			}
		})
	}
	if st := srv.Stats(); st.CompressedOut < 1 {
		t.Fatalf("compressed_out %d, want at least 1", st.CompressedOut)
	}
}
