package server

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestHTTPErrorFrom checks how an Authorizer's error becomes the
// handshake's answer, including reasons that try to break the response.
func TestHTTPErrorFrom(t *testing.T) {
	cases := []struct {
		name      string
		err       error
		status    int
		reason    string
		challenge string
	}{
		{"plain error", errors.New("secret detail"), http.StatusForbidden, "upgrade refused", ""},
		{"status error", &StatusError{Status: 429, Reason: "slow down"}, 429, "slow down", ""},
		{"challenge on 401", &StatusError{Status: 401, Reason: "who?", Challenge: "Bearer"}, 401, "who?", "WWW-Authenticate: Bearer\r\n"},
		{"challenge ignored elsewhere", &StatusError{Status: 403, Reason: "no", Challenge: "Bearer"}, 403, "no", ""},
		{"not an error status", &StatusError{Status: 200, Reason: "ok"}, http.StatusForbidden, "upgrade refused", ""},
		{"line breaks", &StatusError{Status: 401, Reason: "a\r\nX-Evil: 1", Challenge: "B\r\nX: y"}, 401, "a??X-Evil: 1", "WWW-Authenticate: B??X: y\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := httpErrorFrom(tc.err)
			if e.status != tc.status || e.reason != tc.reason || e.header != tc.challenge {
				t.Fatalf("got %d %q %q, want %d %q %q", e.status, e.reason, e.header, tc.status, tc.reason, tc.challenge)
			}
			if resp := string(appendHTTPError(nil, e)); strings.Count(resp, "\r\n\r\n") != 1 {
				t.Fatalf("response framing broken: %q", resp)
			}
		})
	}
}
