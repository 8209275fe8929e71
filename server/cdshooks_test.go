package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/orthocds/orthocds/cdshooks"
	"github.com/orthocds/orthocds/predictors"
	"github.com/orthocds/orthocds/predictors/shipped"
)

// cdsServer serves the CDS services open (no authentication, as the
// loopback demo), reading from the FHIR servers named.
func cdsServer(t *testing.T, fhirServers ...string) (*httptest.Server, *cdshooks.FileFeedback) {
	arts, err := shipped.Artefacts()
	if err != nil {
		t.Fatal(err)
	}
	preds, err := predictors.NewService(arts)
	if err != nil {
		t.Fatal(err)
	}
	fb := &cdshooks.FileFeedback{Path: filepath.Join(t.TempDir(), "feedback.jsonl")}
	hooks := cdshooks.New(cdshooks.Config{Guidelines: setup(t).Corpus, Predictors: preds, Feedback: fb, FHIRServers: fhirServers})
	ts := httptest.NewServer(New(Config{CDSHooks: hooks, CDSOpen: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	t.Cleanup(ts.Close)
	return ts, fb
}

// The specification's examples against our services over HTTP: discovery;
// its patient-view request (fhirServer, fhirAuthorization, context and a
// prefetch key we did not ask for) with fhirServer pointing at a FHIR
// server holding a synthetic patient; the same request with no FHIR
// server (412); and feedback.
func TestCDSHooksOverHTTP(t *testing.T) {
	fhir, _ := syntheticFHIRServer(t, "syn-03", "1288992")
	ts, fb := cdsServer(t, fhir.URL)

	resp, err := http.Get(ts.URL + "/cds-services")
	if err != nil {
		t.Fatal(err)
	}
	var disc struct {
		Services []map[string]any `json:"services"`
	}
	json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(disc.Services) < 4 || resp.Header.Get("Access-Control-Allow-Origin") == "" {
		t.Fatalf("discovery: %d, %d services, CORS %q", resp.StatusCode, len(disc.Services), resp.Header.Get("Access-Control-Allow-Origin"))
	}
	hooks := map[string]bool{}
	for _, s := range disc.Services {
		for _, f := range []string{"hook", "description", "id"} {
			if s[f] == nil || s[f] == "" {
				t.Errorf("service %v lacks %s", s["id"], f)
			}
		}
		hooks[s["hook"].(string)] = true
	}
	for _, h := range []string{"patient-view", "order-select", "order-sign"} {
		if !hooks[h] {
			t.Errorf("no service for %s", h)
		}
	}

	example := `{
  "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
  "fhirServer": "` + fhir.URL + `",
  "hook": "patient-view",
  "fhirAuthorization": {
    "access_token": "some-opaque-fhir-access-token",
    "token_type": "Bearer",
    "expires_in": 300,
    "scope": "user/Patient.read user/Observation.read",
    "subject": "cds-service4"
  },
  "context": {
    "userId": "Practitioner/example",
    "patientId": "1288992",
    "encounterId": "89284"
  },
  "prefetch": {
    "patientToGreet": {
      "resourceType": "Patient",
      "gender": "male",
      "birthDate": "1925-12-23",
      "id": "1288992",
      "active": true
    }
  }
}`
	resp, body := post(t, ts.URL+"/cds-services/"+cdshooks.OsteoporosisID, example)
	if resp.StatusCode != 200 {
		t.Fatalf("patient-view example: %d %s", resp.StatusCode, body)
	}
	var cards cdshooks.Response
	json.Unmarshal(body, &cards)
	if len(cards.Cards) == 0 || !strings.Contains(string(body), "Very high fracture risk") {
		t.Errorf("cards for the example request: %s", body)
	}

	noServer := strings.Replace(strings.Replace(example, `"fhirServer": "`+fhir.URL+`",`, "", 1), `"fhirAuthorization": {`, `"x": {`, 1)
	resp, body = post(t, ts.URL+"/cds-services/"+cdshooks.OsteoporosisID, noServer)
	if resp.StatusCode != http.StatusPreconditionFailed || !strings.Contains(resp.Header.Get("Content-Type"), "problem+json") {
		t.Errorf("without prefetch or FHIR server: %d %s", resp.StatusCode, body)
	}

	for _, ex := range []string{
		`{"feedback":[{"card":"4e0a3a1e-3283-4575-ab82-028d55fe2719","outcome":"accepted","acceptedSuggestions":[{"id":"e56e1945-20b3-4393-8503-a1a20fd73152"}],"outcomeTimestamp":"2021-12-11T10:05:31Z"}]}`,
		`{"feedback":[{"card":"9368d37b-283f-44a0-93ea-547cebab93ed","outcome":"overridden","overrideReason":{"reason":{"code":"d7ecf885","system":"https://example.com/cds-hooks/override-reason-system"},"userComment":"A comment entered by the clinician."},"outcomeTimestamp":"2020-12-11T00:00:00Z"}]}`,
	} {
		resp, body := post(t, ts.URL+"/cds-services/"+cdshooks.OsteoporosisID+"/feedback", ex)
		if resp.StatusCode != 200 {
			t.Errorf("feedback: %d %s", resp.StatusCode, body)
		}
	}
	if got, _ := fb.ReadFeedback(); len(got) != 2 {
		t.Errorf("%d feedback records stored, want 2", len(got))
	}
}

// syntheticFHIRServer serves one synthetic patient under the id given
// to callers with the specification's example token; it is closed with
// the test.
func syntheticFHIRServer(t *testing.T, patientID, servedAs string) (*httptest.Server, map[string][]json.RawMessage) {
	ps, _ := cdshooks.SyntheticPatients()
	var p cdshooks.SyntheticPatient
	for _, x := range ps {
		if x.ID == patientID {
			p = x
		}
	}
	rs, err := p.Resources()
	if err != nil {
		t.Fatal(err)
	}
	fhir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer some-opaque-fhir-access-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		typ := strings.Trim(r.URL.Path, "/")
		if typ == "Patient/"+servedAs {
			w.Write(rs["Patient"][0])
			return
		}
		if r.URL.Query().Get("patient") != servedAs {
			w.Write(cdshooks.SearchSet(nil))
			return
		}
		w.Write(cdshooks.SearchSet(rs[typ]))
	}))
	t.Cleanup(fhir.Close)
	return fhir, rs
}

// Malformed hook requests, unknown services and hooks, and absurd FHIR
// values get 4xx problem JSON naming the field; never a 500.
func TestCDSHooksBadRequestsOverHTTP(t *testing.T) {
	ts, _ := cdsServer(t)
	ok := `{"hook":"patient-view","hookInstance":"x","context":{"patientId":"1"},"prefetch":{"patient":null,"observations":null,"conditions":null,"medications":null}}`
	resp, body := post(t, ts.URL+"/cds-services/"+cdshooks.OsteoporosisID, ok)
	if resp.StatusCode != 200 || string(body) != "{\"cards\":[]}\n" {
		t.Errorf("a patient with no data: %d %s (want no cards)", resp.StatusCode, body)
	}
	cases := []struct {
		path, body string
		status     int
		field      string
	}{
		{cdshooks.OsteoporosisID, `{"hook":`, 400, ""},
		{cdshooks.OsteoporosisID, `[1,2]`, 422, ""},
		{cdshooks.OsteoporosisID, `{"hook":"patient-view","hookInstance":"x","context":"Patient/1"}`, 422, "/context"},
		{cdshooks.OsteoporosisID, `{"hook":"encounter-start","hookInstance":"x","context":{"patientId":"1"}}`, 422, "/hook"},
		{cdshooks.OsteoporosisID, `{"hook":"patient-view","context":{"patientId":"1"}}`, 422, "/hookInstance"},
		{cdshooks.OsteoporosisID, strings.Replace(ok, `"observations":null`, `"observations":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},"valueQuantity":{"value":-3,"code":"kg"}}`, 1), 422, "/prefetch/observations/valueQuantity/value"},
		{cdshooks.OsteoporosisID, strings.Replace(ok, `"conditions":null`, `"conditions":{"resourceType":"Condition","code":{"text":"x"},"onsetDateTime":"not a date"}`, 1), 422, "/prefetch/conditions/onsetDateTime"},
		{cdshooks.OsteoporosisID, strings.Replace(ok, `"conditions":null`, `"conditions":{"resourceType":"Bundle","entry":"none"}`, 1), 422, "/prefetch/conditions"},
		{"no-such-service", ok, 404, ""},
		{cdshooks.VTEID, strings.Replace(ok, "patient-view", "order-sign", 1), 422, "/context/draftOrders"},
	}
	for _, tc := range cases {
		resp, body := post(t, ts.URL+"/cds-services/"+tc.path, tc.body)
		var p Problem
		json.Unmarshal(body, &p)
		if resp.StatusCode != tc.status || p.Field != tc.field {
			t.Errorf("%.60s: %d field %q, want %d field %q (%s)", tc.body, resp.StatusCode, p.Field, tc.status, tc.field, body)
		}
	}
	big := `{"hook":"patient-view","hookInstance":"x","context":{"patientId":"1"},"pad":"` + strings.Repeat("x", cdshooks.MaxRequestBytes) + `"}`
	if resp, _ := post(t, ts.URL+"/cds-services/"+cdshooks.OsteoporosisID, big); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 8 MiB body: %d", resp.StatusCode)
	}
}

// With trusted clients configured, a call without a JWT is refused with
// 401 problem JSON, and one with a valid JWT whose aud is the endpoint
// called is answered.
func TestCDSClientJWT(t *testing.T) {
	raw, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	key, _ := jwk.Import(raw)
	key.Set(jwk.KeyIDKey, "k1")
	pub, _ := key.PublicKey()
	set := jwk.NewSet()
	set.AddKey(pub)
	keys, _ := json.Marshal(set)
	v, err := cdshooks.NewVerifier([]cdshooks.TrustedClient{{Issuer: "https://ehr.example.org", JWKS: keys}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	hooks := cdshooks.New(cdshooks.Config{Guidelines: setup(t).Corpus})
	ts := httptest.NewServer(New(Config{CDSHooks: hooks, CDSClients: v, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer ts.Close()
	get := func(auth string) int {
		req, _ := http.NewRequest("GET", ts.URL+"/cds-services", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(""); code != http.StatusUnauthorized {
		t.Errorf("no JWT: %d", code)
	}
	sign := func(aud, jti string) string {
		tok, _ := jwt.NewBuilder().Issuer("https://ehr.example.org").Audience([]string{aud}).IssuedAt(time.Now()).
			Expiration(time.Now().Add(time.Minute)).JwtID(jti).Build()
		h := jws.NewHeaders()
		h.Set(jws.TypeKey, "JWT")
		b, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256(), key, jws.WithProtectedHeaders(h)))
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + string(b)
	}
	if code := get(sign(ts.URL+"/cds-services", "a")); code != http.StatusOK {
		t.Errorf("valid JWT: %d", code)
	}
	if code := get(sign(ts.URL+"/cds-services/other", "b")); code != http.StatusUnauthorized {
		t.Errorf("JWT for another endpoint: %d", code)
	}
}
