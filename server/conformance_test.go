package server

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/gobwas/ws"

	"github.com/myriadws/myriad/frame"
)

// The conformance table: hostile and edge-case byte sequences written to a
// raw socket, each with exactly what must come back, in the spirit of the
// Autobahn TestSuite (sections 1-7 on RFC 6455, 9 on limits, 12 and 13 on
// permessage-deflate). Every case runs on a fresh connection twice: written
// in one piece, and cut into small writes so that headers, payloads and
// UTF-8 sequences arrive split.

// confMaxMessage is the MaxMessage of the conformance servers: small, so
// the limit cases stay small too.
const confMaxMessage = 64 << 10

// wantFrame is one frame the server must send.
type wantFrame struct {
	op         ws.OpCode
	payload    []byte // inflated when compressed
	compressed bool   // RSV1 must be set (false: must be clear)
}

type confCase struct {
	name    string
	deflate bool     // offer permessage-deflate in the upgrade
	wire    [][]byte // written in order
	want    []wantFrame
	// code is the close code the server must finally send, then close
	// the TCP connection with nothing more. 0 means the case leaves the
	// connection open: the test then sends Close 1000 and expects it back,
	// which also proves nothing unexpected was sent in between.
	code ws.StatusCode
}

// Client frame builders. The mask is fixed and nonzero so that an
// unmasking bug changes the bytes.
var confMask = [4]byte{0xa5, 0x3c, 0x0f, 0x71}

// mf is a masked client frame.
func mf(fin bool, op ws.OpCode, p []byte) []byte {
	return frame.AppendMaskedFrame(nil, fin, op, confMask, p)
}

// mfRsv is a masked client frame with reserved bits (ws.Rsv form).
func mfRsv(fin bool, rsv byte, op ws.OpCode, p []byte) []byte {
	h := ws.Header{Fin: fin, Rsv: rsv, OpCode: op, Masked: true, Mask: confMask, Length: int64(len(p))}
	b := frame.AppendHeader(nil, h)
	start := len(b)
	b = append(b, p...)
	frame.Unmask(b[start:], confMask, 0)
	return b
}

// mfz is a masked, compressed (RSV1) first frame.
func mfz(fin bool, op ws.OpCode, p []byte) []byte {
	return mfRsv(fin, ws.Rsv(true, false, false), op, p)
}

// maskedHeaderOnly is the header of a masked frame whose payload is not
// sent (or sent later by hand): for limit and fail-fast cases.
func maskedHeaderOnly(fin bool, rsv byte, op ws.OpCode, length int64) []byte {
	return frame.AppendHeader(nil, ws.Header{Fin: fin, Rsv: rsv, OpCode: op, Masked: true, Mask: confMask, Length: length})
}

// maskedPart masks p as the payload bytes at offset of a frame.
func maskedPart(p []byte, offset int) []byte {
	b := bytes.Clone(p)
	frame.Unmask(b, confMask, offset)
	return b
}

// deflated compresses p as RFC 7692 §7.2.1 says: a sync flush with the
// trailing 00 00 ff ff removed. It uses compress/flate directly, not the
// server's codec.
func deflated(p []byte) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	_, _ = w.Write(p)
	_ = w.Flush()
	return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// deflatedFinal compresses p ending with a final block (BFINAL set), which
// RFC 7692 §7.2.3.4 allows a sender to use.
func deflatedFinal(p []byte) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	_, _ = w.Write(p)
	_ = w.Close()
	return b.Bytes()
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func echo(op ws.OpCode, p []byte) wantFrame { return wantFrame{op: op, payload: p} }
func echoz(op ws.OpCode, p []byte) wantFrame {
	return wantFrame{op: op, payload: p, compressed: true}
}
func pong(p []byte) wantFrame { return wantFrame{op: ws.OpPong, payload: p} }

func one(b ...[]byte) [][]byte { return [][]byte{cat(b...)} }

// fragments cuts p into n-byte fragments of a message of type op.
func fragments(op ws.OpCode, p []byte, n int) []byte {
	var b []byte
	for i := 0; i == 0 || i < len(p); i += n {
		end := min(i+n, len(p))
		o := ws.OpContinuation
		if i == 0 {
			o = op
		}
		b = append(b, mf(end == len(p), o, p[i:end])...)
	}
	return b
}

func confCases() []confCase {
	hello := []byte("Hello, world")
	utf8Text := []byte("Hello-µ@ßöäüàá-UTF-8!!")
	long := []byte(strings.Repeat("*", 125))
	var cases []confCase
	add := func(cs ...confCase) { cases = append(cases, cs...) }

	// 1. Framing: every length encoding, text and binary.
	for _, n := range []int{0, 1, 125, 126, 127, 128, 65535, 65536} {
		if n > confMaxMessage {
			continue
		}
		t := textPayload(n)
		b := binaryPayload(n, uint64(n))
		add(confCase{name: fmt.Sprintf("1 text length %d", n), wire: one(mf(true, ws.OpText, t)), want: []wantFrame{echo(ws.OpText, t)}})
		add(confCase{name: fmt.Sprintf("1 binary length %d", n), wire: one(mf(true, ws.OpBinary, b)), want: []wantFrame{echo(ws.OpBinary, b)}})
	}
	add(confCase{name: "1 text and binary back to back", wire: one(mf(true, ws.OpText, hello), mf(true, ws.OpBinary, []byte{0, 1, 2})),
		want: []wantFrame{echo(ws.OpText, hello), echo(ws.OpBinary, []byte{0, 1, 2})}})

	// 2. Pings and pongs.
	add(
		confCase{name: "2 ping without payload", wire: one(mf(true, ws.OpPing, nil)), want: []wantFrame{pong(nil)}},
		confCase{name: "2 ping with text payload", wire: one(mf(true, ws.OpPing, hello)), want: []wantFrame{pong(hello)}},
		confCase{name: "2 ping with binary payload", wire: one(mf(true, ws.OpPing, []byte{0, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0})), want: []wantFrame{pong([]byte{0, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0})}},
		confCase{name: "2 ping with 125-byte payload", wire: one(mf(true, ws.OpPing, long)), want: []wantFrame{pong(long)}},
		confCase{name: "2 ping with 126-byte payload", wire: one(mf(true, ws.OpPing, append(long, '*'))), code: ws.StatusProtocolError},
		confCase{name: "2 unsolicited pong is ignored", wire: one(mf(true, ws.OpPong, nil))},
		confCase{name: "2 unsolicited pong with payload is ignored", wire: one(mf(true, ws.OpPong, []byte("unsolicited")))},
		confCase{name: "2 unsolicited pong then ping", wire: one(mf(true, ws.OpPong, []byte("x")), mf(true, ws.OpPing, []byte("y"))), want: []wantFrame{pong([]byte("y"))}},
		confCase{name: "2 ten pings", wire: one(bytes.Repeat(mf(true, ws.OpPing, []byte("p")), 10)), want: repeatFrame(pong([]byte("p")), 10)},
	)

	// 3. Reserved bits, with no extension negotiated.
	for _, rc := range []struct {
		name string
		rsv  byte
	}{
		{"RSV1", ws.Rsv(true, false, false)},
		{"RSV2", ws.Rsv(false, true, false)},
		{"RSV3", ws.Rsv(false, false, true)},
		{"RSV1+RSV2+RSV3", ws.Rsv(true, true, true)},
	} {
		add(confCase{name: "3 " + rc.name + " on text", wire: one(mfRsv(true, rc.rsv, ws.OpText, hello)), code: ws.StatusProtocolError})
		add(confCase{name: "3 " + rc.name + " on ping", wire: one(mfRsv(true, rc.rsv, ws.OpPing, hello)), code: ws.StatusProtocolError})
	}
	add(
		confCase{name: "3 RSV2 after a valid message", wire: one(mf(true, ws.OpText, hello), mfRsv(true, ws.Rsv(false, true, false), ws.OpText, hello)),
			want: []wantFrame{echo(ws.OpText, hello)}, code: ws.StatusProtocolError},
		confCase{name: "3 RSV3 on binary, then a ping that gets no pong", wire: one(mfRsv(true, ws.Rsv(false, false, true), ws.OpBinary, hello), mf(true, ws.OpPing, nil)),
			code: ws.StatusProtocolError},
	)

	// 4. Opcodes.
	for _, op := range []ws.OpCode{3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf} {
		add(confCase{name: fmt.Sprintf("4 reserved opcode %d", op), wire: one(mf(true, op, nil)), code: ws.StatusProtocolError})
		add(confCase{name: fmt.Sprintf("4 reserved opcode %d with payload after a message", op), wire: one(mf(true, ws.OpText, hello), mf(true, op, hello)),
			want: []wantFrame{echo(ws.OpText, hello)}, code: ws.StatusProtocolError})
	}

	// 5. Fragmentation.
	add(
		confCase{name: "5 fragmented ping", wire: one(mf(false, ws.OpPing, []byte("frag")), mf(true, ws.OpContinuation, []byte("ment"))), code: ws.StatusProtocolError},
		confCase{name: "5 fragmented pong", wire: one(mf(false, ws.OpPong, []byte("frag")), mf(true, ws.OpContinuation, []byte("ment"))), code: ws.StatusProtocolError},
		confCase{name: "5 text in two fragments", wire: one(mf(false, ws.OpText, []byte("frag")), mf(true, ws.OpContinuation, []byte("ment"))),
			want: []wantFrame{echo(ws.OpText, []byte("fragment"))}},
		confCase{name: "5 binary in three fragments, one empty", wire: one(mf(false, ws.OpBinary, []byte{1}), mf(false, ws.OpContinuation, nil), mf(true, ws.OpContinuation, []byte{2})),
			want: []wantFrame{echo(ws.OpBinary, []byte{1, 2})}},
		confCase{name: "5 ping between fragments", wire: one(mf(false, ws.OpText, []byte("frag")), mf(true, ws.OpPing, []byte("between")), mf(true, ws.OpContinuation, []byte("ment"))),
			want: []wantFrame{pong([]byte("between")), echo(ws.OpText, []byte("fragment"))}},
		confCase{name: "5 pong between fragments", wire: one(mf(false, ws.OpText, []byte("frag")), mf(true, ws.OpPong, []byte("between")), mf(true, ws.OpContinuation, []byte("ment"))),
			want: []wantFrame{echo(ws.OpText, []byte("fragment"))}},
		confCase{name: "5 pings between every fragment", wire: one(
			mf(false, ws.OpText, []byte("a")), mf(true, ws.OpPing, []byte("1")),
			mf(false, ws.OpContinuation, []byte("b")), mf(true, ws.OpPing, []byte("2")),
			mf(true, ws.OpContinuation, []byte("c"))),
			want: []wantFrame{pong([]byte("1")), pong([]byte("2")), echo(ws.OpText, []byte("abc"))}},
		confCase{name: "5 continuation with FIN and no message", wire: one(mf(true, ws.OpContinuation, hello)), code: ws.StatusProtocolError},
		confCase{name: "5 continuation without FIN and no message", wire: one(mf(false, ws.OpContinuation, hello)), code: ws.StatusProtocolError},
		confCase{name: "5 continuation after a complete message", wire: one(mf(false, ws.OpText, []byte("a")), mf(true, ws.OpContinuation, []byte("b")), mf(true, ws.OpContinuation, []byte("c"))),
			want: []wantFrame{echo(ws.OpText, []byte("ab"))}, code: ws.StatusProtocolError},
		confCase{name: "5 text frame inside a fragmented message", wire: one(mf(false, ws.OpText, []byte("a")), mf(false, ws.OpText, []byte("b"))), code: ws.StatusProtocolError},
		confCase{name: "5 binary frame inside a fragmented text", wire: one(mf(false, ws.OpText, []byte("a")), mf(true, ws.OpBinary, []byte("b"))), code: ws.StatusProtocolError},
		confCase{name: "5 1000 one-byte fragments", wire: one(fragments(ws.OpText, textPayload(1000), 1)), want: []wantFrame{echo(ws.OpText, textPayload(1000))}},
		confCase{name: "5 empty fragments around one byte", wire: one(mf(false, ws.OpBinary, nil), bytes.Repeat(mf(false, ws.OpContinuation, nil), 998), mf(true, ws.OpContinuation, []byte{7})),
			want: []wantFrame{echo(ws.OpBinary, []byte{7})}},
	)

	// 6. UTF-8 in text messages.
	add(
		confCase{name: "6 empty text", wire: one(mf(true, ws.OpText, nil)), want: []wantFrame{echo(ws.OpText, nil)}},
		confCase{name: "6 empty text in three empty fragments", wire: one(mf(false, ws.OpText, nil), mf(false, ws.OpContinuation, nil), mf(true, ws.OpContinuation, nil)),
			want: []wantFrame{echo(ws.OpText, nil)}},
		confCase{name: "6 valid UTF-8", wire: one(mf(true, ws.OpText, utf8Text)), want: []wantFrame{echo(ws.OpText, utf8Text)}},
		confCase{name: "6 valid UTF-8 split at every byte into fragments", wire: one(fragments(ws.OpText, utf8Text, 1)), want: []wantFrame{echo(ws.OpText, utf8Text)}},
		confCase{name: "6 four-byte runes split across fragments", wire: one(fragments(ws.OpText, []byte("𝄞😀\U0010ffff"), 3)), want: []wantFrame{echo(ws.OpText, []byte("𝄞😀\U0010ffff"))}},
		confCase{name: "6 boundary code points", wire: one(mf(true, ws.OpText, []byte("\u0000\u007f\u0080\u07ff\u0800\ud7ff\ue000\ufffd\uffff\U00010000\U0010ffff"))),
			want: []wantFrame{echo(ws.OpText, []byte("\u0000\u007f\u0080\u07ff\u0800\ud7ff\ue000\ufffd\uffff\U00010000\U0010ffff"))}},
	)
	for _, bad := range []struct {
		name string
		text string
	}{
		{"lone continuation byte", "ab\x80cd"},
		{"overlong slash", "\xc0\xaf"},
		{"overlong three-byte", "\xe0\x80\xaf"},
		{"overlong four-byte", "\xf0\x80\x80\xaf"},
		{"surrogate", "\xed\xa0\x80"},
		{"surrogate pair", "\xed\xa0\x80\xed\xb0\x80"},
		{"above U+10FFFF", "\xf4\x90\x80\x80"},
		{"byte FE", "\xfe"},
		{"byte FF", "\xff"},
		{"five-byte form", "\xf8\x88\x80\x80\x80"},
		{"truncated at the end", "κόσμε\xce"},
		{"missing continuation", "\xe2\x82x"},
	} {
		add(confCase{name: "6 invalid: " + bad.name, wire: one(mf(true, ws.OpText, []byte(bad.text))), code: ws.StatusInvalidFramePayloadData})
		add(confCase{name: "6 invalid in fragments: " + bad.name, wire: one(fragments(ws.OpText, []byte("ok"+bad.text), 1)), code: ws.StatusInvalidFramePayloadData})
	}
	add(
		confCase{name: "6 invalid sequence split between frames", wire: one(mf(false, ws.OpText, []byte("ok\xce")), mf(true, ws.OpContinuation, []byte("\x20ok"))), code: ws.StatusInvalidFramePayloadData},
		confCase{name: "6 valid sequence split between frames", wire: one(mf(false, ws.OpText, []byte("ok\xce")), mf(true, ws.OpContinuation, []byte("\xbaok"))),
			want: []wantFrame{echo(ws.OpText, []byte("okκok"))}},
		// Fail fast: the rest of the message is never sent, so the server
		// must answer from the first invalid byte alone.
		confCase{name: "6 fail fast inside a frame", wire: [][]byte{cat(maskedHeaderOnly(true, 0, ws.OpText, 1000), maskedPart([]byte("abc\xff"), 0))},
			code: ws.StatusInvalidFramePayloadData},
		confCase{name: "6 fail fast on a sequence split between frames", wire: [][]byte{cat(mf(false, ws.OpText, []byte("ok\xf4")), maskedHeaderOnly(true, 0, ws.OpContinuation, 1000), maskedPart([]byte("\x90"), 0))},
			code: ws.StatusInvalidFramePayloadData},
		confCase{name: "6 fail fast in a fragment before the final one", wire: [][]byte{cat(mf(false, ws.OpText, []byte("ok")), mf(false, ws.OpContinuation, []byte("\xc0")), maskedHeaderOnly(true, 0, ws.OpContinuation, 1000))},
			code: ws.StatusInvalidFramePayloadData},
		confCase{name: "6 binary is not checked", wire: one(mf(true, ws.OpBinary, []byte("\xff\xfe\xc0"))), want: []wantFrame{echo(ws.OpBinary, []byte("\xff\xfe\xc0"))}},
	)

	// 7. Closing.
	add(
		confCase{name: "7 message then close", wire: one(mf(true, ws.OpText, hello), mf(true, ws.OpClose, closeBody(1000, ""))), want: []wantFrame{echo(ws.OpText, hello)}, code: 1000},
		confCase{name: "7 close twice", wire: one(mf(true, ws.OpClose, closeBody(1000, "")), mf(true, ws.OpClose, closeBody(1000, ""))), code: 1000},
		confCase{name: "7 ping after close gets no pong", wire: one(mf(true, ws.OpClose, closeBody(1000, "")), mf(true, ws.OpPing, hello)), code: 1000},
		confCase{name: "7 text after close is not echoed", wire: one(mf(true, ws.OpClose, closeBody(1000, "")), mf(true, ws.OpText, hello)), code: 1000},
		confCase{name: "7 close between fragments", wire: one(mf(false, ws.OpText, []byte("frag")), mf(true, ws.OpClose, closeBody(1000, "")), mf(true, ws.OpContinuation, []byte("ment"))), code: 1000},
		confCase{name: "7 empty close", wire: one(mf(true, ws.OpClose, nil)), code: ws.StatusNoStatusRcvd},
		confCase{name: "7 close with one byte", wire: one(mf(true, ws.OpClose, []byte{0x03})), code: ws.StatusProtocolError},
		confCase{name: "7 close with reason", wire: one(mf(true, ws.OpClose, closeBody(1000, "Hello World!"))), code: 1000},
		confCase{name: "7 close with 123-byte reason", wire: one(mf(true, ws.OpClose, closeBody(1000, strings.Repeat("*", 123)))), code: 1000},
		confCase{name: "7 close with 124-byte reason", wire: one(mf(true, ws.OpClose, closeBody(1000, strings.Repeat("*", 124)))), code: ws.StatusProtocolError},
		confCase{name: "7 close reason not UTF-8", wire: one(mf(true, ws.OpClose, closeBody(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"))), code: ws.StatusInvalidFramePayloadData},
		confCase{name: "7 close reason valid UTF-8", wire: one(mf(true, ws.OpClose, closeBody(1001, "κόσμε"))), code: 1001},
		confCase{name: "7 fragmented close", wire: one(mf(false, ws.OpClose, closeBody(1000, "")), mf(true, ws.OpContinuation, nil)), code: ws.StatusProtocolError},
	)
	for _, code := range []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999} {
		add(confCase{name: fmt.Sprintf("7 valid close code %d is echoed", code), wire: one(mf(true, ws.OpClose, closeBody(code, "x"))), code: ws.StatusCode(code)})
	}
	for _, code := range []uint16{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		add(confCase{name: fmt.Sprintf("7 invalid close code %d", code), wire: one(mf(true, ws.OpClose, closeBody(code, ""))), code: ws.StatusProtocolError})
	}

	// 9. Limits and lengths.
	add(
		confCase{name: "9 text of exactly MaxMessage", wire: one(mf(true, ws.OpText, textPayload(confMaxMessage))), want: []wantFrame{echo(ws.OpText, textPayload(confMaxMessage))}},
		confCase{name: "9 binary of exactly MaxMessage in 64 fragments", wire: one(fragments(ws.OpBinary, binaryPayload(confMaxMessage, 9), confMaxMessage/64)),
			want: []wantFrame{echo(ws.OpBinary, binaryPayload(confMaxMessage, 9))}},
		confCase{name: "9 one byte over MaxMessage", wire: one(mf(true, ws.OpBinary, make([]byte, confMaxMessage+1))), code: ws.StatusMessageTooBig},
		confCase{name: "9 declared length over MaxMessage, no payload sent", wire: [][]byte{maskedHeaderOnly(true, 0, ws.OpBinary, 1<<40)}, code: ws.StatusMessageTooBig},
		confCase{name: "9 fragments adding up past MaxMessage", wire: [][]byte{cat(mf(false, ws.OpText, textPayload(confMaxMessage-10)), maskedHeaderOnly(true, 0, ws.OpContinuation, 11))}, code: ws.StatusMessageTooBig},
		confCase{name: "9 64-bit length with the top bit set", wire: [][]byte{rawHeader(0x82, true, 1<<63|5)}, code: ws.StatusProtocolError},
		confCase{name: "9 16-bit length for 125 bytes", wire: [][]byte{{0x82, 0x80 | 126, 0, 125, 1, 2, 3, 4}}, code: ws.StatusProtocolError},
		confCase{name: "9 64-bit length for 65535 bytes", wire: [][]byte{{0x82, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4}}, code: ws.StatusProtocolError},
		confCase{name: "9 unmasked text", wire: one(frame.AppendFrame(nil, true, ws.OpText, hello)), code: ws.StatusProtocolError},
		confCase{name: "9 unmasked close", wire: one(frame.AppendFrame(nil, true, ws.OpClose, closeBody(1000, ""))), code: ws.StatusProtocolError},
		confCase{name: "9 unmasked continuation inside a message", wire: one(mf(false, ws.OpText, []byte("a")), frame.AppendFrame(nil, true, ws.OpContinuation, []byte("b"))), code: ws.StatusProtocolError},
	)

	// 12 and 13. permessage-deflate.
	zText := textPayload(20 << 10)
	zBin := bytes.Repeat([]byte("0123456789abcdef"), 1024)
	bomb := deflated(make([]byte, 16*confMaxMessage))
	halves := deflated(zText)
	cut := len(halves) / 2
	add(
		confCase{name: "12 compressed text", deflate: true, wire: one(mfz(true, ws.OpText, deflated(zText))), want: []wantFrame{echoz(ws.OpText, zText)}},
		confCase{name: "12 compressed binary", deflate: true, wire: one(mfz(true, ws.OpBinary, deflated(zBin))), want: []wantFrame{echoz(ws.OpBinary, zBin)}},
		confCase{name: "12 compressed, ending in a final block", deflate: true, wire: one(mfz(true, ws.OpText, deflatedFinal(zText))), want: []wantFrame{echoz(ws.OpText, zText)}},
		confCase{name: "12 compressed empty message", deflate: true, wire: one(mfz(true, ws.OpText, deflated(nil))), want: []wantFrame{echo(ws.OpText, nil)}},
		confCase{name: "12 three compressed messages, each on its own", deflate: true,
			wire: one(mfz(true, ws.OpText, deflated(zText)), mfz(true, ws.OpText, deflated(zText)), mfz(true, ws.OpBinary, deflated(zBin))),
			want: []wantFrame{echoz(ws.OpText, zText), echoz(ws.OpText, zText), echoz(ws.OpBinary, zBin)}},
		confCase{name: "12 compressed in fragments, RSV1 on the first only", deflate: true,
			wire: one(mfz(false, ws.OpText, halves[:cut]), mf(true, ws.OpContinuation, halves[cut:])), want: []wantFrame{echoz(ws.OpText, zText)}},
		confCase{name: "12 compressed in one-byte fragments with pings between", deflate: true,
			wire: one(mfz(false, ws.OpText, halves[:1]), mf(true, ws.OpPing, []byte("p")), fragmentsCont(halves[1:], 1)),
			want: []wantFrame{pong([]byte("p")), echoz(ws.OpText, zText)}},
		confCase{name: "12 uncompressed message on a compressed connection", deflate: true, wire: one(mf(true, ws.OpText, zText)), want: []wantFrame{echoz(ws.OpText, zText)}},
		confCase{name: "12 small message is sent back uncompressed", deflate: true, wire: one(mfz(true, ws.OpText, deflated(hello))), want: []wantFrame{echo(ws.OpText, hello)}},
		confCase{name: "12 incompressible message is sent back uncompressed", deflate: true, wire: one(mfz(true, ws.OpBinary, deflated(binaryPayload(4096, 5)))), want: []wantFrame{echo(ws.OpBinary, binaryPayload(4096, 5))}},
		confCase{name: "12 ping and close stay uncompressed", deflate: true, wire: one(mf(true, ws.OpPing, hello), mf(true, ws.OpClose, closeBody(4000, ""))), want: []wantFrame{pong(hello)}, code: 4000},
		confCase{name: "12 inflated size of exactly MaxMessage", deflate: true, wire: one(mfz(true, ws.OpText, deflated(textPayload(confMaxMessage)))), want: []wantFrame{echoz(ws.OpText, textPayload(confMaxMessage))}},

		confCase{name: "13 RSV1 on a continuation frame", deflate: true, wire: one(mfz(false, ws.OpText, halves[:cut]), mfz(true, ws.OpContinuation, halves[cut:])), code: ws.StatusProtocolError},
		confCase{name: "13 RSV1 on a ping", deflate: true, wire: one(mfz(true, ws.OpPing, nil)), code: ws.StatusProtocolError},
		confCase{name: "13 RSV1 on a close", deflate: true, wire: one(mfz(true, ws.OpClose, closeBody(1000, ""))), code: ws.StatusProtocolError},
		confCase{name: "13 RSV2 with deflate negotiated", deflate: true, wire: one(mfRsv(true, ws.Rsv(false, true, false), ws.OpText, hello)), code: ws.StatusProtocolError},
		confCase{name: "13 RSV1 without deflate negotiated", wire: one(mfz(true, ws.OpText, deflated(hello))), code: ws.StatusProtocolError},
		confCase{name: "13 compression bomb", deflate: true, wire: one(mfz(true, ws.OpBinary, bomb)), code: ws.StatusMessageTooBig},
		confCase{name: "13 inflated size one byte over MaxMessage", deflate: true, wire: one(mfz(true, ws.OpText, deflated(textPayload(confMaxMessage+1)))), code: ws.StatusMessageTooBig},
		confCase{name: "13 compressed invalid UTF-8", deflate: true, wire: one(mfz(true, ws.OpText, deflated([]byte("valid, then \xed\xa0\x80")))), code: ws.StatusInvalidFramePayloadData},
		confCase{name: "13 compressed text ending mid-rune", deflate: true, wire: one(mfz(true, ws.OpText, deflated([]byte("κόσμε\xce")))), code: ws.StatusInvalidFramePayloadData},
		confCase{name: "13 compressed invalid UTF-8 across fragments", deflate: true,
			wire: one(fragmentsZ(ws.OpText, deflated(append(textPayload(5000), "\xf4\x90\x80\x80"...)), 97)), code: ws.StatusInvalidFramePayloadData},
		confCase{name: "13 compressed binary is not checked for UTF-8", deflate: true, wire: one(mfz(true, ws.OpBinary, deflated([]byte("\xff\xfe")))), want: []wantFrame{echo(ws.OpBinary, []byte("\xff\xfe"))}},
		confCase{name: "13 stored block with a bad length check", deflate: true, wire: one(mfz(true, ws.OpBinary, []byte{0x00, 0x05, 0x00, 0x00, 0x00, 'a'})), code: ws.StatusInvalidFramePayloadData},
		// RFC 7692 §7.2.1 has the sender remove the trailing 00 00 ff ff;
		// the receiver's appended copy then no longer parses.
		confCase{name: "13 sync-flush tail not removed by the sender", deflate: true, wire: one(mfz(true, ws.OpText, append(deflated(zText), 0, 0, 0xff, 0xff))), code: ws.StatusInvalidFramePayloadData},
		// An empty message compresses to at least one byte (§7.2.3.6).
		confCase{name: "13 compressed message with no payload", deflate: true, wire: one(mfz(true, ws.OpBinary, nil)), code: ws.StatusInvalidFramePayloadData},
		confCase{name: "13 DEFLATE block of reserved type", deflate: true, wire: one(mfz(true, ws.OpBinary, []byte{0x07, 0x00})), code: ws.StatusInvalidFramePayloadData},
		confCase{name: "13 declared compressed length far over MaxMessage", deflate: true, wire: [][]byte{maskedHeaderOnly(true, ws.Rsv(true, false, false), ws.OpBinary, 1<<30)}, code: ws.StatusMessageTooBig},
	)
	return cases
}

// fragmentsCont is continuation frames of n bytes each, the last final.
func fragmentsCont(p []byte, n int) []byte {
	var b []byte
	for i := 0; i < len(p); i += n {
		end := min(i+n, len(p))
		b = append(b, mf(end == len(p), ws.OpContinuation, p[i:end])...)
	}
	return b
}

// fragmentsZ is a compressed message: RSV1 on the first frame only.
func fragmentsZ(op ws.OpCode, z []byte, n int) []byte {
	n = min(n, len(z))
	return cat(mfz(n == len(z), op, z[:n]), fragmentsCont(z[n:], 97))
}

func repeatFrame(f wantFrame, n int) []wantFrame {
	fs := make([]wantFrame, n)
	for i := range fs {
		fs[i] = f
	}
	return fs
}

// TestConformance runs the table.
func TestConformance(t *testing.T) {
	plain := startServer(t, Config{MaxMessage: confMaxMessage})
	compressed := startServer(t, Config{MaxMessage: confMaxMessage, Compression: true, CompressionMinSize: 64})
	writes := []struct {
		name  string
		split func([]byte) [][]byte
	}{
		{"whole", func(b []byte) [][]byte { return [][]byte{b} }},
		{"split", splitWire},
	}
	for _, tc := range confCases() {
		for _, w := range writes {
			t.Run(tc.name+"/"+w.name, func(t *testing.T) {
				srv := plain
				if tc.deflate {
					srv = compressed
				}
				c := upgradeConf(t, srv, tc.deflate)
				var parts [][]byte
				for _, p := range tc.wire {
					parts = append(parts, w.split(p)...)
				}
				code := tc.code
				if code == 0 {
					parts = append(parts, mf(true, ws.OpClose, closeBody(1000, "")))
					code = 1000
				}
				for _, p := range parts {
					if _, err := c.conn.Write(p); err != nil {
						// The server may close while the rest is in flight.
						if !isConnReset(err) {
							t.Fatalf("write: %v", err)
						}
						break
					}
				}
				for i, want := range tc.want {
					h, p := readConfFrame(t, c, tc.deflate)
					if h.OpCode != want.op || h.Rsv1() != want.compressed || !bytes.Equal(p, want.payload) {
						t.Fatalf("frame %d: op %v, compressed %v, %d bytes %q; want op %v, compressed %v, %d bytes %q",
							i, h.OpCode, h.Rsv1(), len(p), truncate(p), want.op, want.compressed, len(want.payload), truncate(want.payload))
					}
				}
				h, p := readConfFrame(t, c, tc.deflate)
				if h.OpCode != ws.OpClose {
					t.Fatalf("got op %v %q, want a close frame with code %d", h.OpCode, truncate(p), code)
				}
				got, _, err := frame.ParseClose(p)
				if err != nil {
					t.Fatalf("close payload % x: %v", p, err)
				}
				if got != code {
					t.Fatalf("close code %d (%q), want %d", got, p[min(2, len(p)):], code)
				}
				// After its close frame the server sends nothing more and
				// closes the TCP connection.
				expectConnEnd(t, c)
			})
		}
	}
}

// splitWire cuts b into small writes: bytewise for short input, otherwise
// in pieces of 1021 bytes after a bytewise start, so that every header
// and UTF-8 sequence of the short cases arrives split.
func splitWire(b []byte) [][]byte {
	var parts [][]byte
	for i := 0; i < len(b); {
		n := 1
		if len(b) > 4096 && i >= 64 {
			n = 1021
		}
		n = min(n, len(b)-i)
		parts = append(parts, b[i:i+n])
		i += n
	}
	return parts
}

// upgradeConf opens a connection, offering permessage-deflate if asked,
// and checks that the server accepted exactly what was offered.
func upgradeConf(t *testing.T, srv *Server, deflate bool) *rawClient {
	t.Helper()
	c := dialRaw(t, srv)
	key := newKey(t)
	req := upgradeRequest("/echo", key)
	if deflate {
		req = strings.Replace(req, "\r\n\r\n", "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n", 1)
	}
	c.write([]byte(req))
	resp := c.readResponse()
	if resp.StatusCode != 101 {
		t.Fatalf("upgrade: status %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != acceptFor(key) {
		t.Fatalf("Sec-WebSocket-Accept %q", got)
	}
	want := ""
	if deflate {
		want = deflateResponse
	}
	if got := resp.Header.Get("Sec-WebSocket-Extensions"); got != want {
		t.Fatalf("Sec-WebSocket-Extensions %q, want %q", got, want)
	}
	return c
}

// expectConnEnd checks that the server has closed the connection and sent
// nothing more. A reset counts as closed: the server closes as soon as it
// has failed the connection, and input it did not read makes the kernel
// answer with a reset instead of a FIN (RFC 6455 §7.1.7 allows either).
func expectConnEnd(t *testing.T, c *rawClient) {
	t.Helper()
	b, err := c.br.ReadByte()
	if err == nil {
		t.Fatalf("read byte %#x after the close frame, want the connection closed", b)
	}
	if !errors.Is(err, io.EOF) && !isConnReset(err) {
		t.Fatalf("read after the close frame: %v, want EOF or reset", err)
	}
}

// readConfFrame reads one server frame, allowing RSV1 only when deflate
// was negotiated, and inflates compressed payloads.
func readConfFrame(t *testing.T, c *rawClient, deflate bool) (ws.Header, []byte) {
	t.Helper()
	var allowed byte
	if deflate {
		allowed = ws.Rsv(true, false, false)
	}
	var hdr []byte
	for {
		h, n, err := frame.ParseHeader(hdr)
		if err == nil {
			if n != len(hdr) {
				t.Fatalf("header parsed in %d of %d bytes", n, len(hdr))
			}
			if err := frame.CheckServer(h, allowed); err != nil {
				t.Fatalf("invalid server frame %+v: %v", h, err)
			}
			if !h.Fin {
				t.Fatalf("server sent a fragment %+v", h)
			}
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(c.br, p); err != nil {
				t.Fatalf("payload: %v", err)
			}
			if h.Rsv1() {
				if !h.OpCode.IsData() {
					t.Fatalf("compressed control frame %+v", h)
				}
				r := flate.NewReader(io.MultiReader(bytes.NewReader(p), strings.NewReader("\x00\x00\xff\xff\x01\x00\x00\xff\xff")))
				if p, err = io.ReadAll(r); err != nil {
					t.Fatalf("inflate server frame: %v", err)
				}
			}
			return h, p
		}
		if !errors.Is(err, frame.ErrShortBuffer) {
			t.Fatalf("server frame header % x: %v", hdr, err)
		}
		b, err := c.br.ReadByte()
		if err != nil {
			t.Fatalf("read frame: %v (after % x)", err, hdr)
		}
		hdr = append(hdr, b)
	}
}
