package handshake

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestReadResponse(t *testing.T) {
	accept := AppendAccept(nil, []byte(sampleKey))
	const good = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
	deflateOffer := &Offer{Deflate: true, Protocols: []string{"chat"}}
	cases := []struct {
		name     string
		in       string
		offer    *Offer
		status   int
		deflate  bool
		protocol string
		err      error
	}{
		{name: "101 with frames after it", in: good + "\r\n\x81\x02hi", status: 101},
		{name: "names in any case", in: "HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nconnection: upgrade\r\nsec-websocket-accept:s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", status: 101},
		{name: "deflate accepted", in: good + "Sec-WebSocket-Extensions: " + DeflateResponse + "\r\n\r\n", offer: deflateOffer, status: 101, deflate: true},
		{name: "deflate declined", in: good + "\r\n", offer: deflateOffer, status: 101},
		{name: "subprotocol chosen", in: good + "Sec-WebSocket-Protocol: chat\r\n\r\n", offer: deflateOffer, status: 101, protocol: "chat"},
		{name: "503", in: "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", status: 503},
		{name: "status without reason", in: "HTTP/1.1 404\r\n\r\n", status: 404},
		{name: "wrong accept", in: strings.Replace(good, "s3pP", "AAAA", 1) + "\r\n", err: ErrAccept},
		{name: "no accept", in: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", err: ErrAccept},
		{name: "no Upgrade", in: "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", err: ErrUpgrade},
		{name: "no Connection", in: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", err: ErrUpgrade},
		{name: "deflate not offered", in: good + "Sec-WebSocket-Extensions: " + DeflateResponse + "\r\n\r\n", err: ErrExtension},
		{name: "unknown extension", in: good + "Sec-WebSocket-Extensions: x-mux\r\n\r\n", offer: deflateOffer, err: ErrExtension},
		{name: "deflate with a bad parameter", in: good + "Sec-WebSocket-Extensions: permessage-deflate; mux\r\n\r\n", offer: deflateOffer, err: ErrExtension},
		{name: "deflate twice", in: good + "Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate\r\n\r\n", offer: deflateOffer, err: ErrExtension},
		{name: "subprotocol not offered", in: good + "Sec-WebSocket-Protocol: mqtt\r\n\r\n", offer: deflateOffer, err: ErrProtocol},
		{name: "subprotocol without an offer", in: good + "Sec-WebSocket-Protocol: chat\r\n\r\n", err: ErrProtocol},
		{name: "malformed header", in: good + "Bogus\r\n\r\n", err: ErrResponseHeader},
		{name: "bare LF", in: "HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\n\n", err: ErrResponseHeader},
		{name: "not HTTP", in: "SSH-2.0-OpenSSH_9.6\r\n\r\n", err: ErrStatusLine},
		{name: "letters in status", in: "HTTP/1.1 1O1 Switching\r\n\r\n", err: ErrStatusLine},
		{name: "endless head", in: "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", MaxResponseHead), err: ErrResponseTooLong},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			resp, n, err := ReadResponse(in, accept, tc.offer)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if resp.Status != tc.status || resp.Deflate != tc.deflate || string(resp.Protocol) != tc.protocol {
				t.Fatalf("status %d deflate %v protocol %q; want %d %v %q", resp.Status, resp.Deflate, resp.Protocol, tc.status, tc.deflate, tc.protocol)
			}
			end := strings.Index(tc.in, "\r\n\r\n") + 4
			if n != end {
				t.Fatalf("consumed %d, want %d", n, end)
			}
			// Every strict prefix of the head asks for more.
			for i := 0; i < end; i++ {
				if _, _, err := ReadResponse(in[:i], accept, tc.offer); !errors.Is(err, ErrShortBuffer) {
					t.Fatalf("prefix of %d bytes: err = %v, want ErrShortBuffer", i, err)
				}
			}
		})
	}
}

// TestClientServerRoundTrip has each side read what the other wrote: the
// template's request through ReadRequest and Check, the 101 through
// ReadResponse.
func TestClientServerRoundTrip(t *testing.T) {
	offer := Offer{Deflate: true, Protocols: []string{"v2.chat", "chat"}}
	tmpl := NewRequestTemplate("example.test:80", "/ws?room=1", offer, "User-Agent: test\r\n")
	key := newKey(t)
	raw := tmpl.Append(nil, []byte(key))
	scan := 0
	req, n, err := ReadRequest(raw, 1024, &scan)
	if err != nil || n != len(raw) {
		t.Fatalf("ReadRequest: %v, n %d of %d", err, n, len(raw))
	}
	if herr := req.Check(); herr != nil {
		t.Fatalf("Check: %v", herr)
	}
	if string(req.Path) != "/ws" || string(req.Query) != "room=1" || string(req.Key) != key {
		t.Fatalf("request %+v", req)
	}
	var neg Negotiator
	ext := neg.Deflate(HeaderValues(req.Fields, "Sec-WebSocket-Extensions", nil))
	supported := []string{"chat"}
	proto := supported[SelectSubprotocol(supported, HeaderValues(req.Fields, "Sec-WebSocket-Protocol", nil))-1]
	answer := AppendSwitching(nil, req.Key, proto, ext)

	accept := AppendAccept(nil, []byte(key))
	if string(accept) != acceptFor(key) {
		t.Fatalf("accept %q, want %q", accept, acceptFor(key))
	}
	resp, m, err := ReadResponse(answer, accept, &offer)
	if err != nil || m != len(answer) {
		t.Fatalf("ReadResponse: %v, n %d of %d", err, m, len(answer))
	}
	if resp.Status != 101 || !resp.Deflate || string(resp.Protocol) != "chat" {
		t.Fatalf("response %+v", resp)
	}
}

// FuzzReadResponse feeds each input whole and split at a chosen point: the
// split must ask for more or agree with the whole, and none may panic. An
// accepted 101 must hold the accept value.
func FuzzReadResponse(f *testing.F) {
	accept := AppendAccept(nil, []byte(sampleKey))
	good := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + string(accept) + "\r\n"
	for i, s := range []string{
		good + "\r\n",
		good + "Sec-WebSocket-Extensions: " + DeflateResponse15 + "\r\n\r\n\x81\x00",
		good + "Sec-WebSocket-Protocol: chat\r\n\r\n",
		"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\r\n",
		"HTTP/1.1 101\nUpgrade: websocket\n\n",
	} {
		f.Add([]byte(s), uint16(i*11), true)
	}
	f.Fuzz(func(t *testing.T, b []byte, split uint16, withOffer bool) {
		var offer *Offer
		if withOffer {
			offer = &Offer{Deflate: true, Protocols: []string{"chat"}}
		}
		resp, n, err := ReadResponse(b, accept, offer)
		k := int(split) % (len(b) + 1)
		presp, pn, perr := ReadResponse(b[:k], accept, offer)
		if perr != ErrShortBuffer && (perr != err || pn != n || presp.Status != resp.Status) {
			t.Fatalf("split at %d: n %d err %v; whole: n %d err %v", k, pn, perr, n, err)
		}
		if err == nil && resp.Status == 101 && !bytes.Contains(b[:n], accept) {
			t.Fatalf("101 accepted without the accept value: %q", b[:n])
		}
		if err != nil && n != 0 {
			t.Fatalf("error %v with n = %d", err, n)
		}
	})
}
