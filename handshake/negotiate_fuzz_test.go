package handshake

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws/wsflate"
)

// FuzzNegotiateDeflate checks permessage-deflate negotiation two ways.
//
// The raw bytes are offered as a Sec-WebSocket-Extensions value: whatever
// they hold, negotiation must not panic, must give the same answer when the
// value is split at a comma into two header lines and when run again on the
// same scratch space, and an acceptance must be a response a client can
// parse, with both no_context_takeover parameters.
//
// The same bytes also drive a generator of well-formed offer lists from a
// vocabulary of names, parameters and values, valid and not, whose correct
// answer under RFC 7692 §5 and §7 is computed independently here.
func FuzzNegotiateDeflate(f *testing.F) {
	seeds := []string{
		"permessage-deflate",
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
		"permessage-deflate; server_max_window_bits=10, permessage-deflate; server_max_window_bits=15",
		`permessage-deflate; server_max_window_bits="15"; client_max_window_bits=9`,
		"x-webkit-deflate-frame, permessage-deflate; mux",
		"permessage-deflate; client_max_window_bits; client_max_window_bits",
		`permessage-deflate; a="b\\", c, permessage-deflate`,
		", ,permessage-deflate,",
		"\x00\x01\x02\x10\x21\x33\x44\x55\x66",
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint16(i))
	}
	f.Fuzz(func(t *testing.T, b []byte, split uint16) {
		checkRawOffer(t, b, int(split))
		checkGeneratedOffers(t, b)
	})
}

func checkRawOffer(t *testing.T, b []byte, split int) {
	t.Helper()
	var n Negotiator
	whole := bytes.Clone(n.Deflate([][]byte{bytes.Clone(b)}))
	if again := n.Deflate([][]byte{bytes.Clone(b)}); !bytes.Equal(again, whole) {
		t.Fatalf("second run on reused scratch: %q, first %q", again, whole)
	}
	if whole != nil {
		checkResponse(t, whole, b)
	}
	// Split at a comma outside quoted strings: two header lines.
	var commas []int
	quoted, escaped := false, false
	for i, c := range b {
		switch {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			commas = append(commas, i)
		}
	}
	if len(commas) == 0 {
		return
	}
	i := commas[split%len(commas)]
	parts := [][]byte{bytes.Clone(b[:i]), bytes.Clone(b[i+1:])}
	if got := n.Deflate(parts); !bytes.Equal(got, whole) {
		t.Fatalf("split at %d into %q and %q: %q; whole: %q", i, b[:i], b[i+1:], got, whole)
	}
}

// checkResponse parses the response as a client would.
func checkResponse(t *testing.T, resp, offer []byte) {
	t.Helper()
	if !bytes.Equal(resp, deflateResponse) && !bytes.Equal(resp, deflateResponse15) {
		t.Fatalf("response %q", resp)
	}
	opts, ok := httphead.ParseOptions(bytes.Clone(resp), nil)
	if !ok || len(opts) != 1 || string(opts[0].Name) != wsflate.ExtensionName {
		t.Fatalf("response %q does not parse as one extension", resp)
	}
	var p wsflate.Parameters
	if err := p.Parse(opts[0]); err != nil {
		t.Fatalf("response %q: %v", resp, err)
	}
	if !p.ServerNoContextTakeover || !p.ClientNoContextTakeover || p.ClientMaxWindowBits != 0 {
		t.Fatalf("response %q: %+v", resp, p)
	}
	if p.ServerMaxWindowBits != 0 && !bytes.Contains(offer, []byte("server_max_window_bits")) {
		t.Fatalf("response %q limits a window the offer %q did not", resp, offer)
	}
	if accepted, err := DeflateAnswer([][]byte{resp}); !accepted || err != nil {
		t.Fatalf("response %q refused by the client side: accepted %v, %v", resp, accepted, err)
	}
}

// offerWord is a name or parameter of a generated offer, with whether it
// is allowed in an offer the server can accept.
type offerWord struct {
	text  string
	key   string // parameter name, for the duplicate rule; "" for names
	valid bool
	smwb  bool // a valid server_max_window_bits (only 15 is acceptable)
}

var (
	offerNames = []offerWord{
		{text: "permessage-deflate", valid: true},
		{text: "x-webkit-deflate-frame"},
		{text: "Permessage-Deflate"},
		{text: "permessage-deflate-x"},
	}
	offerParams = []offerWord{
		{text: "server_no_context_takeover", key: "snct", valid: true},
		{text: "client_no_context_takeover", key: "cnct", valid: true},
		{text: "client_max_window_bits", key: "cmwb", valid: true},
		{text: "client_max_window_bits=8", key: "cmwb", valid: true},
		{text: "client_max_window_bits=15", key: "cmwb", valid: true},
		{text: `client_max_window_bits="12"`, key: "cmwb", valid: true},
		{text: "client_max_window_bits=16", key: "cmwb"},
		{text: "client_max_window_bits=09", key: "cmwb"},
		{text: "server_max_window_bits=15", key: "smwb", valid: true, smwb: true},
		{text: `server_max_window_bits="15"`, key: "smwb", valid: true, smwb: true},
		{text: "server_max_window_bits=14", key: "smwb", valid: true},
		{text: "server_max_window_bits=8", key: "smwb", valid: true},
		{text: "server_max_window_bits=7", key: "smwb"},
		{text: "server_max_window_bits", key: "smwb"},
		{text: "server_no_context_takeover=1", key: "snct"},
		{text: "mux", key: "mux"},
		{text: "Server_No_Context_Takeover", key: "SNCT"},
	}
)

// checkGeneratedOffers builds up to four offers from b and compares the
// negotiator with the rules applied directly.
func checkGeneratedOffers(t *testing.T, b []byte) {
	t.Helper()
	var offers []string
	want := ""
	decided := false
	for len(b) > 0 && len(offers) < 4 {
		name := offerNames[int(b[0])%len(offerNames)]
		b = b[1:]
		nparams := 0
		if len(b) > 0 {
			nparams = int(b[0]) % 4
			b = b[1:]
		}
		words := []string{name.text}
		acceptable := name.valid
		smwb := false
		seen := map[string]bool{}
		for ; nparams > 0 && len(b) > 0; nparams-- {
			p := offerParams[int(b[0])%len(offerParams)]
			b = b[1:]
			words = append(words, p.text)
			if !p.valid || seen[p.key] {
				acceptable = false
			}
			seen[p.key] = true
			if p.key == "smwb" {
				if p.smwb {
					smwb = true
				} else {
					acceptable = false // a window the server cannot honour
				}
			}
		}
		offers = append(offers, strings.Join(words, "; "))
		if acceptable && !decided {
			decided = true
			want = DeflateResponse
			if smwb {
				want = DeflateResponse15
			}
		}
	}
	if len(offers) == 0 {
		return
	}
	var n Negotiator
	header := strings.Join(offers, ", ")
	if got := string(n.Deflate([][]byte{[]byte(header)})); got != want {
		t.Fatalf("offers %q: response %q, want %q", header, got, want)
	}
}
