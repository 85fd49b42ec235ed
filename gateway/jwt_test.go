package gateway

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/myriadws/myriad/server"
	"github.com/myriadws/myriad/server/servertest"
)

// upgradeWith tries an upgrade of /ws with token and returns the status
// and, for a refusal, the body.
func upgradeWith(t *testing.T, srv *server.Server, token string) (int, string) {
	t.Helper()
	c := servertest.DialTCP(t, srv.Addr().String())
	key := servertest.NewKey(t)
	c.Write([]byte("GET /ws?token=" + token + " HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	resp := c.ReadResponse()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// signed signs claims with method and key, adding kid to the header
// when set.
func signed(t *testing.T, m jwt.SigningMethod, key any, kid string, cl jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, cl)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestJWTClaimChecks checks exp (required by default), absurd dates that
// once wrapped around, and aud and iss.
func TestJWTClaimChecks(t *testing.T) {
	srv, _ := startGateway(t, server.Config{}, Config{JWTSecret: testSecret, JWTAudience: "myriad", JWTIssuer: "https://id.example"})
	lax, _ := startGateway(t, server.Config{}, Config{JWTSecret: testSecret, JWTAllowNoExp: true})
	exp := float64(time.Now().Add(time.Hour).Unix())
	good := jwt.MapClaims{"sub": "ann", "exp": exp, "aud": "myriad", "iss": "https://id.example"}
	with := func(k string, v any) jwt.MapClaims {
		m := jwt.MapClaims{}
		for kk, vv := range good {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name   string
		srv    *server.Server
		claims jwt.MapClaims
		status int
		reason string
	}{
		{name: "good", srv: srv, claims: good, status: 101},
		{name: "audience in a list", srv: srv, claims: with("aud", []string{"other", "myriad"}), status: 101},
		{name: "no exp", srv: srv, claims: with("exp", nil), status: 401, reason: "required claim is missing (exp"},
		{name: "no exp allowed", srv: lax, claims: jwt.MapClaims{"sub": "ann"}, status: 101},
		{name: "nbf 1e300", srv: lax, claims: jwt.MapClaims{"sub": "ann", "nbf": 1e300}, status: 401},
		{name: "nbf 1e300 with exp", srv: srv, claims: with("nbf", 1e300), status: 401},
		{name: "exp 1e300", srv: lax, claims: jwt.MapClaims{"sub": "ann", "exp": 1e300}, status: 401},
		{name: "exp year 10000", srv: srv, claims: with("exp", 253402300800.0), status: 401, reason: "out of range"},
		{name: "iat negative", srv: srv, claims: with("iat", -1e12), status: 401},
		{name: "wrong audience", srv: srv, claims: with("aud", "other"), status: 401, reason: "audience"},
		{name: "no audience", srv: srv, claims: with("aud", nil), status: 401, reason: "required claim"},
		{name: "wrong issuer", srv: srv, claims: with("iss", "https://evil.example"), status: 401, reason: "issuer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := upgradeWith(t, tc.srv, signed(t, jwt.SigningMethodHS256, testSecret, "", tc.claims))
			if status != tc.status || !strings.Contains(body, tc.reason) {
				t.Fatalf("status %d %q, want %d mentioning %q", status, body, tc.status, tc.reason)
			}
		})
	}
}

// jwkOf is the JWK of an RSA or P-256 public key.
func jwkOf(t *testing.T, kid string, k any) map[string]string {
	t.Helper()
	enc := base64.RawURLEncoding
	switch k := k.(type) {
	case *rsa.PublicKey:
		return map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "n": enc.EncodeToString(k.N.Bytes()), "e": enc.EncodeToString(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		b, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return map[string]string{"kty": "EC", "kid": kid, "crv": "P-256", "x": enc.EncodeToString(b[1:33]), "y": enc.EncodeToString(b[33:])}
	}
	t.Fatalf("key type %T", k)
	return nil
}

// TestJWTPublicKeys verifies RS256 and ES256 tokens with a PEM key and a
// JWKS served over HTTP, rotated while the gateway runs.
func TestJWTPublicKeys(t *testing.T) {
	pemKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsa1, _ := rsa.GenerateKey(rand.Reader, 2048)
	ec2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.MarshalPKIXPublicKey(&pemKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := NewKeySet(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	var doc atomic.Value
	setDoc := func(jwks ...map[string]string) {
		b, _ := json.Marshal(map[string]any{"keys": jwks})
		doc.Store(b)
	}
	setDoc(jwkOf(t, "k1", &rsa1.PublicKey))
	var fetches atomic.Int64
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		_, _ = w.Write(doc.Load().([]byte))
	}))
	t.Cleanup(idp.Close)
	f := &JWKSFetcher{Source: idp.URL, Refresh: 10 * time.Millisecond, Keys: keys}
	if err := f.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv, _ := startGateway(t, server.Config{}, Config{JWTKeys: keys})
	cl := userClaims("ann")
	byPEM := signed(t, jwt.SigningMethodRS256, pemKey, "", cl)
	byK1 := signed(t, jwt.SigningMethodRS256, rsa1, "k1", cl)
	byK1NoKid := signed(t, jwt.SigningMethodRS256, rsa1, "", cl)
	byK2 := signed(t, jwt.SigningMethodES256, ec2, "k2", cl)
	pubDER, _ := x509.MarshalPKIXPublicKey(&rsa1.PublicKey)
	confused := signed(t, jwt.SigningMethodHS256, pubDER, "k1", cl)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	forged := signed(t, jwt.SigningMethodRS256, other, "k1", cl)

	check := func(t *testing.T, name, tok string, want int) {
		t.Helper()
		if status, body := upgradeWith(t, srv, tok); status != want {
			t.Fatalf("%s: status %d %q, want %d", name, status, body, want)
		}
	}
	t.Run("before rotation", func(t *testing.T) {
		check(t, "PEM key", byPEM, 101)
		check(t, "JWKS kid k1", byK1, 101)
		check(t, "JWKS without kid", byK1NoKid, 101)
		check(t, "unknown kid k2", byK2, 401)
		check(t, "HS256 with the public key as secret", confused, 401)
		check(t, "other key claiming k1", forged, 401)
	})
	// Rotate: k1 goes, k2 (ES256) comes; the fetcher's one goroutine
	// picks it up.
	setDoc(jwkOf(t, "k2", &ec2.PublicKey))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "rotated keys in use", ioTimeout, func() bool {
		status, _ := upgradeWith(t, srv, byK2)
		return status == 101
	})
	t.Run("after rotation", func(t *testing.T) {
		check(t, "JWKS kid k2", byK2, 101)
		check(t, "retired k1", byK1, 401)
		check(t, "PEM key", byPEM, 101)
	})
	// A broken document keeps the keys in use.
	doc.Store([]byte(`{"keys":[]}`))
	n := fetches.Load()
	waitFor(t, "a failed reload", ioTimeout, func() bool { return fetches.Load() > n+1 })
	check(t, "k2 after a failed reload", byK2, 101)
}
