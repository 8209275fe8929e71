package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/answer"
	"github.com/orthocds/orthocds/auth"
	"github.com/orthocds/orthocds/cases"
	"github.com/orthocds/orthocds/cdshooks"
	"github.com/orthocds/orthocds/drills"
)

// FuzzAPI: any body to the JSON endpoints (search, ask, calculators, the
// drill steps) gets an answer or a 4xx problem, never a 5xx and never a
// crash.
func FuzzAPI(f *testing.F) {
	fx := setup(f)
	cs, err := cases.Load(cases.Embedded(), fx.Corpus)
	if err != nil {
		f.Fatal(err)
	}
	st, err := drills.OpenFileStore(filepath.Join(f.TempDir(), "attempts.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	ds := drills.New(drills.Config{Cases: cs, Store: st, Scope: fx.Analyzer, Corpus: fx.Corpus})
	att, err := ds.Start(context.Background(), orthocds.Principal{ID: "local", Role: orthocds.RoleAdmin}, "giop", "zh")
	if err != nil {
		f.Fatal(err)
	}
	s := New(Config{Search: fx.Retriever, Answer: answer.New(fx.Retriever, fx.Analyzer, nil, nil, answer.DefaultConfig),
		Guidelines: fx.Corpus, Drills: ds, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	drill := "/v1/drills/" + att.ID
	for _, seed := range []struct{ path, body string }{
		{"/v1/search", `{"queries":[{"text":"OSTA","k":3,"filter":{"langs":["zh"]}}]}`},
		{"/v1/ask", `{"question":"Can denosumab be stopped?","patient":{"age_years":70,"t_score":-2.6}}`},
		{"/v1/calculators/caprini", `{"age_years":68,"items":["elective-lower-extremity-arthroplasty"]}`},
		{"/v1/calculators/osta", `{"weight_kg":50,"age_years":70}`},
		{"/v1/drills", `{"case_id":"giop","lang":"zh"}`},
		{"/v1/drills/ask", `{"question":"您在服用激素吗？"}`},
		{"/v1/drills/order", `{"request":"骨密度"}`},
		{"/v1/drills/submit", `{"diagnosis":"糖皮质激素性骨质疏松","plan":"口服双膦酸盐"}`},
	} {
		f.Add(seed.path, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		switch path {
		case "/v1/search", "/v1/ask", "/v1/calculators/caprini", "/v1/calculators/osta", "/v1/calculators/t-score", "/v1/calculators/frax", "/v1/drills":
		case "/v1/drills/ask", "/v1/drills/order", "/v1/drills/submit":
			path = drill + strings.TrimPrefix(path, "/v1/drills")
		default:
			return
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body))))
		if rec.Code >= 500 {
			t.Fatalf("%s answered %d: %s", path, rec.Code, rec.Body.String())
		}
	})
}

// recordingTransport fails every request and counts it: a FHIR server no
// fuzzed call may reach.
type recordingTransport struct{ n atomic.Int64 }

func (rt *recordingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	rt.n.Add(1)
	return nil, errors.New("no network in fuzzing")
}

// FuzzCDSBoundary: with API keys and a trusted CDS client configured, no
// Authorization header a caller can make up gets a CDS call answered or
// any FHIR server contacted; each is refused with 401 or 403 (never a
// 5xx, never a crash).
func FuzzCDSBoundary(f *testing.F) {
	keys, err := auth.OpenKeys(filepath.Join(f.TempDir(), "keys.json"))
	if err != nil {
		f.Fatal(err)
	}
	keys.Create("sidebar", orthocds.RoleClinician)
	trusted := newCDSSigner(f, "https://ehr.hospital.example")
	forger := newCDSSigner(f, "https://ehr.hospital.example") // the trusted issuer's name, another key
	v, err := cdshooks.NewVerifier([]cdshooks.TrustedClient{{Issuer: trusted.iss, JWKS: trusted.jwks(),
		FHIRServers: []string{"https://fhir.hospital.example/r4"}}}, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	rt := &recordingTransport{}
	hooks := cdshooks.New(cdshooks.Config{Guidelines: setup(f).Corpus, FHIRServers: []string{"https://fhir.hospital.example/r4"},
		FHIR: cdshooks.NewFHIRClient(&http.Client{Transport: rt})})
	authn := &auth.Authenticator{Keys: keys, Open: true}
	s := New(Config{CDSHooks: hooks, CDSClients: v, Authenticate: authn.Authenticate, Logger: slog.New(slog.DiscardHandler)})
	body := `{"hook":"patient-view","hookInstance":"x","context":{"patientId":"1"},"fhirServer":"https://fhir.hospital.example/r4"}`
	for _, a := range []string{"", "Bearer ", "Bearer ocds_guess", "Basic dXNlcjpwdw==", forger.bearer("http://example.com/cds-services/" + cdshooks.OsteoporosisID),
		"Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJodHRwczovL2Voci5ob3NwaXRhbC5leGFtcGxlIn0."} {
		f.Add(a, []byte(body))
	}
	f.Fuzz(func(t *testing.T, authorization string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/cds-services/"+cdshooks.OsteoporosisID, strings.NewReader(string(body)))
		req.Header.Set("Authorization", authorization)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 401 && rec.Code != 403 {
			t.Fatalf("Authorization %q answered %d: %s", authorization, rec.Code, rec.Body.String())
		}
		if rt.n.Load() != 0 {
			t.Fatalf("Authorization %q reached a FHIR server", authorization)
		}
	})
}
