package server

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/frame"
)

// subprotocolRecorder reports each connection's subprotocol and
// compression from OnOpen.
type subprotocolRecorder struct {
	Echo
	opened chan [2]string
}

func (h subprotocolRecorder) OnOpen(c *Conn) {
	h.opened <- [2]string{c.Subprotocol(), fmt.Sprint(c.Compressed())}
}

// TestUpgradeNegotiation checks over the wire what the 101 response says
// about subprotocols and extensions, what the Conn reports, and which
// Origins get 403.
func TestUpgradeNegotiation(t *testing.T) {
	rec := subprotocolRecorder{opened: make(chan [2]string, 1)}
	routes := map[string]Handler{"/echo": rec}
	servers := map[string]*Server{
		"plain": startServer(t, Config{Routes: routes}),
		"full": startServer(t, Config{
			Routes:         routes,
			Compression:    true,
			Subprotocols:   []string{"v2.chat", "chat"},
			AllowedOrigins: []string{"https://example.com", "http://localhost:8080", "https://*.example.org", "http://[::1]:9000"},
		}),
		"any origin": startServer(t, Config{Routes: routes, AllowedOrigins: []string{"*"}}),
	}
	cases := []struct {
		server     string
		name       string
		headers    []string
		status     int
		protocol   string // response header and Conn.Subprotocol
		extensions string // response header
	}{
		{"plain", "deflate offered to a server without compression", []string{"Sec-WebSocket-Extensions: permessage-deflate"}, 101, "", ""},
		{"plain", "subprotocol offered to a server without any", []string{"Sec-WebSocket-Protocol: chat"}, 101, "", ""},
		{"plain", "any origin by default", []string{"Origin: http://evil.test"}, 101, "", ""},
		{"full", "deflate accepted", []string{"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"}, 101, "", deflateResponse},
		{"full", "deflate in a second header line", []string{"Sec-WebSocket-Extensions: x-foo", "Sec-WebSocket-Extensions: permessage-deflate"}, 101, "", deflateResponse},
		{"full", "deflate with server window 15", []string{"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=15"}, 101, "", deflateResponse15},
		{"full", "deflate with server window 12 declined", []string{"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12"}, 101, "", ""},
		{"full", "no extension offered", nil, 101, "", ""},
		{"full", "subprotocol by server preference", []string{"Sec-WebSocket-Protocol: chat, v2.chat"}, 101, "v2.chat", ""},
		{"full", "subprotocol from a second header line", []string{"Sec-WebSocket-Protocol: superchat", "Sec-WebSocket-Protocol: chat"}, 101, "chat", ""},
		{"full", "no common subprotocol", []string{"Sec-WebSocket-Protocol: superchat"}, 101, "", ""},
		{"full", "subprotocol and deflate", []string{"Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Extensions: permessage-deflate"}, 101, "chat", deflateResponse},
		{"full", "no Origin", nil, 101, "", ""},
		{"full", "allowed Origin", []string{"Origin: https://example.com"}, 101, "", ""},
		{"full", "allowed Origin in capitals", []string{"Origin: HTTPS://EXAMPLE.COM"}, 101, "", ""},
		{"full", "allowed Origin with its default port", []string{"Origin: https://example.com:443"}, 101, "", ""},
		{"full", "allowed Origin with a port", []string{"Origin: http://localhost:8080"}, 101, "", ""},
		{"full", "allowed IPv6 Origin", []string{"Origin: http://[::1]:9000"}, 101, "", ""},
		{"full", "subdomain wildcard", []string{"Origin: https://chat.example.org"}, 101, "", ""},
		{"full", "nested subdomain wildcard", []string{"Origin: https://a.b.example.org"}, 101, "", ""},
		{"full", "wildcard does not match the bare domain", []string{"Origin: https://example.org"}, 403, "", ""},
		{"full", "wildcard needs a dot", []string{"Origin: https://badexample.org"}, 403, "", ""},
		{"full", "other port", []string{"Origin: https://example.com:8443"}, 403, "", ""},
		{"full", "other scheme", []string{"Origin: http://example.com"}, 403, "", ""},
		{"full", "other host", []string{"Origin: https://example.com.evil.test"}, 403, "", ""},
		{"full", "missing port", []string{"Origin: http://localhost"}, 403, "", ""},
		{"full", "opaque origin", []string{"Origin: null"}, 403, "", ""},
		{"full", "two Origin headers", []string{"Origin: https://example.com", "Origin: https://example.com"}, 403, "", ""},
		{"any origin", "opaque origin allowed by the wildcard", []string{"Origin: null"}, 101, "", ""},
		{"any origin", "any origin allowed by the wildcard", []string{"Origin: https://anything.test:1"}, 101, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.server+"/"+tc.name, func(t *testing.T) {
			srv := servers[tc.server]
			c := dialRaw(t, srv)
			key := newKey(t)
			lines := []string{"GET /echo HTTP/1.1", "Host: example.test", "Upgrade: websocket", "Connection: Upgrade",
				"Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"}
			c.write([]byte(head(append(lines, tc.headers...)...)))
			if tc.status != http.StatusSwitchingProtocols {
				c.expectStatus(tc.status)
				return
			}
			resp := c.readResponse()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if got := resp.Header.Values("Sec-WebSocket-Protocol"); strings.Join(got, ",") != tc.protocol {
				t.Fatalf("Sec-WebSocket-Protocol %q, want %q", got, tc.protocol)
			}
			if got := resp.Header.Values("Sec-WebSocket-Extensions"); strings.Join(got, ",") != tc.extensions {
				t.Fatalf("Sec-WebSocket-Extensions %q, want %q", got, tc.extensions)
			}
			got := <-rec.opened
			if want := [2]string{tc.protocol, fmt.Sprint(tc.extensions != "")}; got != want {
				t.Fatalf("Conn reports subprotocol %q, compressed %s; want %q, %s", got[0], got[1], want[0], want[1])
			}
		})
	}
}

func TestConfigValidateNegotiation(t *testing.T) {
	many := make([]string, 256)
	for i := range many {
		many[i] = fmt.Sprintf("p%d", i)
	}
	cases := []struct {
		name string
		cfg  Config
		want string // substring of the error; "" means valid
	}{
		{"compression with defaults", Config{Compression: true}, ""},
		{"best compression", Config{Compression: true, CompressionLevel: flate.BestCompression}, ""},
		{"Huffman only", Config{Compression: true, CompressionLevel: flate.HuffmanOnly}, ""},
		{"level too high", Config{CompressionLevel: 10}, "compression-level"},
		{"level too low", Config{CompressionLevel: -3}, "compression-level"},
		{"negative threshold", Config{CompressionMinSize: -1}, "compression-min-size"},
		{"subprotocols", Config{Subprotocols: []string{"chat", "v2.chat", "mqtt"}}, ""},
		{"subprotocol with a space", Config{Subprotocols: []string{"my chat"}}, `subprotocol "my chat"`},
		{"subprotocol with a comma", Config{Subprotocols: []string{"a,b"}}, `subprotocol "a,b"`},
		{"empty subprotocol", Config{Subprotocols: []string{""}}, `subprotocol ""`},
		{"repeated subprotocol", Config{Subprotocols: []string{"chat", "chat"}}, "listed twice"},
		{"255 subprotocols", Config{Subprotocols: many[:255]}, ""},
		{"256 subprotocols", Config{Subprotocols: many}, "at most 255 subprotocols"},
		{"origins", Config{AllowedOrigins: []string{"*", "https://example.com", "http://localhost:8080", "https://*.example.org", "http://[::1]:80"}}, ""},
		{"origin without scheme", Config{AllowedOrigins: []string{"example.com"}}, `allowed origin "example.com"`},
		{"origin with a path", Config{AllowedOrigins: []string{"https://example.com/app"}}, "allowed origin"},
		{"origin with an empty port", Config{AllowedOrigins: []string{"https://example.com:"}}, "allowed origin"},
		{"origin with a bad port", Config{AllowedOrigins: []string{"https://example.com:https"}}, "allowed origin"},
		{"bare host wildcard", Config{AllowedOrigins: []string{"https://*"}}, "wildcard"},
		{"wildcard inside a host", Config{AllowedOrigins: []string{"https://a.*.com"}}, "wildcard"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate: %v; want an error mentioning %q", err, tc.want)
			}
		})
	}
}

// TestInflateMemoryBounded inflates a compression bomb: the codec must stop
// at the limit, having allocated about the limit, not the bomb's size.
func TestInflateMemoryBounded(t *testing.T) {
	const limit = 1 << 20
	bomb := zeroBomb(64 << 20)
	cases := []struct {
		name string
		text bool
	}{
		{"binary", false},
		{"text", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var z codec
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := z.inflate(bomb, limit, tc.text)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, frame.ErrMessageTooBig) {
				t.Fatalf("inflate: %v, want ErrMessageTooBig", err)
			}
			// The output buffer doubles from 4 KiB up to limit+1 (about
			// 3×limit allocated in all, 1.5×limit live at most), and the
			// inflater has a 32 KiB window and its tables.
			if got := after.TotalAlloc - before.TotalAlloc; got > 4*limit {
				t.Fatalf("inflating a %d-byte bomb allocated %d bytes; limit %d", len(bomb), got, limit)
			}
		})
	}
}

// zeroBomb is n zero bytes deflated as one permessage-deflate message.
func zeroBomb(n int) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	zeros := make([]byte, 64<<10)
	for ; n > 0; n -= len(zeros) {
		_, _ = w.Write(zeros[:min(n, len(zeros))])
	}
	_ = w.Flush()
	return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// TestCodecRoundTrip checks the loop's deflater against compress/flate's
// own inflater, and the inflater against the deflater, across messages:
// nothing carries over from one message to the next.
func TestCodecRoundTrip(t *testing.T) {
	for _, level := range []int{flate.HuffmanOnly, flate.DefaultCompression, flate.BestSpeed, flate.BestCompression} {
		t.Run(fmt.Sprintf("level %d", level), func(t *testing.T) {
			z := codec{level: level}
			for i, msg := range [][]byte{textPayload(100), binaryPayload(70<<10, 3), nil, bytes.Repeat([]byte("ab"), 40<<10), textPayload(100)} {
				comp := bytes.Clone(z.deflate(msg))
				if bytes.HasSuffix(comp, []byte{0, 0, 0xff, 0xff}) {
					t.Fatalf("message %d: sync-flush tail not removed", i)
				}
				got, err := z.inflate(comp, 1<<20, false)
				if err != nil {
					t.Fatalf("message %d: inflate: %v", i, err)
				}
				if !bytes.Equal(got, msg) {
					t.Fatalf("message %d: round trip gave %d bytes, want %d", i, len(got), len(msg))
				}
				ref, err := refInflate(comp)
				if err != nil || !bytes.Equal(ref, msg) {
					t.Fatalf("message %d: compress/flate reads %d bytes, %v", i, len(ref), err)
				}
			}
		})
	}
}

func refInflate(p []byte) ([]byte, error) {
	var out bytes.Buffer
	r := flate.NewReader(bytes.NewReader(append(bytes.Clone(p), 0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff)))
	_, err := out.ReadFrom(r)
	return out.Bytes(), err
}

// TestCompressedSendThreshold checks Send on a compressed connection:
// small messages and ones deflate cannot shrink go out plain.
func TestCompressedSendThreshold(t *testing.T) {
	srv := startServer(t, Config{Compression: true, CompressionMinSize: 100})
	cases := []struct {
		name       string
		op         ws.OpCode
		data       []byte
		compressed bool
	}{
		{"below the threshold", ws.OpText, []byte(strings.Repeat("a", 99)), false},
		{"at the threshold", ws.OpText, []byte(strings.Repeat("a", 100)), true},
		{"incompressible", ws.OpBinary, binaryPayload(1000, 4), false},
		{"large text", ws.OpText, textPayload(200 << 10), true},
	}
	c := upgradeConf(t, srv, true)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.write(mf(true, tc.op, tc.data))
			h, p := readConfFrame(t, c, true)
			if h.OpCode != tc.op || h.Rsv1() != tc.compressed || !bytes.Equal(p, tc.data) {
				t.Fatalf("op %v compressed %v %d bytes; want op %v compressed %v %d bytes", h.OpCode, h.Rsv1(), len(p), tc.op, tc.compressed, len(tc.data))
			}
		})
	}
}
