package handshake

import (
	"testing"
)

func TestNegotiateDeflate(t *testing.T) {
	const (
		accept   = DeflateResponse
		accept15 = DeflateResponse15
		decline  = ""
	)
	cases := []struct {
		name   string
		values []string // Sec-WebSocket-Extensions header values
		want   string
	}{
		{"plain offer", []string{"permessage-deflate"}, accept},
		{"Chromium's offer", []string{"permessage-deflate; client_max_window_bits"}, accept},
		{"client window hint with a value", []string{"permessage-deflate; client_max_window_bits=10"}, accept},
		{"gorilla's offer", []string{"permessage-deflate; server_no_context_takeover; client_no_context_takeover"}, accept},
		{"server window 15", []string{"permessage-deflate; server_max_window_bits=15"}, accept15},
		{"server window 15 quoted", []string{`permessage-deflate; server_max_window_bits="15"`}, accept15},
		{"server window 10 is declined", []string{"permessage-deflate; server_max_window_bits=10"}, decline},
		{"server window 8 then an acceptable offer", []string{"permessage-deflate; server_max_window_bits=8, permessage-deflate; client_max_window_bits"}, accept},
		{"server window 9 then 15", []string{"permessage-deflate; server_max_window_bits=9, permessage-deflate; server_max_window_bits=15"}, accept15},
		{"first acceptable offer wins", []string{"permessage-deflate, permessage-deflate; server_max_window_bits=15"}, accept},
		{"offers across two header lines", []string{"x-webkit-deflate-frame", "permessage-deflate"}, accept},
		{"other extension first", []string{"x-webkit-deflate-frame, permessage-deflate; client_no_context_takeover"}, accept},
		{"other extension only", []string{"x-webkit-deflate-frame"}, decline},
		{"unknown parameter", []string{"permessage-deflate; mux"}, decline},
		{"unknown parameter, then a good offer", []string{"permessage-deflate; mux, permessage-deflate"}, accept},
		{"server window without value", []string{"permessage-deflate; server_max_window_bits"}, decline},
		{"server window 16", []string{"permessage-deflate; server_max_window_bits=16"}, decline},
		{"server window 7", []string{"permessage-deflate; server_max_window_bits=7"}, decline},
		{"server window with a leading zero", []string{"permessage-deflate; server_max_window_bits=015"}, decline},
		{"client window 16", []string{"permessage-deflate; client_max_window_bits=16"}, decline},
		{"client window not a number", []string{"permessage-deflate; client_max_window_bits=x"}, decline},
		{"repeated client_no_context_takeover", []string{"permessage-deflate; client_no_context_takeover; client_no_context_takeover"}, decline},
		{"repeated valueless client window", []string{"permessage-deflate; client_max_window_bits; client_max_window_bits"}, decline},
		{"repeated client window", []string{"permessage-deflate; client_max_window_bits; client_max_window_bits=10"}, decline},
		{"no_context_takeover with a value", []string{"permessage-deflate; server_no_context_takeover=1"}, decline},
		{"extension names are exact", []string{"PERMESSAGE-DEFLATE"}, decline},
		{"malformed header", []string{"permessage-deflate, ="}, decline},
		{"malformed second header", []string{"permessage-deflate", "; ;"}, decline},
		{"unterminated quote", []string{`permessage-deflate; server_max_window_bits="15`}, decline},
		{"empty", []string{""}, decline},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var n Negotiator
			var values [][]byte
			for _, v := range tc.values {
				values = append(values, []byte(v))
			}
			if got := string(n.Deflate(values)); got != tc.want {
				t.Fatalf("response %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSelectSubprotocol(t *testing.T) {
	supported := []string{"v2.chat", "chat", "mqtt"}
	cases := []struct {
		name   string
		offers []string
		want   string
	}{
		{"one offer", []string{"chat"}, "chat"},
		{"server preference wins over client order", []string{"chat, v2.chat"}, "v2.chat"},
		{"offers over two header lines", []string{"superchat", "mqtt"}, "mqtt"},
		{"spaces around items", []string{" superchat ,  chat "}, "chat"},
		{"names are exact", []string{"Chat, CHAT"}, ""},
		{"no common protocol", []string{"superchat"}, ""},
		{"substring is not a match", []string{"chatty"}, ""},
		{"empty items", []string{",,"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var values [][]byte
			for _, v := range tc.offers {
				values = append(values, []byte(v))
			}
			got := ""
			if i := SelectSubprotocol(supported, values); i > 0 {
				got = supported[i-1]
			}
			if got != tc.want {
				t.Fatalf("selected %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOriginAllowed(t *testing.T) {
	list := []string{"https://example.com", "http://localhost:8080", "https://*.example.org", "http://[::1]:9000"}
	var patterns []OriginPattern
	for _, s := range list {
		p, err := ParseOriginPattern(s)
		if err != nil {
			t.Fatalf("ParseOriginPattern(%q): %v", s, err)
		}
		patterns = append(patterns, p)
	}
	cases := []struct {
		name   string
		origin string
		count  int
		want   bool
	}{
		{"no Origin", "", 0, true},
		{"listed", "https://example.com", 1, true},
		{"capitals", "HTTPS://EXAMPLE.COM", 1, true},
		{"default port", "https://example.com:443", 1, true},
		{"explicit port", "http://localhost:8080", 1, true},
		{"IPv6", "http://[::1]:9000", 1, true},
		{"subdomain", "https://a.b.example.org", 1, true},
		{"bare wildcard domain", "https://example.org", 1, false},
		{"suffix without a dot", "https://badexample.org", 1, false},
		{"other port", "https://example.com:8443", 1, false},
		{"other scheme", "http://example.com", 1, false},
		{"missing port", "http://localhost", 1, false},
		{"opaque", "null", 1, false},
		{"two Origins", "https://example.com", 2, false},
		{"with a path", "https://example.com/x", 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := OriginAllowed(patterns, []byte(tc.origin), tc.count); got != tc.want {
				t.Fatalf("OriginAllowed(%q, %d) = %v, want %v", tc.origin, tc.count, got, tc.want)
			}
		})
	}
	if !OriginAllowed(nil, []byte("https://any.test"), 1) {
		t.Fatal("an empty list refuses an Origin")
	}
}

func TestHasToken(t *testing.T) {
	cases := []struct {
		name string
		list string
		want bool
	}{
		{"alone", "upgrade", true},
		{"in a list", "keep-alive, Upgrade", true},
		{"spaces and tabs", " keep-alive ,\tUPGRADE\t", true},
		{"empty items", ",,upgrade,", true},
		{"substring", "upgraded", false},
		{"empty", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := HasToken([]byte(tc.list), "upgrade"); got != tc.want {
				t.Fatalf("HasToken(%q) = %v", tc.list, got)
			}
		})
	}
}
