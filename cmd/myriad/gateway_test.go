package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
	"go.uber.org/zap"

	"github.com/myriadws/myriad/gateway"
)

func TestGatewayOptions(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, g *gatewayOptions)
	}{
		{
			name: "defaults",
			check: func(t *testing.T, g *gatewayOptions) {
				c := g.cfg
				if g.apiAddr != "127.0.0.1:8081" || c.APIKey != "" || c.APIMaxBody != 1<<20 || g.jwtSecret != "" ||
					c.ClientPublish || c.MaxTopicsPerConn != 64 || c.PresenceEvents || g.slowPolicy != "close" ||
					!g.jwtRequireExp || c.MaxPublishTopics != 16 || c.ClientRate != 50 || c.PresenceInterval != time.Second || g.apiInsecure {
					t.Errorf("unexpected defaults: %+v %q %q", c, g.jwtSecret, g.slowPolicy)
				}
			},
		},
		{
			name: "flags",
			args: []string{"--api-addr", "127.0.0.1:9", "--api-key", "k3y-k3y-k3y", "--api-max-body", "64KiB", "--jwt-secret", "s",
				"--client-publish", "--max-topics-per-conn", "9", "--presence-events", "--slow-policy", "drop"},
			check: func(t *testing.T, g *gatewayOptions) {
				c := g.cfg
				if g.apiAddr != "127.0.0.1:9" || c.APIKey != "k3y-k3y-k3y" || c.APIMaxBody != 64<<10 || g.jwtSecret != "s" ||
					!c.ClientPublish || c.MaxTopicsPerConn != 9 || !c.PresenceEvents || g.slowPolicy != "drop" {
					t.Errorf("flags not applied: %+v %q %q", c, g.jwtSecret, g.slowPolicy)
				}
			},
		},
		{
			name: "hardening flags",
			args: []string{"--max-publish-topics", "4", "--client-rate", "2.5", "--client-burst", "7", "--presence-interval", "250ms",
				"--presence-max-subscribers", "9", "--publish-dedup-window", "-1s", "--api-allowed-hosts", "a.example,b.example",
				"--api-cors-origins", "https://app.example", "--api-insecure", "--jwt-require-exp=false", "--jwt-audience", "aud",
				"--jwt-issuer", "iss", "--jwks-url", "https://id.example/jwks", "--jwks-refresh", "1m"},
			check: func(t *testing.T, g *gatewayOptions) {
				c := g.cfg
				if c.MaxPublishTopics != 4 || c.ClientRate != 2.5 || c.ClientBurst != 7 || c.PresenceInterval != 250*time.Millisecond ||
					c.PresenceMaxSubscribers != 9 || c.PublishDedupWindow != -time.Second || len(c.APIAllowedHosts) != 2 ||
					len(c.APICORSOrigins) != 1 || !g.apiInsecure || g.jwtRequireExp || c.JWTAudience != "aud" || c.JWTIssuer != "iss" ||
					g.jwksURL != "https://id.example/jwks" || g.jwksRefresh != time.Minute {
					t.Errorf("flags not applied: %+v %+v", c, g)
				}
			},
		},
		{
			name: "environment",
			env: map[string]string{"MYRIAD_JWT_SECRET": "from-env", "MYRIAD_API_KEY": "env-key-123", "MYRIAD_SLOW_POLICY": "drop",
				"MYRIAD_CLIENT_PUBLISH": "true", "MYRIAD_API_ADDR": ""},
			check: func(t *testing.T, g *gatewayOptions) {
				if g.jwtSecret != "from-env" || g.cfg.APIKey != "env-key-123" || g.slowPolicy != "drop" || !g.cfg.ClientPublish || g.apiAddr != "" {
					t.Errorf("environment not applied: %+v %q %q", g.cfg, g.jwtSecret, g.slowPolicy)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			o, err := parseOptions(tc.args, envFrom(tc.env), &stderr)
			if err != nil {
				t.Fatalf("parseOptions: %v (%s)", err, stderr.String())
			}
			tc.check(t, &o.gw)
		})
	}
}

func TestGatewayBadOptions(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{name: "slow policy", args: []string{"--slow-policy", "wait"}, code: 2, stderr: "slow-policy"},
		{name: "api port in use", args: []string{"--addr", "127.0.0.1:0", "--api-addr", busy.Addr().String()}, code: 1, stderr: "address already in use"},
		{name: "api beyond loopback without key", args: []string{"--addr", "127.0.0.1:0", "--api-addr", "0.0.0.0:0"}, code: 2, stderr: "without --api-key"},
		{name: "api on all interfaces without key", args: []string{"--addr", "127.0.0.1:0", "--api-addr", ":0"}, code: 2, stderr: "--api-insecure"},
		{name: "missing public key file", args: []string{"--jwt-public-key", "/nonexistent/key.pem"}, code: 2, stderr: "jwt-public-key"},
		{name: "missing jwks file", args: []string{"--addr", "127.0.0.1:0", "--jwks-url", "/nonexistent/jwks.json"}, code: 2, stderr: "jwks-url"},
		{name: "too many publish topics", args: []string{"--max-publish-topics", "-1"}, code: 2, stderr: "max-publish-topics"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr syncBuffer
			code := run(context.Background(), tc.args, envFrom(nil), &stdout, &stderr, nil)
			if code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
				t.Fatalf("exit code %d, stderr %q; want %d mentioning %q", code, stderr.String(), tc.code, tc.stderr)
			}
		})
	}
}

// TestGatewayFromCommandLine runs the binary's main path with a token
// secret and an API key: a client with a token receives what is posted to
// the API, /echo still works, and a signal drains both listeners.
func TestGatewayFromCommandLine(t *testing.T) {
	addr, apiAddr := freePort(t), freePort(t)
	const secret, key = "cmd-test-secret-0123456789", "cmd-test-key"
	sigs := make(chan os.Signal, 2)
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"--addr", addr, "--api-addr", apiAddr, "--drain-timeout", "1s", "--log-level", "warn"},
			envFrom(map[string]string{"MYRIAD_JWT_SECRET": secret, "MYRIAD_API_KEY": key}), &stdout, &stderr, sigs)
	}()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, gateway.Claims{RegisteredClaims: jwt.RegisteredClaims{
		Subject: "ann", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour)),
	}}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	echo := dialRetry(t, "ws://"+addr+"/echo")
	defer echo.Close()
	if _, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws?topics=news", nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("dial without token: %v, want 401", err)
	}
	sub := dialRetry(t, "ws://"+addr+"/ws?topics=news&token="+tok)
	defer sub.Close()

	post := func(auth string) (int, string) {
		req, _ := http.NewRequest("POST", "http://"+apiAddr+"/publish", strings.NewReader(`{"topic":"news","data":{"headline":"hi"}}`))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, _ := post(""); status != http.StatusUnauthorized {
		t.Fatalf("publish without key: %d, want 401", status)
	}
	// The subscription is made just after the 101; poll until delivered.
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, body := post(key)
		if status != http.StatusOK {
			t.Fatalf("publish: %d %s", status, body)
		}
		if strings.Contains(body, `"delivered":1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("publish never delivered: %s", body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = sub.SetReadDeadline(time.Now().Add(10 * time.Second))
	var m struct {
		Topic string          `json:"topic"`
		Data  json.RawMessage `json:"data"`
	}
	for m.Topic == "" {
		// Earlier polls that found no subscriber delivered nothing.
		if err := sub.ReadJSON(&m); err != nil {
			t.Fatal(err)
		}
	}
	if m.Topic != "news" || string(m.Data) != `{"headline":"hi"}` {
		t.Fatalf("got %+v", m)
	}
	if err := echo.WriteMessage(websocket.TextMessage, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if _, b, err := echo.ReadMessage(); err != nil || string(b) != "still here" {
		t.Fatalf("echo: %q %v", b, err)
	}

	sigs <- syscall.SIGTERM
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit code %d; stderr: %s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not exit after drain")
	}
	if c, err := net.DialTimeout("tcp", apiAddr, time.Second); err == nil {
		c.Close()
		t.Fatal("API still listening after the drain")
	}
}

// TestAPIExposure refuses an API reachable beyond loopback without a key
// unless --api-insecure says so.
func TestAPIExposure(t *testing.T) {
	cases := []struct {
		name    string
		addr    string
		key     string
		unsafe  bool
		refused bool
	}{
		{name: "loopback v4", addr: "127.0.0.1:8081"},
		{name: "loopback v6", addr: "[::1]:8081"},
		{name: "localhost", addr: "localhost:8081"},
		{name: "no API", addr: ""},
		{name: "all interfaces", addr: ":8081", refused: true},
		{name: "unspecified v4", addr: "0.0.0.0:8081", refused: true},
		{name: "a public name", addr: "api.example:8081", refused: true},
		{name: "with a key", addr: "0.0.0.0:8081", key: "k"},
		{name: "insecure", addr: "0.0.0.0:8081", unsafe: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := &gatewayOptions{apiAddr: tc.addr, apiInsecure: tc.unsafe}
			g.cfg.APIKey = tc.key
			if err := g.checkAPIExposure(zap.NewNop()); (err != nil) != tc.refused {
				t.Fatalf("err %v, refused want %v", err, tc.refused)
			}
		})
	}
}
