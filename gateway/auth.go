package gateway

import (
	"errors"
	"net/http"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/myriadws/myriad/server"
)

// Claims are the JWT claims the gateway reads. The token is signed with
// HS256 and the shared Config.JWTSecret; exp and nbf are checked
// when present.
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

// tokenVerifier checks HS256 tokens. It is immutable after construction,
// so any goroutine may use it.
type tokenVerifier struct {
	secret []byte
	parser *jwt.Parser
	maxLen int // topic name bound, for the claims' patterns
}

func newTokenVerifier(secret []byte, maxTopicLen int) *tokenVerifier {
	return &tokenVerifier{
		secret: secret,
		// Only HS256: accepting the algorithm the token names would let
		// "none" or an RS256 header signed with the secret as a public key
		// through.
		parser: jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()})),
		maxLen: maxTopicLen,
	}
}

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
	_, err := v.parser.ParseWithClaims(token, &cl, func(*jwt.Token) (any, error) { return v.secret, nil })
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
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "not valid yet"
	case errors.Is(err, jwt.ErrTokenUnverifiable),
		errors.Is(err, jwt.ErrTokenSignatureInvalid) && strings.Contains(err.Error(), "signing method"):
		return "signing method not allowed (HS256 only)"
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
