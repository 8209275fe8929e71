package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/answer"
	"github.com/orthocds/orthocds/auth"
	"github.com/orthocds/orthocds/cdshooks"
	"github.com/orthocds/orthocds/handouts"
	"github.com/orthocds/orthocds/predictors"
	"github.com/orthocds/orthocds/predictors/shipped"
)

// Every endpoint, called with an API key of each role and with none:
// allowed roles get past authorisation, the others get 403, no key gets
// 401. Students never reach patient-context endpoints; evaluators never
// see patient data.
// cdsPatientView is a patient-view call with every prefetch key sent
// (empty), so that it needs no FHIR server.
const cdsPatientView = `{"hook":"patient-view","hookInstance":"x","context":{"patientId":"1"},"prefetch":{"patient":null,"observations":null,"conditions":null,"medications":null}}`

func TestRoleMatrix(t *testing.T) {
	f := setup(t)
	arts, _ := shipped.Artefacts()
	preds, _ := predictors.NewService(arts)
	hooks := cdshooks.New(cdshooks.Config{Guidelines: f.Corpus, Predictors: preds,
		Feedback: &cdshooks.FileFeedback{Path: filepath.Join(t.TempDir(), "feedback.jsonl")}})
	keys, err := auth.OpenKeys(filepath.Join(t.TempDir(), "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	secret := map[orthocds.Role]string{}
	for _, r := range auth.Roles {
		secret[r], _, _ = keys.Create("matrix "+string(r), r)
	}
	a := &auth.Authenticator{Keys: keys, Open: true}
	drillSvc, _ := drillService(t)
	sheets, err := handouts.Load(f.Corpus)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(New(Config{Search: f.Retriever, Drills: drillSvc, Handouts: sheets, Answer: answer.New(f.Retriever, f.Analyzer, nil, nil, answer.DefaultConfig),
		Guidelines: f.Corpus, Predictors: preds, CDSHooks: hooks, Viewer: hooks, Authenticate: a.Authenticate,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer ts.Close()
	ps, _ := cdshooks.SyntheticPatients()
	bundle := string(ps[0].Bundle)

	const (
		C = orthocds.RoleClinician
		S = orthocds.RoleStudent
		I = orthocds.RoleInstructor
		E = orthocds.RoleEvaluator
		A = orthocds.RoleAdmin
	)
	all := []orthocds.Role{C, S, I, E, A}
	cases := []struct {
		method, path, body string
		allowed            []orthocds.Role // nil: no authentication
	}{
		{"GET", "/healthz", "", nil},
		{"GET", "/readyz", "", nil},
		{"GET", "/openapi.json", "", nil},
		{"POST", "/v1/search", `{"queries":[{"text":"OSTA"}]}`, all},
		{"POST", "/v1/ask", `{"question":"What is OSTA?"}`, all},
		{"POST", "/v1/ask", `{"question":"Does she need DXA?","patient":{"age_years":70,"sex":"female","weight_kg":50}}`, []orthocds.Role{C, A}},
		{"GET", "/v1/guidelines", "", all},
		{"GET", "/v1/handouts", "", all},
		{"GET", "/v1/handouts/vte?lang=zh", "", all},
		{"GET", "/v1/guidelines/csobmr-2022-osta", "", all},
		{"GET", "/v1/calculators", "", all},
		{"POST", "/v1/calculators/osta", `{"weight_kg":50,"age_years":70}`, all},
		{"GET", "/v1/predictors", "", all},
		{"GET", "/v1/predictors/vte-arthroplasty/card", "", all},
		{"POST", "/v1/predictors/vte-arthroplasty/predict", `{"rows":[` + goodVTE + `]}`, []orthocds.Role{C, A}},
		{"POST", "/v1/patient-cards", `{"bundle":` + bundle + `}`, []orthocds.Role{C, A}},
		{"GET", "/v1/synthetic-patients", "", all},
		{"GET", "/v1/synthetic-patients/syn-01", "", all},
		{"GET", "/v1/smart/config", "", nil},
		{"GET", "/v1/cases", "", all},
		{"GET", "/v1/cases/giop/key", "", []orthocds.Role{I, A}},
		{"POST", "/v1/drills", `{"case_id":"giop"}`, all},
		{"GET", "/v1/drills", "", all},
		{"GET", "/v1/drills/att_none", "", all},
		{"POST", "/v1/drills/att_none/ask", `{"question":"Any pain?"}`, all},
		{"POST", "/v1/drills/att_none/order", `{"request":"DXA"}`, all},
		{"POST", "/v1/drills/att_none/pause", "", all},
		{"POST", "/v1/drills/att_none/resume", "", all},
		{"POST", "/v1/drills/att_none/submit", `{"diagnosis":"d","plan":"p"}`, all},
		{"GET", "/v1/class", "", []orthocds.Role{I, A}},
		{"GET", "/v1/class.csv", "", []orthocds.Role{I, A}},
		// CDS services see patient data: trusted CDS clients (by JWT,
		// TestCDSTrustBoundary) and the roles that may see it.
		{"GET", "/cds-services", "", []orthocds.Role{C, A}},
		{"POST", "/cds-services/" + cdshooks.OsteoporosisID, cdsPatientView, []orthocds.Role{C, A}},
		{"POST", "/cds-services/" + cdshooks.OsteoporosisID + "/feedback", `{"feedback":[{"card":"c1","outcome":"overridden","outcomeTimestamp":"2026-11-01T00:00:00Z"}]}`, []orthocds.Role{C, A}},
	}
	do := func(method, path, body, key string) int {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range cases {
		name := tc.method + " " + tc.path
		if strings.Contains(tc.body, "patient") && tc.path == "/v1/ask" {
			name += " (with patient data)"
		}
		if tc.allowed == nil {
			if code := do(tc.method, tc.path, tc.body, ""); code == 401 || code == 403 {
				t.Errorf("%s without credentials: %d, want it open", name, code)
			}
			continue
		}
		if code := do(tc.method, tc.path, tc.body, ""); code != 401 {
			t.Errorf("%s without credentials: %d, want 401", name, code)
		}
		for _, r := range all {
			code := do(tc.method, tc.path, tc.body, secret[r])
			ok := false
			for _, x := range tc.allowed {
				ok = ok || x == r
			}
			switch {
			case ok && (code == 401 || code == 403):
				t.Errorf("%s as %s: %d, want allowed", name, r, code)
			case !ok && code != 403:
				t.Errorf("%s as %s: %d, want 403", name, r, code)
			case ok && code >= 500:
				t.Errorf("%s as %s: %d", name, r, code)
			}
		}
	}
}
