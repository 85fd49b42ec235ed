package loadgen

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/frame"
)

// TestServerBreakingMessageRules has a hand-written server upgrade and then
// send data the RFC forbids. The load generator must count the connection
// as dropped for a protocol error, not count a message, and tell the
// server why in its close frame.
func TestServerBreakingMessageRules(t *testing.T) {
	tests := []struct {
		name     string
		frames   func(out []byte) []byte
		wantCode ws.StatusCode
	}{
		{
			name: "invalid UTF-8 in a text message",
			frames: func(out []byte) []byte {
				return frame.AppendFrame(out, true, ws.OpText, []byte("bad \xff byte"))
			},
			wantCode: ws.StatusInvalidFramePayloadData,
		},
		{
			name: "invalid UTF-8 across fragments",
			frames: func(out []byte) []byte {
				out = frame.AppendFrame(out, false, ws.OpText, []byte("caf\xc3"))
				return frame.AppendFrame(out, true, ws.OpContinuation, []byte("("))
			},
			wantCode: ws.StatusInvalidFramePayloadData,
		},
		{
			name: "text ending inside a character",
			frames: func(out []byte) []byte {
				out = frame.AppendFrame(out, false, ws.OpText, []byte("caf"))
				return frame.AppendFrame(out, true, ws.OpContinuation, []byte("\xc3"))
			},
			wantCode: ws.StatusInvalidFramePayloadData,
		},
		{
			name: "continuation with no message",
			frames: func(out []byte) []byte {
				return frame.AppendFrame(out, true, ws.OpContinuation, []byte("orphan"))
			},
			wantCode: ws.StatusProtocolError,
		},
		{
			name: "new message inside a fragmented one",
			frames: func(out []byte) []byte {
				out = frame.AppendFrame(out, false, ws.OpBinary, []byte("first half"))
				return frame.AppendFrame(out, true, ws.OpText, []byte("interloper"))
			},
			wantCode: ws.StatusProtocolError,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			codes := make(chan ws.StatusCode, 1)
			url := startRaw(t, func(c net.Conn) {
				br := bufio.NewReader(c)
				head := readRequestHead(t, br)
				if head == nil {
					return
				}
				sum := sha1.Sum([]byte(headerValue(head, "Sec-WebSocket-Key") + websocketGUID))
				out := []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
					base64.StdEncoding.EncodeToString(sum[:]) + "\r\n\r\n")
				if _, err := c.Write(tc.frames(out)); err != nil {
					return
				}
				codes <- readCloseCode(br)
				_, _ = io.Copy(io.Discard, br)
			})
			p := testPlan("idle", 1, url)
			p.Duration = 300 * time.Millisecond
			p.CloseTimeout = 100 * time.Millisecond
			rep := runPlan(t, p)
			wantCounter(t, rep, CounterUpgraded, 1)
			wantCounter(t, rep, CounterMsgsIn, 0)
			if got := rep.Drops[CauseProtocol]; got != 1 {
				t.Errorf("protocol drops = %d, want 1 (drops %v)", got, rep.Drops)
			}
			select {
			case got := <-codes:
				if got != tc.wantCode {
					t.Errorf("close code %d, want %d", got, tc.wantCode)
				}
			case <-time.After(30 * time.Second):
				t.Error("the server received no close frame")
			}
		})
	}
}

// readCloseCode reads one masked client frame and returns its close code,
// or 0 if it is not a close frame with one.
func readCloseCode(br *bufio.Reader) ws.StatusCode {
	var hdr [2 + 4]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return 0
	}
	payload := make([]byte, int(hdr[1]&0x7f))
	if _, err := io.ReadFull(br, payload); err != nil {
		return 0
	}
	var mask [4]byte
	copy(mask[:], hdr[2:])
	frame.Unmask(payload, mask, 0)
	if hdr[0]&0x0f != byte(ws.OpClose) || len(payload) < 2 {
		return 0
	}
	return ws.StatusCode(binary.BigEndian.Uint16(payload))
}
