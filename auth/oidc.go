package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/orthocds/orthocds"
)

// OIDCConfig names the hospital's identity provider.
type OIDCConfig struct {
	Issuer   string // e.g. https://sso.hospital.example/realms/main
	Audience string // the client ID OrthoCDS is registered as
	// RoleClaim is the claim holding the user's roles or groups (a string
	// or an array); default "roles". A value equal to a role name, or to
	// "orthocds-" followed by one, grants that role; with several, the
	// most privileged wins (admin, clinician, evaluator, student).
	RoleClaim string
	HTTP      *http.Client
}

// OIDC verifies ID or access tokens signed by the identity provider.
type OIDC struct {
	cfg     OIDCConfig
	jwksURI string
	mu      sync.Mutex
	set     jwk.Set
	fetched time.Time
}

// NewOIDC reads the provider's discovery document.
func NewOIDC(ctx context.Context, cfg OIDCConfig) (*OIDC, error) {
	if cfg.RoleClaim == "" {
		cfg.RoleClaim = "roles"
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 5 * time.Second}
	}
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, orthocds.Invalid("ORTHOCDS_OIDC_ISSUER", "an identity provider needs an issuer and an audience")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(cfg.Issuer, "/")+"/.well-known/openid-configuration", nil)
	if err != nil {
		return nil, orthocds.Invalid("ORTHOCDS_OIDC_ISSUER", "is not a URL")
	}
	resp, err := cfg.HTTP.Do(req)
	if err != nil {
		return nil, orthocds.Unavailable(err, "the identity provider is not reachable")
	}
	defer resp.Body.Close()
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&disc) != nil || disc.JWKSURI == "" {
		return nil, orthocds.Errorf(orthocds.EUNAVAILABLE, "the identity provider's discovery document is missing or has no jwks_uri")
	}
	if strings.TrimSuffix(disc.Issuer, "/") != strings.TrimSuffix(cfg.Issuer, "/") {
		return nil, orthocds.Errorf(orthocds.EINVALID, "the discovery document names issuer %q, not %q", disc.Issuer, cfg.Issuer)
	}
	return &OIDC{cfg: cfg, jwksURI: disc.JWKSURI}, nil
}

// keys returns the provider's key set, refetched every ten minutes.
func (o *OIDC) keys(ctx context.Context, refresh bool) (jwk.Set, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.set != nil && !refresh && time.Since(o.fetched) < 10*time.Minute {
		return o.set, nil
	}
	set, err := jwk.Fetch(ctx, o.jwksURI, jwk.WithHTTPClient(o.cfg.HTTP))
	if err != nil {
		return nil, orthocds.Unavailable(err, "the identity provider's keys could not be fetched")
	}
	o.set, o.fetched = set, time.Now()
	return set, nil
}

// rank orders roles from least to most privileged.
var rank = []orthocds.Role{orthocds.RoleStudent, orthocds.RoleInstructor, orthocds.RoleEvaluator, orthocds.RoleClinician, orthocds.RoleAdmin}

// Verify checks a token and returns its user and role.
func (o *OIDC) Verify(ctx context.Context, token string) (orthocds.Principal, error) {
	set, err := o.keys(ctx, false)
	if err != nil {
		return orthocds.Principal{}, err
	}
	opts := []jwt.ParseOption{jwt.WithValidate(true), jwt.WithIssuer(o.cfg.Issuer), jwt.WithAudience(o.cfg.Audience),
		jwt.WithRequiredClaim("exp"), jwt.WithRequiredClaim("sub"), jwt.WithAcceptableSkew(30 * time.Second)}
	t, err := jwt.Parse([]byte(token), append(opts, jwt.WithKeySet(set))...)
	if err != nil {
		// A key rotated since the last fetch: fetch once more.
		if set, ferr := o.keys(ctx, true); ferr == nil {
			t, err = jwt.Parse([]byte(token), append(opts, jwt.WithKeySet(set))...)
		}
	}
	if err != nil {
		return orthocds.Principal{}, orthocds.Errorf(orthocds.EUNAUTHORIZED, "the identity-provider token is not valid")
	}
	sub, _ := t.Subject()
	var claim any
	if err := t.Get(o.cfg.RoleClaim, &claim); err != nil {
		return orthocds.Principal{}, orthocds.Errorf(orthocds.EFORBIDDEN, "the token has no %q claim granting an OrthoCDS role", o.cfg.RoleClaim)
	}
	var values []string
	switch v := claim.(type) {
	case string:
		values = strings.Fields(v)
	case []any:
		for _, x := range v {
			values = append(values, fmt.Sprint(x))
		}
	}
	best := -1
	for _, v := range values {
		r := orthocds.Role(strings.TrimPrefix(strings.ToLower(v), "orthocds-"))
		if i := slices.Index(rank, r); i > best {
			best = i
		}
	}
	if best < 0 {
		return orthocds.Principal{}, orthocds.Errorf(orthocds.EFORBIDDEN, "the token's %q claim grants no OrthoCDS role", o.cfg.RoleClaim)
	}
	return orthocds.Principal{ID: "oidc:" + sub, Role: rank[best]}, nil
}
