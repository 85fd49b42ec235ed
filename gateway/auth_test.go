package gateway

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/myriadws/myriad/server"
	"github.com/myriadws/myriad/server/servertest"
)

// forgeAlg builds a token whose header names alg but whose signature is
// HMAC-SHA256 with the shared secret: the key-confusion attack on servers
// that trust the token's alg.
func forgeAlg(alg, payload string) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"`+alg+`","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, testSecret)
	m.Write([]byte(head))
	return head + "." + enc.EncodeToString(m.Sum(nil))
}

// TestGatewayJWT checks the upgrade against tokens of every kind.
func TestGatewayJWT(t *testing.T) {
	srv, _ := startGateway(t, server.Config{}, Config{JWTSecret: testSecret})
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs256, err := jwt.NewWithClaims(jwt.SigningMethodRS256, userClaims("eve")).SignedString(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, userClaims("eve")).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	hs512, err := jwt.NewWithClaims(jwt.SigningMethodHS512, userClaims("eve")).SignedString(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, err := jwt.NewWithClaims(jwt.SigningMethodHS256, userClaims("eve")).SignedString([]byte("another-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	expired := userClaims("ann")
	expired.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Minute))
	early := userClaims("ann")
	early.NotBefore = jwt.NewNumericDate(time.Now().Add(time.Hour))
	limited := userClaims("ann")
	limited.SubTopics = strs("news", "chat.*")
	badPattern := userClaims("ann")
	badPattern.SubTopics = strs("a b")
	valid := token(t, userClaims("ann"))
	exp := time.Now().Add(time.Hour).Unix()

	cases := []struct {
		name   string
		query  string
		header string // Authorization value
		status int
		reason string
	}{
		{name: "valid in query", query: "token=" + valid, status: 101},
		{name: "valid in header", header: "Bearer " + valid, status: 101},
		{name: "header scheme case-insensitive", header: "bearer " + valid, status: 101},
		{name: "missing", status: 401, reason: "token required"},
		{name: "wrong scheme", header: "Basic " + valid, status: 401, reason: "token required"},
		{name: "expired", query: "token=" + token(t, expired), status: 401, reason: "expired"},
		{name: "not valid yet", query: "token=" + token(t, early), status: 401, reason: "not valid yet"},
		{name: "wrong signature", query: "token=" + wrongKey, status: 401, reason: "bad signature"},
		{name: "tampered", query: "token=" + tamperSignature(valid), status: 401, reason: "bad signature"},
		{name: "alg none", query: "token=" + none, status: 401, reason: "signing method not allowed"},
		{name: "alg RS256", query: "token=" + rs256, status: 401, reason: "signing method not allowed"},
		{name: "RS256 header over HMAC", query: "token=" + forgeAlg("RS256", `{"sub":"eve","exp":`+strconv.FormatInt(exp, 10)+`}`), status: 401, reason: "signing method not allowed"},
		{name: "alg HS512", query: "token=" + hs512, status: 401, reason: "signing method not allowed"},
		{name: "malformed", query: "token=abc.def", status: 401, reason: "malformed"},
		{name: "bad pattern in claims", query: "token=" + token(t, badPattern), status: 401, reason: "sub_topics"},
		{name: "topic allowed", query: "topics=news,chat.room1&token=" + token(t, limited), status: 101},
		{name: "topic not allowed", query: "topics=news,secret&token=" + token(t, limited), status: 403, reason: `"secret"`},
		{name: "prefix is not the topic", query: "topics=chat&token=" + token(t, limited), status: 403},
		{name: "any topic when the claim is absent", query: "topics=anything&token=" + valid, status: 101},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := servertest.DialTCP(t, srv.Addr().String())
			req := "GET /ws"
			if tc.query != "" {
				req += "?" + tc.query
			}
			key := servertest.NewKey(t)
			req += " HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n"
			if tc.header != "" {
				req += "Authorization: " + tc.header + "\r\n"
			}
			c.Write([]byte(req + "\r\n"))
			if tc.status == 101 {
				c.ExpectSwitching(key)
				return
			}
			resp := c.ReadResponse()
			b, _ := io.ReadAll(resp.Body)
			body := string(b)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d %q, want %d", resp.StatusCode, body, tc.status)
			}
			c.ExpectEOF()
			if !strings.Contains(body, tc.reason) {
				t.Fatalf("body %q, want it to mention %q", body, tc.reason)
			}
			if tc.status == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

// TestGatewayClaimsGovernTopics checks sub_topics and pub_topics on
// subscribe and publish messages, with prefix wildcards.
func TestGatewayClaimsGovernTopics(t *testing.T) {
	srv, g := startGateway(t, server.Config{}, Config{JWTSecret: testSecret, ClientPublish: true})
	cl := userClaims("ann")
	cl.SubTopics = strs("chat.*", "news")
	cl.PubTopics = []string{"chat.*"}
	ann := dialGateway(t, srv, "token="+token(t, cl), nil)
	reader := dialGateway(t, srv, "token="+token(t, userClaims("bob")), nil) // no claims: subscribe anywhere, publish nowhere
	reader.subscribe("chat.room1", "news", "other")

	cases := []struct {
		name    string
		msg     map[string]any
		wantErr string
	}{
		{"subscribe allowed", map[string]any{"type": "subscribe", "topics": []string{"chat.x", "news"}}, ""},
		{"subscribe refused", map[string]any{"type": "subscribe", "topics": []string{"chat.x", "other"}}, `not allowed to subscribe to "other"`},
		{"publish allowed", map[string]any{"type": "publish", "topic": "chat.room1", "data": "hi", "ref": 1}, ""},
		{"publish refused", map[string]any{"type": "publish", "topic": "news", "data": "hi"}, `not allowed to publish to "news": the token's pub_topics claim does not allow it`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ann.send(tc.msg)
			m := ann.read()
			if tc.wantErr == "" {
				if m.Type == "error" {
					t.Fatalf("refused: %s", m.Error)
				}
				return
			}
			if m.Type != "error" || !strings.Contains(m.Error, tc.wantErr) {
				t.Fatalf("got %+v, want error %q", m, tc.wantErr)
			}
		})
	}
	reader.expectData("chat.room1", `"hi"`)
	// bob has no pub_topics: a token holder cannot publish even though
	// ClientPublish lets anonymous clients do so.
	reader.send(map[string]any{"type": "publish", "topic": "news", "data": 1})
	reader.expect("error")
	if st := g.Stats(); st.Subscriptions != 5 {
		t.Fatalf("subscriptions %d, want 5", st.Subscriptions)
	}
}

// TestPatterns checks the topic patterns of token claims.
func TestPatterns(t *testing.T) {
	cases := []struct {
		name     string
		patterns []string
		topic    string
		want     bool
	}{
		{"exact", []string{"a"}, "a", true},
		{"exact other", []string{"a"}, "ab", false},
		{"prefix", []string{"chat.*"}, "chat.1", true},
		{"prefix itself", []string{"chat.*"}, "chat.", true},
		{"prefix shorter", []string{"chat.*"}, "chat", false},
		{"star", []string{"*"}, "anything", true},
		{"empty list", nil, "a", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parsePatterns(tc.patterns, 64)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.match(tc.topic); got != tc.want {
				t.Fatalf("match(%q) = %v, want %v", tc.topic, got, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "a**", "a b*", "**"} {
		if _, err := parsePatterns([]string{bad}, 64); err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
}

// tamperSignature changes the first character of a token's signature. The
// first base64url character carries six whole bits of the signature, so
// unlike the last one (whose low bits are padding) any change to it is a
// different signature.
func tamperSignature(token string) string {
	i := strings.LastIndexByte(token, '.') + 1
	c := byte('A')
	if token[i] == c {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}
