package server

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/audit"
	"github.com/orthocds/orthocds/auth"
	"github.com/orthocds/orthocds/cdshooks"
	"github.com/orthocds/orthocds/predictors"
	"github.com/orthocds/orthocds/predictors/shipped"
)

// cdsSigner signs CDS client JWTs with its own key.
type cdsSigner struct {
	t   testing.TB
	iss string
	key jwk.Key
	n   int
}

func newCDSSigner(t testing.TB, iss string) *cdsSigner {
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := jwk.Import(raw)
	key.Set(jwk.KeyIDKey, "k1")
	return &cdsSigner{t: t, iss: iss, key: key}
}

// jwks is the signer's public JWK Set, for the trusted clients file.
func (s *cdsSigner) jwks() json.RawMessage {
	pub, _ := s.key.PublicKey()
	set := jwk.NewSet()
	set.AddKey(pub)
	b, _ := json.Marshal(set)
	return b
}

// bearer is an Authorization header for a call to aud.
func (s *cdsSigner) bearer(aud string) string {
	s.n++
	tok, _ := jwt.NewBuilder().Issuer(s.iss).Audience([]string{aud}).IssuedAt(time.Now()).
		Expiration(time.Now().Add(time.Minute)).JwtID(s.iss + "-" + string(rune('a'+s.n))).Build()
	h := jws.NewHeaders()
	h.Set(jws.TypeKey, "JWT")
	b, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256(), s.key, jws.WithProtectedHeaders(h)))
	if err != nil {
		s.t.Fatal(err)
	}
	return "Bearer " + string(b)
}

// countingListener is a loopback server that counts the connections made
// to it: the stand-in for a host inside the hospital network.
func countingListener(t *testing.T) (string, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

// The trust boundary with API keys and a trusted client configured: an
// anonymous call, a JWT from an untrusted issuer, a trusted client naming
// a FHIR server off its allow-list, a student's key and a clinician's key
// naming a FHIR server when no global list exists all leave a listener
// named as fhirServer untouched, with 401, 403 or 412. The trusted
// client's calls are answered with cards, and read from the FHIR server
// on its list. Refusals are counted in /metrics and recorded in the audit
// trail without patient data; anonymous calls are refused before the
// body is read.
func TestCDSTrustBoundary(t *testing.T) {
	bait, conns := countingListener(t)
	fhir, _ := syntheticFHIRServer(t, "syn-03", "1288992")
	ehr := newCDSSigner(t, "https://ehr.hospital.example")
	stranger := newCDSSigner(t, "https://stranger.example")
	verifier, err := cdshooks.NewVerifier([]cdshooks.TrustedClient{
		{Issuer: ehr.iss, JWKS: ehr.jwks(), FHIRServers: []string{fhir.URL}},
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := auth.OpenKeys(filepath.Join(t.TempDir(), "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	clinician, _, _ := keys.Create("ward 7 sidebar", orthocds.RoleClinician)
	student, _, _ := keys.Create("a student", orthocds.RoleStudent)
	authn := &auth.Authenticator{Keys: keys, Open: true}
	trailPath := filepath.Join(t.TempDir(), "audit.jsonl")
	trail, err := audit.OpenFile(trailPath)
	if err != nil {
		t.Fatal(err)
	}
	defer trail.Close()
	arts, _ := shipped.Artefacts()
	preds, _ := predictors.NewService(arts)
	fb := &cdshooks.FileFeedback{Path: filepath.Join(t.TempDir(), "feedback.jsonl")}
	hooks := cdshooks.New(cdshooks.Config{Guidelines: setup(t).Corpus, Predictors: preds, Feedback: fb, Audit: trail})
	ts := httptest.NewServer(New(Config{CDSHooks: hooks, CDSClients: verifier, Authenticate: authn.Authenticate, Audit: trail,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer ts.Close()
	endpoint := ts.URL + "/cds-services/" + cdshooks.OsteoporosisID

	ps, _ := cdshooks.SyntheticPatients()
	var syn03 cdshooks.SyntheticPatient
	for _, p := range ps {
		if p.ID == "syn-03" {
			syn03 = p
		}
	}
	request := func(fhirServer string, prefetch bool) string {
		req, err := syn03.Request(hooks, cdshooks.OsteoporosisID, "patient-view", prefetch)
		if err != nil {
			t.Fatal(err)
		}
		req.Context["patientId"] = json.RawMessage(`"1288992"`)
		req.FHIRServer = fhirServer
		if fhirServer != "" {
			req.FHIRAuthorization = &cdshooks.FHIRAuthorization{AccessToken: "some-opaque-fhir-access-token", TokenType: "Bearer",
				ExpiresIn: 300, Scope: "user/Patient.read user/Observation.read", Subject: "cds-service"}
		}
		b, _ := json.Marshal(req)
		return string(b)
	}
	call := func(url, authz, body string) (int, []byte) {
		req, _ := http.NewRequest("POST", url, strings.NewReader(body))
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	refusals := []struct {
		name   string
		authz  string
		status int
	}{
		{"anonymous", "", 401},
		{"an untrusted issuer", stranger.bearer(endpoint), 401},
		{"a trusted client whose allow-list lacks it", ehr.bearer(endpoint), 403},
		{"a trusted client's JWT for another endpoint", ehr.bearer(ts.URL + "/cds-services"), 401},
		{"a student's key", "Bearer " + student, 403},
		{"a clinician's key, with no global allow-list", "Bearer " + clinician, 412},
		{"an unknown API key", "Bearer ocds_not-a-key", 401},
	}
	for _, tc := range refusals {
		code, body := call(endpoint, tc.authz, request(bait, false))
		if code != tc.status {
			t.Errorf("%s naming the listener: %d %s, want %d", tc.name, code, body, tc.status)
		}
		if strings.Contains(string(body), strings.TrimPrefix(bait, "http://")) {
			t.Errorf("%s: the answer names the server: %s", tc.name, body)
		}
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("the listener named as fhirServer saw %d connections, want none", n)
	}

	// Keys configured: an anonymous patient-view call with full prefetch
	// is refused; the same call with the trusted client's JWT gets cards,
	// as does one that leaves the FHIR server on its list to supply the
	// data.
	if code, body := call(endpoint, "", request("", true)); code != 401 {
		t.Errorf("anonymous with prefetch: %d %s, want 401", code, body)
	}
	for _, tc := range []struct {
		name string
		body string
	}{{"with prefetch", request("", true)}, {"from its FHIR server", request(fhir.URL, false)}} {
		code, body := call(endpoint, ehr.bearer(endpoint), tc.body)
		var resp cdshooks.Response
		json.Unmarshal(body, &resp)
		if code != 200 || len(resp.Cards) == 0 {
			t.Errorf("trusted client %s: %d %s, want cards", tc.name, code, body)
		}
	}
	if code, body := call(endpoint, "Bearer "+clinician, request("", true)); code != 200 {
		t.Errorf("a clinician's key (the sidebar page): %d %s", code, body)
	}
	feedback := `{"feedback":[{"card":"c1","outcome":"overridden","outcomeTimestamp":"2026-11-01T00:00:00Z"}]}`
	if code, _ := call(endpoint+"/feedback", "", feedback); code != 401 {
		t.Errorf("anonymous feedback: %d, want 401", code)
	}
	if code, body := call(endpoint+"/feedback", ehr.bearer(endpoint+"/feedback"), feedback); code != 200 {
		t.Errorf("trusted client's feedback: %d %s", code, body)
	}

	// Refused before the body is read: a client that asks to send its
	// body only when the server wants it (Expect: 100-continue) is
	// answered 401 without being asked for it.
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "POST /cds-services/%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n", cdshooks.OsteoporosisID)
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 401") {
		t.Errorf("anonymous call offering its body: %q %v, want 401 before any 100 Continue", status, err)
	}

	// Counted by reason in /metrics.
	mresp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, want := range []string{
		`orthocds_cds_refused_total{reason="no-credentials"} 4`,
		`orthocds_cds_refused_total{reason="bad-credentials"} 3`,
		`orthocds_cds_refused_total{reason="fhir-server"} 1`,
		`orthocds_cds_refused_total{reason="role"} 1`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// Recorded in the audit trail: who and why, nothing of the patient.
	raw, err := os.ReadFile(trailPath)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]int{}
	var refusedBy []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var row audit.Row
		json.Unmarshal([]byte(line), &row)
		var e audit.Event
		json.Unmarshal([]byte(row.Body), &e)
		if e.Kind == audit.KindRefused {
			reasons[e.Outcome]++
			refusedBy = append(refusedBy, e.Principal)
		}
	}
	for reason, n := range map[string]int{"refused: no-credentials": 4, "refused: bad-credentials": 3, "refused: role": 1,
		"refused: fhirServer not on the allow-list": 1} {
		if reasons[reason] != n {
			t.Errorf("audit: %d rows %q, want %d (all: %v)", reasons[reason], reason, n, reasons)
		}
	}
	if !strings.Contains(strings.Join(refusedBy, " "), ehr.iss) {
		t.Errorf("audit: the trusted client refused for its fhirServer is not named: %v", refusedBy)
	}
	for _, secret := range []string{"1288992", "some-opaque-fhir-access-token", strings.TrimPrefix(bait, "http://"), clinician, student} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the audit trail holds %q", secret)
		}
	}
	if n, err := trail.Verify(context.Background()); err != nil || n == 0 {
		t.Errorf("audit chain: %d rows, %v", n, err)
	}
}
