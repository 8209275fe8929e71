package cdshooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/orthocds/orthocds"
)

// TrustedClient is a CDS client allowed to call: its issuer, where its
// public keys are (a JWK Set given out of band, and the jku URLs it may
// name in its tokens), and the FHIR servers its requests may have us read
// from.
type TrustedClient struct {
	Issuer      string          `json:"iss"`
	JWKS        json.RawMessage `json:"jwks,omitempty"`
	JKU         []string        `json:"jku,omitempty"`
	FHIRServers []string        `json:"fhirServers,omitempty"`
}

// Client is a CDS client whose JWT verified.
type Client struct {
	Issuer string
	// FHIRServers are the FHIR base URLs (canonical) its requests may name.
	FHIRServers []string
}

// Verifier checks CDS clients' JWTs as the specification asks: signed with
// an asymmetric algorithm (never none, never HMAC), typ JWT, a kid, an
// issuer on the allow-list, aud the endpoint called, exp in the future,
// iat and jti present, and a jti never seen before.
type Verifier struct {
	clients map[string]trusted
	http    *http.Client
	now     func() time.Time

	mu     sync.Mutex
	seen   map[string]time.Time // issuer + jti -> expiry
	pruned time.Time            // when expired jtis were last dropped
	sets   map[string]cachedSet // jku -> keys
}

type trusted struct {
	set  jwk.Set
	jku  []string
	fhir []string
}

type cachedSet struct {
	set     jwk.Set
	fetched time.Time
}

// allowedAlgs are the asymmetric JWS algorithms accepted.
var allowedAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// jkuTTL is how long keys fetched from a jku are trusted before refetching.
const jkuTTL = 5 * time.Minute

// maxLifetime bounds exp - iat: a token valid for days could be replayed
// after the jti cache forgot it.
const maxLifetime = time.Hour

// NewVerifier returns a verifier for the trusted clients; hc fetches jku
// key sets (nil: 5 s timeout); now nil is time.Now.
func NewVerifier(clients []TrustedClient, hc *http.Client, now func() time.Time) (*Verifier, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	v := &Verifier{clients: map[string]trusted{}, http: hc, now: now, seen: map[string]time.Time{}, sets: map[string]cachedSet{}}
	for i, c := range clients {
		if c.Issuer == "" {
			return nil, orthocds.Invalid(fmt.Sprintf("/%d/iss", i), "each trusted client needs an issuer")
		}
		fhir, err := ParseFHIRServers(fmt.Sprintf("/%d/fhirServers", i), c.FHIRServers)
		if err != nil {
			return nil, err
		}
		t := trusted{jku: c.JKU, fhir: fhir}
		if len(c.JWKS) > 0 {
			set, err := jwk.Parse(c.JWKS)
			if err != nil {
				return nil, orthocds.Invalid(fmt.Sprintf("/%d/jwks", i), "is not a JWK Set: %v", err)
			}
			t.set = set
		}
		if t.set == nil && len(t.jku) == 0 {
			return nil, orthocds.Invalid(fmt.Sprintf("/%d", i), "a trusted client needs jwks or jku")
		}
		v.clients[c.Issuer] = t
	}
	return v, nil
}

// LoadClients reads the trusted clients from a JSON file.
func LoadClients(path string) ([]TrustedClient, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cs []TrustedClient
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cs); err != nil {
		return nil, orthocds.Invalid(path, "is not a JSON array of trusted clients: %v", err)
	}
	return cs, nil
}

func unauthorized(format string, args ...any) error {
	return orthocds.Errorf(orthocds.EUNAUTHORIZED, format, args...)
}

// Trusts reports whether the Authorization header carries a JWT that
// claims to come from a trusted client. The claim is not verified: it
// only says that Verify, not the user authentication, is to judge it.
func (v *Verifier) Trusts(authorization string) bool {
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok {
		return false
	}
	msg, err := jws.Parse([]byte(token))
	if err != nil || len(msg.Signatures()) != 1 {
		return false
	}
	var claims struct {
		Issuer string `json:"iss"`
	}
	if json.Unmarshal(msg.Payload(), &claims) != nil {
		return false
	}
	_, ok = v.clients[claims.Issuer]
	return ok
}

// Verify checks the Authorization header of a call to aud and returns the
// client that signed it.
func (v *Verifier) Verify(ctx context.Context, authorization, aud string) (Client, error) {
	iss, err := v.verify(ctx, authorization, aud)
	if err != nil {
		return Client{}, err
	}
	return Client{Issuer: iss, FHIRServers: v.clients[iss].fhir}, nil
}

func (v *Verifier) verify(ctx context.Context, authorization, aud string) (issuer string, err error) {
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return "", unauthorized("a CDS client JWT is required: Authorization: Bearer <JWT>")
	}
	msg, err := jws.Parse([]byte(token))
	if err != nil || len(msg.Signatures()) != 1 {
		return "", unauthorized("the JWT is not a compact JWS")
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	alg, _ := h.Algorithm()
	if !slices.Contains(allowedAlgs, alg.String()) {
		return "", unauthorized("JWT algorithm %q is not accepted; use an asymmetric algorithm such as ES384 or RS384", alg.String())
	}
	if typ, _ := h.Type(); typ != "JWT" {
		return "", unauthorized("JWT header typ must be JWT")
	}
	if kid, _ := h.KeyID(); kid == "" {
		return "", unauthorized("JWT header kid is required")
	}
	var claims struct {
		Issuer string `json:"iss"`
	}
	if err := json.Unmarshal(msg.Payload(), &claims); err != nil || claims.Issuer == "" {
		return "", unauthorized("the JWT has no iss")
	}
	client, ok := v.clients[claims.Issuer]
	if !ok {
		return "", orthocds.Errorf(orthocds.EFORBIDDEN, "issuer %q is not a trusted CDS client", claims.Issuer)
	}
	set := client.set
	if jku, ok := h.JWKSetURL(); ok && jku != "" {
		if !slices.Contains(client.jku, jku) {
			return "", unauthorized("jku %q is not on this client's allow-list", jku)
		}
		if set, err = v.fetch(ctx, jku); err != nil {
			return "", err
		}
	}
	if set == nil {
		return "", unauthorized("this client's keys must come from an allowed jku")
	}
	// Keys without an "alg" member (it is optional in a JWK) are matched by
	// key type; the header's alg was already held to allowedAlgs.
	t, err := jwt.Parse([]byte(token),
		jwt.WithKeySet(set, jws.WithRequireKid(true), jws.WithInferAlgorithmFromKey(true)),
		jwt.WithValidate(true), jwt.WithClock(jwt.ClockFunc(v.now)), jwt.WithAcceptableSkew(30*time.Second),
		jwt.WithAudience(aud), jwt.WithIssuer(claims.Issuer),
		jwt.WithRequiredClaim("exp"), jwt.WithRequiredClaim("iat"), jwt.WithRequiredClaim("jti"))
	if err != nil {
		return "", unauthorized("the JWT is not valid: %s", reason(err))
	}
	exp, _ := t.Expiration()
	iat, _ := t.IssuedAt()
	if exp.Sub(iat) > maxLifetime {
		return "", unauthorized("the JWT lives longer than %s (exp - iat)", maxLifetime)
	}
	jti, _ := t.JwtID()
	key := claims.Issuer + "\x00" + jti
	v.mu.Lock()
	defer v.mu.Unlock()
	// Expired jtis can never be replayed (exp is checked first); drop them
	// once a minute, not on every call.
	if now := v.now(); now.Sub(v.pruned) > time.Minute {
		for k, until := range v.seen {
			if until.Before(now.Add(-time.Minute)) {
				delete(v.seen, k)
			}
		}
		v.pruned = now
	}
	if _, replay := v.seen[key]; replay {
		return "", unauthorized("jti %q was already used: a replayed JWT", jti)
	}
	v.seen[key] = exp
	return claims.Issuer, nil
}

// reason names what failed without echoing the token.
func reason(err error) string {
	switch {
	case errors.Is(err, jwt.InvalidAudienceError()):
		return "aud is not this endpoint"
	case errors.Is(err, jwt.TokenExpiredError()):
		return "expired"
	case errors.Is(err, jwt.InvalidIssuedAtError()), errors.Is(err, jwt.TokenNotYetValidError()):
		return "issued in the future"
	case errors.Is(err, jwt.MissingRequiredClaimError()):
		return "a required claim (exp, iat, jti) is missing"
	case errors.Is(err, jwt.ValidateError()):
		return "a claim does not validate"
	}
	return "signature does not verify with the client's keys"
}

func (v *Verifier) fetch(ctx context.Context, jku string) (jwk.Set, error) {
	v.mu.Lock()
	c, ok := v.sets[jku]
	v.mu.Unlock()
	if ok && v.now().Sub(c.fetched) < jkuTTL {
		return c.set, nil
	}
	set, err := jwk.Fetch(ctx, jku, jwk.WithHTTPClient(v.http))
	if err != nil {
		return nil, unauthorized("the client's JWK Set at its jku could not be fetched")
	}
	v.mu.Lock()
	v.sets[jku] = cachedSet{set: set, fetched: v.now()}
	v.mu.Unlock()
	return set, nil
}
