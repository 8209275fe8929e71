package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/auth"
)

// Keys are stored as hashes only; a revoked key stops working; the file
// survives a reopen.
func TestKeyStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	s, err := auth.OpenKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	secret, k, err := s.Create("ward 7 sidebar", orthocds.RoleClinician)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, auth.KeyPrefix) || len(secret) < 40 {
		t.Errorf("secret %q", secret)
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), strings.TrimPrefix(secret, auth.KeyPrefix)) {
		t.Error("the key file holds the secret")
	}
	s2, err := auth.OpenKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := s2.Lookup(secret); !ok || got.Role != orthocds.RoleClinician || got.ID != k.ID {
		t.Errorf("lookup after reopen: %+v %v", got, ok)
	}
	if _, ok := s2.Lookup(secret + "x"); ok {
		t.Error("a wrong key was found")
	}
	if err := s2.Revoke(k.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := s2.Lookup(secret); ok {
		t.Error("a revoked key still works")
	}
	if _, _, err := s2.Create("x", "root"); orthocds.ErrorCode(err) != orthocds.EINVALID {
		t.Errorf("unknown role: %v", err)
	}
}

// idp is a mock identity provider: discovery, JWKS and token signing.
type idp struct {
	srv *httptest.Server
	key jwk.Key
}

func newIdP(t *testing.T) *idp {
	raw, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	key, _ := jwk.Import(raw)
	key.Set(jwk.KeyIDKey, "idp-1")
	key.Set(jwk.AlgorithmKey, jwa.ES256())
	pub, _ := key.PublicKey()
	set := jwk.NewSet()
	set.AddKey(pub)
	p := &idp{key: key}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": p.srv.URL, "jwks_uri": p.srv.URL + "/jwks"})
		case "/jwks":
			json.NewEncoder(w).Encode(set)
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) token(t *testing.T, aud string, claims map[string]any) string {
	b := jwt.NewBuilder().Issuer(p.srv.URL).Audience([]string{aud}).Subject("u123").IssuedAt(time.Now()).Expiration(time.Now().Add(time.Hour))
	for k, v := range claims {
		b = b.Claim(k, v)
	}
	tok, _ := b.Build()
	s, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256(), p.key))
	if err != nil {
		t.Fatal(err)
	}
	return string(s)
}

// The authenticator admits API keys and identity-provider tokens, maps
// roles, and refuses what it cannot verify.
func TestAuthenticator(t *testing.T) {
	keys, _ := auth.OpenKeys(filepath.Join(t.TempDir(), "keys.json"))
	p := newIdP(t)
	oidc, err := auth.NewOIDC(context.Background(), auth.OIDCConfig{Issuer: p.srv.URL, Audience: "orthocds", RoleClaim: "groups"})
	if err != nil {
		t.Fatal(err)
	}
	a := &auth.Authenticator{Keys: keys, OIDC: oidc, Open: true}
	student, _, _ := keys.Create("class of 2027", orthocds.RoleStudent)
	req := func(h, v string) *http.Request {
		r := httptest.NewRequest("GET", "/v1/search", nil)
		if h != "" {
			r.Header.Set(h, v)
		}
		return r
	}
	cases := []struct {
		name string
		r    *http.Request
		role orthocds.Role
		code string
	}{
		{"no credentials with keys configured", req("", ""), "", orthocds.EUNAUTHORIZED},
		{"API key", req("Authorization", "Bearer "+student), orthocds.RoleStudent, ""},
		{"API key header", req("X-API-Key", student), orthocds.RoleStudent, ""},
		{"unknown key", req("Authorization", "Bearer "+auth.KeyPrefix+"nope"), "", orthocds.EUNAUTHORIZED},
		{"IdP clinician", req("Authorization", "Bearer "+p.token(t, "orthocds", map[string]any{"groups": []string{"staff", "orthocds-clinician"}})), orthocds.RoleClinician, ""},
		{"IdP most privileged wins", req("Authorization", "Bearer "+p.token(t, "orthocds", map[string]any{"groups": []string{"student", "admin"}})), orthocds.RoleAdmin, ""},
		{"IdP no role", req("Authorization", "Bearer "+p.token(t, "orthocds", map[string]any{"groups": []string{"staff"}})), "", orthocds.EFORBIDDEN},
		{"IdP wrong audience", req("Authorization", "Bearer "+p.token(t, "other-app", map[string]any{"groups": "clinician"})), "", orthocds.EUNAUTHORIZED},
		{"garbage token", req("Authorization", "Bearer not-a-token"), "", orthocds.EUNAUTHORIZED},
	}
	for _, tc := range cases {
		got, err := a.Authenticate(tc.r)
		if orthocds.ErrorCode(err) != tc.code && !(tc.code == "" && err == nil) || got.Role != tc.role {
			t.Errorf("%s: %+v, %v; want role %q, error %q", tc.name, got, err, tc.role, tc.code)
		}
	}
	// With nothing configured, a local install is open to its one user.
	open := &auth.Authenticator{Open: true}
	if got, err := open.Authenticate(req("", "")); err != nil || got.Role != orthocds.RoleAdmin {
		t.Errorf("open install: %+v %v", got, err)
	}
}
