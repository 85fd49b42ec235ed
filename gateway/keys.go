package gateway

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"sync/atomic"

	"github.com/golang-jwt/jwt/v5"
)

// KeySet is the public keys that verify RS256 and ES256 tokens: fixed
// keys from PEM, and the keys of a JWKS document, which SetJWKS replaces
// as a whole (see JWKSFetcher). A token naming a kid is verified with
// that JWKS key; one without is tried against every key of its
// algorithm. Lookups take no lock: the keys are an immutable snapshot
// behind an atomic pointer. Any goroutine may call its methods.
type KeySet struct {
	static []crypto.PublicKey
	jwks   atomic.Pointer[map[string]crypto.PublicKey] // by kid
}

// Key errors.
var (
	ErrNoKeys      = errors.New("no RS256 or ES256 public key found")
	errUnknownKey  = errors.New("no key for this token")
	errUnsupported = errors.New("unsupported key: want RSA (2048 bits or more) or EC P-256")
)

// NewKeySet returns a KeySet holding the public keys of pemData ("PUBLIC
// KEY" or "RSA PUBLIC KEY" blocks, or certificates); nil pemData gives an
// empty set for SetJWKS to fill.
func NewKeySet(pemData []byte) (*KeySet, error) {
	ks := &KeySet{}
	if pemData == nil {
		return ks, nil
	}
	for rest := pemData; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		k, err := parsePEMBlock(b)
		if err != nil {
			return nil, err
		}
		ks.static = append(ks.static, k)
	}
	if len(ks.static) == 0 {
		return nil, ErrNoKeys
	}
	return ks, nil
}

func parsePEMBlock(b *pem.Block) (crypto.PublicKey, error) {
	var k any
	var err error
	switch b.Type {
	case "PUBLIC KEY":
		k, err = x509.ParsePKIXPublicKey(b.Bytes)
	case "RSA PUBLIC KEY":
		k, err = x509.ParsePKCS1PublicKey(b.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(b.Bytes); err == nil {
			k = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("PEM block %q: want PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE", b.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("PEM block %q: %w", b.Type, err)
	}
	return checkKey(k)
}

// checkKey accepts the key types and sizes the gateway verifies with.
func checkKey(k any) (crypto.PublicKey, error) {
	switch k := k.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() >= 2048 {
			return k, nil
		}
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return k, nil
		}
	}
	return nil, errUnsupported
}

// jwk is the part of a JSON Web Key (RFC 7517) the gateway reads.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Crv string `json:"crv"`
	N   string `json:"n"`
	E   string `json:"e"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// SetJWKS replaces the set's JWKS keys with those of doc, a JWK Set
// ({"keys":[...]}). Keys of other types or uses are skipped; a document
// with no usable key is an error and changes nothing.
func (ks *KeySet) SetJWKS(doc []byte) error {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		return fmt.Errorf("JWKS: %w", err)
	}
	m := make(map[string]crypto.PublicKey, len(set.Keys))
	var errs []error
	for i, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		pk, err := k.publicKey()
		if err != nil {
			errs = append(errs, fmt.Errorf("JWKS key %d (kid %q): %w", i, k.Kid, err))
			continue
		}
		m[k.Kid] = pk
	}
	if len(m) == 0 {
		return errors.Join(append(errs, ErrNoKeys)...)
	}
	ks.jwks.Store(&m)
	return nil
}

func (k *jwk) publicKey() (crypto.PublicKey, error) {
	b64 := base64.RawURLEncoding
	switch k.Kty {
	case "RSA":
		n, err1 := b64.DecodeString(k.N)
		e, err2 := b64.DecodeString(k.E)
		if err := errors.Join(err1, err2); err != nil || len(e) == 0 || len(e) > 4 {
			return nil, fmt.Errorf("bad RSA n or e")
		}
		exp := new(big.Int).SetBytes(e)
		return checkKey(&rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp.Int64())})
	case "EC":
		if k.Crv != "P-256" {
			return nil, errUnsupported
		}
		x, err1 := b64.DecodeString(k.X)
		y, err2 := b64.DecodeString(k.Y)
		if err := errors.Join(err1, err2); err != nil || len(x) != 32 || len(y) != 32 {
			return nil, fmt.Errorf("bad EC x or y")
		}
		pk, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, err
		}
		return pk, nil
	}
	return nil, errUnsupported
}

// keysFor returns the keys that may verify a token signed with alg
// (RS256 or ES256) and naming kid: the JWKS key of that kid, or, without
// a kid, every key of the algorithm's type.
func (ks *KeySet) keysFor(alg, kid string) (jwt.VerificationKeySet, error) {
	var m map[string]crypto.PublicKey
	if p := ks.jwks.Load(); p != nil {
		m = *p
	}
	var set jwt.VerificationKeySet
	if kid != "" {
		if k, ok := m[kid]; ok && keyFits(k, alg) {
			set.Keys = append(set.Keys, k)
			return set, nil
		}
	}
	for _, k := range ks.static {
		if keyFits(k, alg) {
			set.Keys = append(set.Keys, k)
		}
	}
	if kid == "" {
		for _, k := range m {
			if keyFits(k, alg) {
				set.Keys = append(set.Keys, k)
			}
		}
	}
	if len(set.Keys) == 0 {
		return set, errUnknownKey
	}
	return set, nil
}

func keyFits(k crypto.PublicKey, alg string) bool {
	switch k.(type) {
	case *rsa.PublicKey:
		return alg == jwt.SigningMethodRS256.Alg()
	case *ecdsa.PublicKey:
		return alg == jwt.SigningMethodES256.Alg()
	}
	return false
}

// Len is the number of keys in the set. Any goroutine may call it.
func (ks *KeySet) Len() int {
	n := len(ks.static)
	if p := ks.jwks.Load(); p != nil {
		n += len(*p)
	}
	return n
}
