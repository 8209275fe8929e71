package cdshooks_test

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
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/cdshooks"
)

const (
	iss = "https://fhir-ehr.example.com/"
	aud = "https://cds.example.org/cds-services/orthocds-osteoporosis"
)

type signer struct {
	t   *testing.T
	key jwk.Key
	pub jwk.Set
}

func newSigner(t *testing.T, kid string) signer {
	raw, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	key.Set(jwk.KeyIDKey, kid)
	key.Set(jwk.AlgorithmKey, jwa.ES384())
	pub, err := key.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	set := jwk.NewSet()
	set.AddKey(pub)
	return signer{t: t, key: key, pub: set}
}

// token signs claims with the signer's key; edit may change the headers.
func (s signer) token(claims map[string]any, edit func(h jws.Headers)) string {
	b := jwt.NewBuilder()
	for k, v := range claims {
		b = b.Claim(k, v)
	}
	tok, err := b.Build()
	if err != nil {
		s.t.Fatal(err)
	}
	h := jws.NewHeaders()
	h.Set(jws.TypeKey, "JWT")
	if edit != nil {
		edit(h)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES384(), s.key, jws.WithProtectedHeaders(h)))
	if err != nil {
		s.t.Fatal(err)
	}
	return "Bearer " + string(signed)
}

// CDS client JWTs are verified as the specification says; each departure
// is refused with 401 (or 403 for an issuer not trusted), and a replayed
// jti is refused.
func TestVerifier(t *testing.T) {
	now := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	good := newSigner(t, "example-kid")
	other := newSigner(t, "example-kid") // same kid, another key
	jkuSigner := newSigner(t, "jku-kid")
	keys, _ := json.Marshal(good.pub)
	jkuKeys, _ := json.Marshal(jkuSigner.pub)
	jkuSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(jkuKeys) }))
	defer jkuSrv.Close()
	v, err := cdshooks.NewVerifier([]cdshooks.TrustedClient{
		{Issuer: iss, JWKS: keys},
		{Issuer: "https://jku-ehr.example.com/", JKU: []string{jkuSrv.URL + "/jwks"}},
	}, jkuSrv.Client(), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	claims := func(edit func(map[string]any)) map[string]any {
		n++
		c := map[string]any{"iss": iss, "aud": aud, "exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(),
			"jti": "jti-" + time.Duration(n).String(), "tenant": "2ddd6c3a-8e9a-44c6-a305-52111ad302a2"}
		if edit != nil {
			edit(c)
		}
		return c
	}
	ctx := context.Background()
	if _, err := v.Verify(ctx, good.token(claims(nil), nil), aud); err != nil {
		t.Fatalf("a good token: %v", err)
	}
	withKid := func(h jws.Headers) {}
	replayed := good.token(claims(nil), withKid)
	if _, err := v.Verify(ctx, replayed, aud); err != nil {
		t.Fatal(err)
	}
	jku := jkuSigner.token(claims(func(c map[string]any) { c["iss"] = "https://jku-ehr.example.com/" }),
		func(h jws.Headers) { h.Set(jws.JWKSetURLKey, jkuSrv.URL+"/jwks") })
	if _, err := v.Verify(ctx, jku, aud); err != nil {
		t.Errorf("a token whose keys come from an allowed jku: %v", err)
	}
	// An HMAC token, signed with a shared secret.
	hs, _ := jwt.NewBuilder().Issuer(iss).Audience([]string{aud}).Expiration(now.Add(time.Minute)).IssuedAt(now).JwtID("hs").Build()
	hsh := jws.NewHeaders()
	hsh.Set(jws.TypeKey, "JWT")
	hsh.Set(jws.KeyIDKey, "example-kid")
	hmac, _ := jwt.Sign(hs, jwt.WithKey(jwa.HS256(), []byte("shared-secret-shared-secret-32by"), jws.WithProtectedHeaders(hsh)))
	// alg none: header {"alg":"none","typ":"JWT","kid":"example-kid"}.
	none := "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIiwia2lkIjoiZXhhbXBsZS1raWQifQ.eyJpc3MiOiJodHRwczovL2ZoaXItZWhyLmV4YW1wbGUuY29tLyJ9."
	cases := []struct {
		name, auth string
		code       string
	}{
		{"no header", "", orthocds.EUNAUTHORIZED},
		{"not bearer", "Basic dXNlcjpwYXNz", orthocds.EUNAUTHORIZED},
		{"garbage", "Bearer not.a.jwt", orthocds.EUNAUTHORIZED},
		{"replayed jti", replayed, orthocds.EUNAUTHORIZED},
		{"wrong aud", good.token(claims(func(c map[string]any) { c["aud"] = "https://cds.example.org/cds-services" }), nil), orthocds.EUNAUTHORIZED},
		{"expired", good.token(claims(func(c map[string]any) {
			c["exp"], c["iat"] = now.Add(-time.Hour).Unix(), now.Add(-2*time.Hour).Unix()
		}), nil), orthocds.EUNAUTHORIZED},
		{"no jti", good.token(claims(func(c map[string]any) { delete(c, "jti") }), nil), orthocds.EUNAUTHORIZED},
		{"no iat", good.token(claims(func(c map[string]any) { delete(c, "iat") }), nil), orthocds.EUNAUTHORIZED},
		{"lives a day", good.token(claims(func(c map[string]any) { c["exp"] = now.Add(24 * time.Hour).Unix() }), nil), orthocds.EUNAUTHORIZED},
		{"untrusted issuer", good.token(claims(func(c map[string]any) { c["iss"] = "https://evil.example.com/" }), nil), orthocds.EFORBIDDEN},
		{"signed by another key", other.token(claims(nil), nil), orthocds.EUNAUTHORIZED},
		{"typ not JWT", good.token(claims(nil), func(h jws.Headers) { h.Set(jws.TypeKey, "JOSE") }), orthocds.EUNAUTHORIZED},
		{"jku not allowed", good.token(claims(nil), func(h jws.Headers) { h.Set(jws.JWKSetURLKey, "https://evil.example.com/jwks") }), orthocds.EUNAUTHORIZED},
		{"HMAC", "Bearer " + string(hmac), orthocds.EUNAUTHORIZED},
		{"alg none", none, orthocds.EUNAUTHORIZED},
		// The specification's own example token: ES384, issued in 2011, long expired.
		{"specification example", "Bearer eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCIsImtpZCI6ImV4YW1wbGUta2lkIiwiamt1IjoiaHR0cHM6Ly9maGlyLWVoci5leGFtcGxlLmNvbS9qd2tfdXJpIn0.eyJpc3MiOiJodHRwczovL2ZoaXItZWhyLmV4YW1wbGUuY29tLyIsImF1ZCI6Imh0dHBzOi8vY2RzLmV4YW1wbGUub3JnL2Nkcy1zZXJ2aWNlcy9zb21lLXNlcnZpY2UiLCJleHAiOjE0MjI1Njg4NjAsImlhdCI6MTMxMTI4MDk3MCwianRpIjoiZWUyMmIwMjEtZTFiNy00NjExLWJhNWItOGVlYzZhMzNhYzFlIiwidGVuYW50IjoiMmRkZDZjM2EtOGU5YS00NGM2LWEzMDUtNTIxMTFhZDMwMmEyIn0.d1WfLjGRKlcWB94l9do4cM8REXeYJLL6SGUBO8VHZhfM8mwKYP70EMxJ67War4TQblEpaQrp11wx5p7oPFm2ETYgCicS84vXWEIYTdjooZdooCSDf2L8-i4awdoUwiEb", orthocds.EUNAUTHORIZED},
	}
	for _, tc := range cases {
		_, err := v.Verify(ctx, tc.auth, aud)
		t.Logf("%s: %v", tc.name, err)
		if orthocds.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
}

// A trusted client's FHIR servers come back with its verified JWT; a bad
// URL among them, or a misspelt member in the clients file, is refused
// naming it. Trusts routes by the claimed issuer alone.
func TestVerifierClientFHIRServers(t *testing.T) {
	now := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	s := newSigner(t, "k1")
	keys, _ := json.Marshal(s.pub)
	v, err := cdshooks.NewVerifier([]cdshooks.TrustedClient{{Issuer: iss, JWKS: keys, FHIRServers: []string{"https://FHIR.ehr.example.com/r4/"}}},
		nil, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	tok := s.token(map[string]any{"iss": iss, "aud": aud, "exp": now.Add(time.Minute).Unix(), "iat": now.Unix(), "jti": "a"}, nil)
	c, err := v.Verify(context.Background(), tok, aud)
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != iss || len(c.FHIRServers) != 1 || c.FHIRServers[0] != "https://fhir.ehr.example.com/r4" {
		t.Errorf("client %+v", c)
	}
	untrusted := s.token(map[string]any{"iss": "https://other.example.com/", "aud": aud, "exp": now.Add(time.Minute).Unix(), "iat": now.Unix(), "jti": "b"}, nil)
	for auth, want := range map[string]bool{tok: true, untrusted: false, "Bearer ocds_abc": false, "": false, "Bearer a.b.c": false} {
		if got := v.Trusts(auth); got != want {
			t.Errorf("Trusts(%.30q) = %v, want %v", auth, got, want)
		}
	}

	_, err = cdshooks.NewVerifier([]cdshooks.TrustedClient{{Issuer: iss, JWKS: keys, FHIRServers: []string{"https://ok.example.com", "https://user@fhir.example.com"}}}, nil, nil)
	if fieldOf(err) != "/0/fhirServers/1" {
		t.Errorf("a bad FHIR server: %v, want it named at /0/fhirServers/1", err)
	}
	path := filepath.Join(t.TempDir(), "clients.json")
	os.WriteFile(path, []byte(`[{"iss": "https://ehr.example.org", "jku": ["https://ehr.example.org/jwks"], "fhirServer": "https://ehr.example.org/fhir"}]`), 0o600)
	if _, err := cdshooks.LoadClients(path); orthocds.ErrorCode(err) != orthocds.EINVALID || !strings.Contains(orthocds.ErrorMessage(err), "fhirServer") {
		t.Errorf("a misspelt member: %v, want it named", err)
	}
}
