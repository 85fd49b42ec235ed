package gateway

import (
	"errors"
	"net/http"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/myriadws/myriad/server"
)

// Claims are the JWT claims the gateway reads. The token is signed with
// HS256 and the shared Config.JWTSecret, or RS256/ES256 with a key of
// Config.JWTKeys; exp is required unless Config.JWTAllowNoExp, nbf is
// checked when present, aud and iss when configured, and dates outside
// the years 1970 to 9999 are refused.
type Claims struct {
	jwt.RegisteredClaims
	// SubTopics lists the topics the client may subscribe to (exact names
	// or prefixes with a trailing '*'). Absent means any topic: a token
	// that only proves who the user is. An empty list allows none.
	SubTopics *[]string `json:"sub_topics,omitempty"`
	// PubTopics lists the topics the client may publish to. Absent or
	// empty allows none.
	PubTopics []string `json:"pub_topics,omitempty"`
}

// grant is what a verified token allows, kept per connection.
type grant struct {
	user   string
	subAll bool
	sub    topicPatterns
	pub    topicPatterns
}

// Upgrade refusals of the token check.
var (
	errTokenMissing = &server.StatusError{Status: http.StatusUnauthorized, Reason: "token required", Challenge: "Bearer"}
)

func errTokenInvalid(why string) *server.StatusError {
	return &server.StatusError{Status: http.StatusUnauthorized, Reason: "invalid token: " + why, Challenge: `Bearer error="invalid_token"`}
}

// tokenVerifier checks tokens: HS256 with the shared secret, RS256 and
// ES256 with a KeySet. It is immutable after construction (the KeySet
// swaps its keys atomically), so any goroutine may use it.
type tokenVerifier struct {
	secret []byte  // nil: no HS256
	keys   *KeySet // nil: no RS256 or ES256
	parser *jwt.Parser
	maxLen int // topic name bound, for the claims' patterns
}

func newTokenVerifier(cfg Config) *tokenVerifier {
	// Only the algorithms configured: accepting the one the token names
	// would let "none", or an RS256 header "signed" with the public key
	// as an HMAC secret, through.
	var algs []string
	if len(cfg.JWTSecret) > 0 {
		algs = append(algs, jwt.SigningMethodHS256.Alg())
	}
	if cfg.JWTKeys != nil {
		algs = append(algs, jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg())
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(algs)}
	if !cfg.JWTAllowNoExp {
		opts = append(opts, jwt.WithExpirationRequired())
	}
	if cfg.JWTAudience != "" {
		opts = append(opts, jwt.WithAudience(cfg.JWTAudience))
	}
	if cfg.JWTIssuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.JWTIssuer))
	}
	return &tokenVerifier{secret: cfg.JWTSecret, keys: cfg.JWTKeys, parser: jwt.NewParser(opts...), maxLen: cfg.MaxTopicLen}
}

// key is the parser's keyfunc: the key for the token's algorithm (which
// the parser has already checked against the allowed ones) and kid.
func (v *tokenVerifier) key(t *jwt.Token) (any, error) {
	if t.Method.Alg() == jwt.SigningMethodHS256.Alg() {
		return v.secret, nil
	}
	kid, _ := t.Header["kid"].(string)
	return v.keys.keysFor(t.Method.Alg(), kid)
}

// Dates outside [1970, 9999] are refused: jwt turns seconds into int64,
// so 1e300 wraps to some other date, and no real token names such times.
const maxNumericDate = 253402300799 // 9999-12-31T23:59:59Z

// Validate implements jwt.ClaimsValidator: it refuses absurd dates, after
// the parser's own checks of exp, nbf, aud and iss.
func (c Claims) Validate() error {
	for _, d := range []*jwt.NumericDate{c.ExpiresAt, c.NotBefore, c.IssuedAt} {
		if d != nil && (d.Unix() < 0 || d.Unix() > maxNumericDate) {
			return errAbsurdDate
		}
	}
	return nil
}

var errAbsurdDate = errors.New("date claim out of range")

// tokenFrom returns the token of an upgrade request: the token query
// parameter, else an Authorization: Bearer header.
func tokenFrom(query map[string][]string, r *server.UpgradeRequest) string {
	if v := query["token"]; len(v) > 0 && v[0] != "" {
		return v[0]
	}
	auth := r.Header("Authorization")
	if len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		return strings.TrimSpace(auth[7:])
	}
	return ""
}

// verify checks token and returns what it grants, or a 401 StatusError.
func (v *tokenVerifier) verify(token string) (*grant, error) {
	if token == "" {
		return nil, errTokenMissing
	}
	var cl Claims
	_, err := v.parser.ParseWithClaims(token, &cl, v.key)
	if err != nil {
		return nil, errTokenInvalid(tokenErrorReason(err))
	}
	g := &grant{user: cl.Subject, subAll: cl.SubTopics == nil}
	if cl.SubTopics != nil {
		if g.sub, err = parsePatterns(*cl.SubTopics, v.maxLen); err != nil {
			return nil, errTokenInvalid("sub_topics: " + err.Error())
		}
	}
	if g.pub, err = parsePatterns(cl.PubTopics, v.maxLen); err != nil {
		return nil, errTokenInvalid("pub_topics: " + err.Error())
	}
	return g, nil
}

// tokenErrorReason names a token failure in a few words, without echoing
// the token.
func tokenErrorReason(err error) string {
	switch {
	case errors.Is(err, errAbsurdDate):
		return "exp, nbf or iat out of range"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "a required claim is missing (exp, or aud or iss when configured)"
	case errors.Is(err, errUnknownKey):
		return "unknown signing key"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "not valid yet"
	case errors.Is(err, jwt.ErrTokenUnverifiable),
		errors.Is(err, jwt.ErrTokenSignatureInvalid) && strings.Contains(err.Error(), "signing method"):
		return "signing method not allowed"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "bad signature"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed"
	}
	return "rejected"
}

// canSub reports whether the connection may subscribe to topic; a nil
// grant is an unauthenticated client, which may subscribe to any topic.
func (g *grant) canSub(topic string) bool {
	return g == nil || g.subAll || g.sub.match(topic)
}

// canPub reports whether the connection may publish to topic;
// unauthenticated clients may when anon is set.
func (g *grant) canPub(topic string, anon bool) bool {
	if g == nil {
		return anon
	}
	return g.pub.match(topic)
}
