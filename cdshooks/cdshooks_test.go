package cdshooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/cdshooks"
	"github.com/orthocds/orthocds/guidelines"
	"github.com/orthocds/orthocds/ingest"
	"github.com/orthocds/orthocds/internal/corpustest"
	"github.com/orthocds/orthocds/predictors"
	"github.com/orthocds/orthocds/predictors/shipped"
	"github.com/orthocds/orthocds/rag"
)

// now pins the clock the synthetic patients' dates were written against.
var now = time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)

var (
	setupOnce sync.Once
	corpus    *guidelines.Corpus
	preds     *predictors.Service
	setupErr  error
)

func hooks(t testing.TB, fb cdshooks.FeedbackStore) *cdshooks.Hooks {
	t.Helper()
	setupOnce.Do(func() {
		if corpus, setupErr = guidelines.Load(guidelines.Embedded()); setupErr != nil {
			return
		}
		arts, err := shipped.Artefacts()
		if err != nil {
			setupErr = err
			return
		}
		preds, setupErr = predictors.NewService(arts)
	})
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	return cdshooks.New(cdshooks.Config{Guidelines: corpus, Predictors: preds, Feedback: fb, Now: func() time.Time { return now }})
}

func patients(t *testing.T) map[string]cdshooks.SyntheticPatient {
	ps, err := cdshooks.SyntheticPatients()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]cdshooks.SyntheticPatient{}
	for _, p := range ps {
		m[p.ID] = p
	}
	return m
}

// serviceFor maps a patient's declared services to a service ID and hook.
var serviceFor = map[string][2]string{
	"osteoporosis": {cdshooks.OsteoporosisID, "patient-view"},
	"vte":          {cdshooks.VTEID, "order-sign"},
	"cement":       {cdshooks.CementID, "order-select"},
	"axial-pain":   {cdshooks.AxialPainID, "order-select"},
}

const base = "https://cds.example.org"

func call(t *testing.T, h *cdshooks.Hooks, p cdshooks.SyntheticPatient, service string, lang string) *cdshooks.Response {
	t.Helper()
	s := serviceFor[service]
	req, err := p.Request(h, s[0], s[1], true)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.Call(context.Background(), s[0], req, cdshooks.Invocation{Base: base, Lang: lang})
	if err != nil {
		t.Fatalf("%s, %s: %v", p.ID, service, err)
	}
	return resp
}

// Every card the services give for every synthetic patient, in both
// languages, follows the specification: a summary under 140 characters,
// a known indicator, a source with a label and an absolute URL,
// suggestions with uuids and a selection behaviour, smart links, no null
// or empty members; and every card cites guideline entries and carries
// the statement that it supports clinical judgement.
func TestCardsFollowTheSpecification(t *testing.T) {
	h := hooks(t, nil)
	covered := map[string]bool{}
	for _, p := range patients(t) {
		for _, svc := range p.Services {
			covered[svc] = true
			for _, lang := range []string{"en", "zh"} {
				resp := call(t, h, p, svc, lang)
				if len(resp.Cards) == 0 {
					t.Errorf("%s/%s/%s: no card", p.ID, svc, lang)
				}
				b, _ := json.Marshal(resp)
				var generic any
				json.Unmarshal(b, &generic)
				if path := emptyMember(generic, ""); path != "" {
					t.Errorf("%s/%s: null or empty member at %s", p.ID, svc, path)
				}
				for _, c := range resp.Cards {
					where := p.ID + "/" + svc + ": " + c.Summary
					switch {
					case len([]rune(c.Summary)) >= 140:
						t.Errorf("%s: summary of %d characters", where, len([]rune(c.Summary)))
					case c.Indicator != "info" && c.Indicator != "warning" && c.Indicator != "critical":
						t.Errorf("%s: indicator %q", where, c.Indicator)
					case c.Source.Label == "" || !strings.HasPrefix(c.Source.URL, base+"/v1/guidelines/"):
						t.Errorf("%s: source %+v", where, c.Source)
					case !strings.Contains(c.Detail, orthocds.Disclaimer):
						t.Errorf("%s: detail without the disclaimer", where)
					case c.UUID == "":
						t.Errorf("%s: no uuid", where)
					}
					for _, s := range c.Suggestions {
						if s.UUID == "" || s.Label == "" || len(s.Actions) == 0 || c.SelectionBehavior == "" {
							t.Errorf("%s: suggestion %+v (selection %q)", where, s, c.SelectionBehavior)
						}
						for _, a := range s.Actions {
							if a.Type != "create" || a.Resource["subject"].(map[string]any)["reference"] != "Patient/"+p.ID {
								t.Errorf("%s: action %+v", where, a)
							}
						}
					}
					smart := false
					for _, l := range c.Links {
						smart = smart || (l.Type == "smart" && strings.HasPrefix(l.URL, base+"/"))
					}
					if !smart {
						t.Errorf("%s: no smart link to the sidebar", where)
					}
					for _, o := range c.OverrideReasons {
						if o.Display == "" || o.Code == "" || o.System == "" {
							t.Errorf("%s: override reason %+v", where, o)
						}
					}
				}
			}
		}
	}
	for svc := range serviceFor {
		if !covered[svc] {
			t.Errorf("no synthetic patient exercises %s", svc)
		}
	}
}

// emptyMember returns the path of a null, "", [] or {} member, or "".
func emptyMember(v any, path string) string {
	switch x := v.(type) {
	case nil:
		return path
	case string:
		if x == "" {
			return path
		}
	case []any:
		if len(x) == 0 && path != "/cards" {
			return path
		}
		for i, e := range x {
			if p := emptyMember(e, path+"/"+itoa(i)); p != "" {
				return p
			}
		}
	case map[string]any:
		if len(x) == 0 {
			return path
		}
		for k, e := range x {
			if p := emptyMember(e, path+"/"+k); p != "" {
				return p
			}
		}
	}
	return ""
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// What each synthetic patient is for: the card that must be there.
func TestSyntheticPatientsGetTheirCards(t *testing.T) {
	h := hooks(t, nil)
	ps := patients(t)
	type want struct {
		service, summary, indicator string
		action                      string // resourceType of a suggested create, "" for none
		recommended                 string // label fragment of the suggestion marked recommended
	}
	cases := map[string][]want{
		"syn-01": {{"osteoporosis", "OSTA -4.4 (high risk) and no DXA", "warning", "ServiceRequest", "DXA"}},
		"syn-02": {{"osteoporosis", "Lowest T-score -2.9 (lumbar spine): Osteoporosis", "warning", "", ""},
			{"osteoporosis", "start treatment (oral bisphosphonate", "warning", "", ""}},
		"syn-03": {{"osteoporosis", "Very high fracture risk", "warning", "", ""}},
		"syn-04": {{"osteoporosis", "Denosumab stopped with no follow-on drug", "critical", "MedicationRequest", "zoledronic"}},
		"syn-05": {{"osteoporosis", "On glucocorticoids without bone protection", "warning", "", ""},
			{"osteoporosis", "Low bone mass", "info", "", ""}},
		"syn-06": {{"vte", "Caprini 8 for knee arthroplasty", "info", "", ""},
			{"vte", "DVT/PE after total hip or knee arthroplasty:", "", "", ""},
			{"vte", "No VTE prophylaxis ordered for knee arthroplasty", "info", "MedicationRequest", "LMWH"}},
		"syn-07": {{"vte", "No VTE prophylaxis ordered for hip arthroplasty", "warning", "DeviceRequest", "pneumatic"}},
		"syn-08": {{"cement", "Bone-cement leakage after vertebroplasty or kyphoplasty:", "", "", ""},
			{"cement", "augmentation does not treat the osteoporosis", "warning", "", ""}},
		"syn-09": {{"cement", "needs: Genant grade", "info", "", ""}},
		"syn-10": {{"axial-pain", "Axial neck pain after surgery for degenerative cervical myelopathy:", "", "", ""}},
		"syn-11": {{"axial-pain", "Axial neck pain after surgery for degenerative cervical myelopathy:", "", "", ""}},
		"syn-12": {{"osteoporosis", "Normal bone density", "info", "", ""}},
	}
	for id, wants := range cases {
		p, ok := ps[id]
		if !ok {
			t.Fatalf("no synthetic patient %s", id)
		}
		for _, w := range wants {
			resp := call(t, h, p, w.service, "en")
			var found *cdshooks.Card
			for i, c := range resp.Cards {
				if strings.Contains(c.Summary, w.summary) {
					found = &resp.Cards[i]
				}
			}
			if found == nil {
				var got []string
				for _, c := range resp.Cards {
					got = append(got, c.Summary)
				}
				t.Errorf("%s/%s: no card with %q; got %q", id, w.service, w.summary, got)
				continue
			}
			if w.indicator != "" && found.Indicator != w.indicator {
				t.Errorf("%s: %q has indicator %s, want %s", id, found.Summary, found.Indicator, w.indicator)
			}
			if w.action != "" {
				ok := false
				for _, s := range found.Suggestions {
					for _, a := range s.Actions {
						ok = ok || a.Resource["resourceType"] == w.action
					}
					if s.IsRecommended && !strings.Contains(strings.ToLower(s.Label), strings.ToLower(w.recommended)) {
						t.Errorf("%s: recommended suggestion %q, want one about %s", id, s.Label, w.recommended)
					}
				}
				if !ok {
					t.Errorf("%s: %q suggests no %s", id, found.Summary, w.action)
				}
			}
		}
	}
	// The fracture risk tier is stated with the density category.
	for id, want := range map[string]string{"syn-02": "Fracture risk tier: high.", "syn-03": "Fracture risk tier: very high", "syn-12": ""} {
		for _, c := range call(t, h, ps[id], "osteoporosis", "en").Cards {
			if strings.HasPrefix(c.Summary, "Lowest T-score") && (want == "") == strings.Contains(c.Detail, "risk tier") ||
				strings.HasPrefix(c.Summary, "Lowest T-score") && want != "" && !strings.Contains(c.Detail, want) {
				t.Errorf("%s: density card detail lacks %q:\n%s", id, want, c.Detail)
			}
		}
	}
	// Patients who are treated, or whose bones are normal, get no treatment card.
	for _, id := range []string{"syn-09", "syn-12"} {
		for _, c := range call(t, h, ps[id], "osteoporosis", "en").Cards {
			if strings.Contains(c.Summary, "start treatment") || strings.Contains(c.Summary, "no osteoporosis drug") {
				t.Errorf("%s: %q", id, c.Summary)
			}
		}
	}
}

// fhirServer serves the synthetic patients as a FHIR API that demands the
// bearer token "good-token", counting the requests.
func fhirServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	ps := patients(t)
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.Header.Get("Authorization") != "Bearer good-token" {
			http.Error(w, `{"resourceType":"OperationOutcome"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		typ := strings.Trim(r.URL.Path, "/")
		if strings.HasPrefix(typ, "Patient/") {
			p, ok := ps[strings.TrimPrefix(typ, "Patient/")]
			if !ok {
				http.NotFound(w, r)
				return
			}
			rs, _ := p.Resources()
			w.Write(rs["Patient"][0])
			return
		}
		p := ps[r.URL.Query().Get("patient")]
		rs, _ := p.Resources()
		w.Write(cdshooks.SearchSet(rs[typ]))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// Without prefetch, the services read the patient from the client's FHIR
// server with the token it lent, and give the same cards as with
// prefetch; without a FHIR server, or when the server refuses the token,
// they answer 412 (EPRECONDITION).
func TestFetchesWhatWasNotPrefetched(t *testing.T) {
	h := hooks(t, nil)
	srv, requests := fhirServer(t)
	for _, p := range patients(t) {
		for _, svc := range p.Services {
			s := serviceFor[svc]
			with, err := p.Request(h, s[0], s[1], true)
			if err != nil {
				t.Fatal(err)
			}
			a, err := h.Call(context.Background(), s[0], with, cdshooks.Invocation{Base: base, Lang: "en"})
			if err != nil {
				t.Fatal(err)
			}
			without, _ := p.Request(h, s[0], s[1], false)
			if _, err := h.Call(context.Background(), s[0], without, cdshooks.Invocation{Base: base, Lang: "en"}); orthocds.ErrorCode(err) != orthocds.EPRECONDITION {
				t.Errorf("%s/%s without prefetch or FHIR server: %v, want a precondition error", p.ID, svc, err)
			}
			without.FHIRServer = srv.URL
			without.FHIRAuthorization = &cdshooks.FHIRAuthorization{AccessToken: "good-token", TokenType: "Bearer", ExpiresIn: 300,
				Scope: "user/Patient.read user/Observation.read", Subject: "orthocds"}
			allowed := cdshooks.Invocation{Base: base, Lang: "en", FHIRServers: []string{srv.URL + "/"}}
			b, err := h.Call(context.Background(), s[0], without, allowed)
			if err != nil {
				t.Fatalf("%s/%s fetched from the FHIR server: %v", p.ID, svc, err)
			}
			if diff := cmp.Diff(summaries(a), summaries(b)); diff != "" {
				t.Errorf("%s/%s: cards differ between prefetch and FHIR fetch (-prefetch +fetched):\n%s", p.ID, svc, diff)
			}
			without.FHIRAuthorization.AccessToken = "expired-token"
			if _, err := h.Call(context.Background(), s[0], without, allowed); orthocds.ErrorCode(err) != orthocds.EPRECONDITION {
				t.Errorf("%s/%s with a refused token: %v, want a precondition error", p.ID, svc, err)
			}
		}
	}
	if requests.Load() == 0 {
		t.Error("the FHIR server was never asked")
	}
}

func summaries(r *cdshooks.Response) []string {
	var s []string
	for _, c := range r.Cards {
		s = append(s, c.Summary)
	}
	return s
}

// Malformed requests and absurd FHIR values are refused with the field at
// fault; none is a server error.
func TestBadRequests(t *testing.T) {
	h := hooks(t, nil)
	p := patients(t)["syn-02"]
	good := func() *cdshooks.Request {
		r, err := p.Request(h, cdshooks.OsteoporosisID, "patient-view", true)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	cases := []struct {
		name  string
		edit  func(r *cdshooks.Request)
		code  string
		field string
	}{
		{"no hook", func(r *cdshooks.Request) { r.Hook = "" }, orthocds.EINVALID, "/hook"},
		{"wrong hook", func(r *cdshooks.Request) { r.Hook = "order-sign" }, orthocds.EINVALID, "/hook"},
		{"no hookInstance", func(r *cdshooks.Request) { r.HookInstance = " " }, orthocds.EINVALID, "/hookInstance"},
		{"no context", func(r *cdshooks.Request) { r.Context = nil }, orthocds.EINVALID, "/context"},
		{"patientId a number", func(r *cdshooks.Request) { r.Context["patientId"] = json.RawMessage("42") }, orthocds.EINVALID, "/context/patientId"},
		{"token without server", func(r *cdshooks.Request) {
			r.FHIRAuthorization = &cdshooks.FHIRAuthorization{AccessToken: "x", TokenType: "Bearer", ExpiresIn: 1, Scope: "s", Subject: "s"}
		}, orthocds.EINVALID, "/fhirServer"},
		{"server not a URL", func(r *cdshooks.Request) { r.FHIRServer = "ftp:/x" }, orthocds.EINVALID, "/fhirServer"},
		{"token type", func(r *cdshooks.Request) {
			r.FHIRServer = "https://fhir.example.org"
			r.FHIRAuthorization = &cdshooks.FHIRAuthorization{AccessToken: "x", TokenType: "MAC", ExpiresIn: 1, Scope: "s", Subject: "s"}
		}, orthocds.EINVALID, "/fhirAuthorization/token_type"},
		{"prefetch a string", func(r *cdshooks.Request) { r.Prefetch["patient"] = json.RawMessage(`"Patient/1"`) }, orthocds.EINVALID, "/prefetch/patient"},
		{"absurd weight", func(r *cdshooks.Request) {
			r.Prefetch["observations"] = json.RawMessage(strings.Replace(string(r.Prefetch["observations"]), `"value":58`, `"value":580`, 1))
		}, orthocds.EINVALID, "/prefetch/observations/entry/0/resource/valueQuantity/value"},
		{"absurd T-score", func(r *cdshooks.Request) {
			r.Prefetch["observations"] = json.RawMessage(strings.Replace(string(r.Prefetch["observations"]), `"value":-2.9`, `"value":-29`, 1))
		}, orthocds.EINVALID, "/prefetch/observations/entry/2/resource/valueQuantity/value"},
		{"birth date in the future", func(r *cdshooks.Request) {
			r.Prefetch["patient"] = json.RawMessage(strings.Replace(string(r.Prefetch["patient"]), `"1958-06-15"`, `"2199-01-01"`, 1))
		}, orthocds.EINVALID, "/prefetch/patient/birthDate"},
		{"gender not a code", func(r *cdshooks.Request) {
			r.Prefetch["patient"] = json.RawMessage(strings.Replace(string(r.Prefetch["patient"]), `"female"`, `"sometimes"`, 1))
		}, orthocds.EINVALID, "/prefetch/patient"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := good()
			tc.edit(r)
			_, err := h.Call(context.Background(), cdshooks.OsteoporosisID, r, cdshooks.Invocation{Base: base, Lang: "en"})
			var oe *orthocds.Error
			if orthocds.ErrorCode(err) != tc.code || !asError(err, &oe) || oe.Field != tc.field {
				t.Errorf("got %v (field %q), want %s at %s", err, fieldOf(err), tc.code, tc.field)
			}
		})
	}
	// Order hooks need draft orders, and order-select its selections.
	v := patients(t)["syn-06"]
	r, _ := v.Request(h, cdshooks.VTEID, "order-select", true)
	delete(r.Context, "selections")
	if _, err := h.Call(context.Background(), cdshooks.VTEID, r, cdshooks.Invocation{Base: base, Lang: "en"}); fieldOf(err) != "/context/selections" {
		t.Errorf("order-select without selections: %v", err)
	}
	r.Context["draftOrders"] = json.RawMessage(`{"resourceType":"Patient"}`)
	if _, err := h.Call(context.Background(), cdshooks.VTEID, r, cdshooks.Invocation{Base: base, Lang: "en"}); fieldOf(err) != "/context/draftOrders" {
		t.Errorf("draftOrders not a Bundle: %v", err)
	}
	if _, err := h.Call(context.Background(), "no-such-service", r, cdshooks.Invocation{Base: base, Lang: "en"}); orthocds.ErrorCode(err) != orthocds.ENOTFOUND {
		t.Errorf("unknown service: %v", err)
	}
}

func asError(err error, target **orthocds.Error) bool {
	e, ok := err.(*orthocds.Error)
	if ok {
		*target = e
	}
	return ok
}

func fieldOf(err error) string {
	if e, ok := err.(*orthocds.Error); ok {
		return e.Field
	}
	return ""
}

// The feedback examples of the specification are stored and read back;
// bad feedback is refused with the field at fault.
func TestFeedback(t *testing.T) {
	store := &cdshooks.FileFeedback{Path: filepath.Join(t.TempDir(), "feedback.jsonl")}
	h := hooks(t, store)
	examples := []string{
		`{"feedback":[{"card":"4e0a3a1e-3283-4575-ab82-028d55fe2719","outcome":"accepted","acceptedSuggestions":[{"id":"e56e1945-20b3-4393-8503-a1a20fd73152"}],"outcomeTimestamp":"2021-12-11T10:05:31Z"}]}`,
		`{"feedback":[{"card":"f6b95768-b1c8-40dc-8385-bf3504b82ffb","outcome":"overridden","outcomeTimestamp":"2020-12-11T00:00:00Z"}]}`,
		`{"feedback":[{"card":"9368d37b-283f-44a0-93ea-547cebab93ed","outcome":"overridden","overrideReason":{"reason":{"code":"d7ecf885","system":"https://example.com/cds-hooks/override-reason-system"},"userComment":"A comment entered by the clinician."},"outcomeTimestamp":"2020-12-11T00:00:00Z"}]}`,
	}
	for _, ex := range examples {
		var fr cdshooks.FeedbackRequest
		if err := json.Unmarshal([]byte(ex), &fr); err != nil {
			t.Fatal(err)
		}
		if err := h.Feedback(context.Background(), cdshooks.OsteoporosisID, &fr); err != nil {
			t.Fatal(err)
		}
	}
	got, err := store.ReadFeedback()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Outcome != "accepted" || got[0].AcceptedSuggestions[0].ID != "e56e1945-20b3-4393-8503-a1a20fd73152" ||
		got[2].OverrideReason.Reason.Code != "d7ecf885" || got[1].Service != cdshooks.OsteoporosisID {
		t.Errorf("stored feedback: %+v", got)
	}
	bad := map[string]string{
		`{"feedback":[]}`: "/feedback",
		`{"feedback":[{"card":"c","outcome":"liked","outcomeTimestamp":"2020-12-11T00:00:00Z"}]}`:    "/feedback/0/outcome",
		`{"feedback":[{"card":"c","outcome":"accepted","outcomeTimestamp":"2020-12-11T00:00:00Z"}]}`: "/feedback/0/acceptedSuggestions",
		`{"feedback":[{"card":"c","outcome":"overridden","outcomeTimestamp":"yesterday"}]}`:          "/feedback/0/outcomeTimestamp",
		`{"feedback":[{"outcome":"overridden","outcomeTimestamp":"2020-12-11T00:00:00Z"}]}`:          "/feedback/0/card",
	}
	for body, field := range bad {
		var fr cdshooks.FeedbackRequest
		json.Unmarshal([]byte(body), &fr)
		if err := h.Feedback(context.Background(), cdshooks.OsteoporosisID, &fr); fieldOf(err) != field {
			t.Errorf("%s: %v, want a fault at %s", body, err, field)
		}
	}
	if after, _ := store.ReadFeedback(); len(after) != 3 {
		t.Errorf("refused feedback was stored: %d records", len(after))
	}
}

// A hospital's own protocol, ingested like any document, is attached to
// the card it matches (one batched search for all cards of a call), and
// not to cards about something else.
func TestLocalDocumentsOnCards(t *testing.T) {
	f, err := corpustest.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Store.Close()
	dir := t.TempDir()
	doc := filepath.Join(dir, "denosumab-protocol.md")
	os.WriteFile(doc, []byte("# Ward 7 protocol: stopping denosumab\n\n## Follow-on treatment\n\n"+
		"Before denosumab is stopped, the bone clinic arranges zoledronic acid at the time the next denosumab injection would have been due.\n"), 0o644)
	in := ingest.New(rag.NewIndexer(f.Store, f.Embedder, f.Analyzer), f.Store)
	if _, err := in.File(context.Background(), doc); err != nil {
		t.Fatal(err)
	}
	hooks(t, nil) // loads the shared predictors
	h := cdshooks.New(cdshooks.Config{Guidelines: corpus, Predictors: preds, Search: f.Retriever, Scope: f.Analyzer,
		Now: func() time.Time { return now }})
	ps := patients(t)
	with := call(t, h, ps["syn-04"], "osteoporosis", "en")
	found := false
	for _, c := range with.Cards {
		has := strings.Contains(c.Detail, "Ward 7 protocol")
		if strings.Contains(c.Summary, "Denosumab stopped") {
			ext, _ := c.Extension[cdshooks.HospitalPassageExtension].(map[string]any)
			found = has && ext["document"] == "denosumab-protocol.md"
			if !found {
				t.Errorf("the denosumab card's extension %v does not name the protocol", c.Extension)
			}
		} else if has {
			t.Errorf("the denosumab protocol is attached to %q", c.Summary)
		}
	}
	if !found {
		t.Errorf("the denosumab card lacks the hospital's protocol: %+v", summaries(with))
	}
	for _, c := range call(t, h, ps["syn-06"], "vte", "en").Cards {
		if strings.Contains(c.Detail, "Ward 7 protocol") {
			t.Errorf("a VTE card shows the denosumab protocol: %q", c.Summary)
		}
	}
}

// A record torn by a crash mid-write is cut before the next one is
// appended, so the next one is not lost with it.
func TestFeedbackAfterTornWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feedback.jsonl")
	os.WriteFile(path, []byte(`{"service":"s","card":"whole","outcome":"overridden","outcomeTimestamp":"2026-01-01T00:00:00Z"}`+"\n"+`{"service":"s","card":"to`), 0o600)
	store := &cdshooks.FileFeedback{Path: path}
	if err := store.AddFeedback(context.Background(), "s", []cdshooks.Feedback{{Card: "after", Outcome: "overridden", OutcomeTimestamp: "2026-01-02T00:00:00Z"}}); err != nil {
		t.Fatal(err)
	}
	got, err := store.ReadFeedback()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Card != "whole" || got[1].Card != "after" {
		t.Errorf("after a torn write: %+v", got)
	}
}

// The FHIR server a request names is read only when it is on an
// allow-list (the service's or the caller's). With no list nothing is
// fetched and missing prefetch is 412 naming the setting; with a list
// that lacks it the call is 403 whether or not prefetch was sent. Either
// way the server named sees no connection, and the refusal says nothing
// about it.
func TestFHIRServerAllowList(t *testing.T) {
	var conns atomic.Int64
	named := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
	}))
	named.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	named.Start()
	defer named.Close()
	p := patients(t)["syn-03"]
	h := hooks(t, nil)
	elsewhere := "https://fhir.hospital.example/r4"
	global := cdshooks.New(cdshooks.Config{Guidelines: corpus, Predictors: preds, FHIRServers: []string{elsewhere},
		Now: func() time.Time { return now }})
	cases := []struct {
		name     string
		h        *cdshooks.Hooks
		prefetch bool
		callers  []string
		want     string
	}{
		{"no allow-list, prefetch missing", h, false, nil, orthocds.EPRECONDITION},
		{"global list without it", global, false, nil, orthocds.EFORBIDDEN},
		{"global list without it, prefetch sent", global, true, nil, orthocds.EFORBIDDEN},
		{"caller's list without it", h, false, []string{elsewhere}, orthocds.EFORBIDDEN},
		{"a look-alike with user information", h, false, []string{"http://" + strings.TrimPrefix(named.URL, "http://") + "@other.example"}, orthocds.EFORBIDDEN},
		{"no allow-list, prefetch sent", h, true, nil, ""},
	}
	for _, tc := range cases {
		req, err := p.Request(h, cdshooks.OsteoporosisID, "patient-view", tc.prefetch)
		if err != nil {
			t.Fatal(err)
		}
		req.FHIRServer = named.URL
		_, err = tc.h.Call(context.Background(), cdshooks.OsteoporosisID, req,
			cdshooks.Invocation{Base: base, Lang: "en", FHIRServers: tc.callers})
		if got := orthocds.ErrorCode(err); (tc.want == "" && err != nil) || (tc.want != "" && got != tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		msg := orthocds.ErrorMessage(err)
		if err != nil && (strings.Contains(msg, named.URL) || !strings.Contains(msg, "ORTHOCDS_FHIR_SERVERS")) {
			t.Errorf("%s: message %q should name the setting and not the server", tc.name, msg)
		}
		if tc.want == orthocds.EFORBIDDEN && !errors.Is(err, cdshooks.ErrFHIRServerNotAllowed) {
			t.Errorf("%s: %v does not wrap ErrFHIRServerNotAllowed", tc.name, err)
		}
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("the FHIR server named saw %d connections, want none", n)
	}
}

// Allow-list entries are compared in canonical form: case, default ports
// and a trailing slash do not matter; user information, queries and
// other schemes are refused.
func TestParseFHIRServers(t *testing.T) {
	got, err := cdshooks.ParseFHIRServers("ORTHOCDS_FHIR_SERVERS", []string{"HTTPS://FHIR.Example.org:443/R4/", "http://[::1]:8080/fhir", "http://10.0.0.7:80"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://fhir.example.org/R4", "http://[::1]:8080/fhir", "http://10.0.0.7"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("canonical forms (-want +got):\n%s", diff)
	}
	for i, bad := range []string{"ftp://fhir.example.org", "https://user@fhir.example.org", "https://fhir.example.org/r4?x=1", "https://fhir.example.org/#a", "fhir.example.org", ""} {
		_, err := cdshooks.ParseFHIRServers("ORTHOCDS_FHIR_SERVERS", []string{"https://ok.example.org", bad})
		if fieldOf(err) != "ORTHOCDS_FHIR_SERVERS/1" {
			t.Errorf("%d %q: %v, want an error at ORTHOCDS_FHIR_SERVERS/1", i, bad, err)
		}
	}
}

// The patient of issue 17, coded as Synthea and US Core code them, with
// every display text removed: SNOMED CT 64859006 and 443165006 (a
// pathological fracture due to osteoporosis eight months ago), LOINC
// 38265-5 DXA T-score -2.9, weight 48.5 kg. The osteoporosis service reads
// severe (established) osteoporosis and the very high risk tier, and
// offers the very-high-risk drug guidance, from codes alone.
func TestCodedPatientOfIssue17(t *testing.T) {
	h := hooks(t, nil)
	req := `{"hook":"patient-view","hookInstance":"i17","context":{"patientId":"p17","userId":"Practitioner/1"},"prefetch":{
	 "patient":{"resourceType":"Patient","id":"p17","gender":"female","birthDate":"1951-06-01"},
	 "conditions":{"resourceType":"Bundle","type":"searchset","entry":[
	  {"resource":{"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":"64859006"}]}}},
	  {"resource":{"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":"443165006"}]},"onsetDateTime":"2026-03-10"}}]},
	 "observations":{"resourceType":"Bundle","type":"searchset","entry":[
	  {"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"38265-5"}]},"valueQuantity":{"value":-2.9,"unit":"{T-score}"}}},
	  {"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},"valueQuantity":{"value":48.5,"code":"kg"}}}]},
	 "medications":null}}`
	r, err := cdshooks.DecodeRequest(strings.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.Call(context.Background(), cdshooks.OsteoporosisID, r, cdshooks.Invocation{Base: base, Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, c := range resp.Cards {
		fmt.Fprintln(&all, c.Summary, "|", c.Detail)
	}
	for _, want := range []string{"Severe (established) osteoporosis", "Fracture risk tier: very high",
		"Very high fracture risk and no osteoporosis drug"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("cards lack %q:\n%s", want, all.String())
		}
	}
}

// TestPredictorInputsSayWhereTheyCameFrom checks issue 17's second point:
// inputs an EHR records are read from its coded data, and the card says
// for each input whether a code, words, the order or the cohort default
// gave it.
func TestPredictorInputsSayWhereTheyCameFrom(t *testing.T) {
	h := hooks(t, nil)
	const hypertensionCoded = `{"resource":{"resourceType":"Condition","clinicalStatus":{"coding":[{"code":"active"}]},"code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003"}]}}}`
	const hypertensionWords = `{"resource":{"resourceType":"Condition","clinicalStatus":{"coding":[{"code":"active"}]},"code":{"text":"Essential hypertension"}}}`
	const ddimer = `{"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"48065-7"}]},"valueQuantity":{"value":850,"code":"ng/mL{FEU}"}}}`
	for _, tc := range []struct {
		name         string
		conditions   string
		observations string
		want, absent []string
	}{
		{"coded", hypertensionCoded, ddimer,
			[]string{"- Hypertension: the record, SNOMED CT 38341003", "the record, D-dimer result",
				"- Previous DVT or PE: not in the record: taken as no", "- Joint replaced: the order", "- Duration of surgery: the order",
				"- Body-mass index", "weight and height in the record"},
			[]string{"D-dimer (mg/L FEU): not recorded"}},
		{"words", hypertensionWords, "",
			[]string{"- Hypertension: words in the record (no code matched)", "not recorded: the development cohort's default (imputed)"},
			[]string{"SNOMED CT 38341003", "D-dimer result"}},
		{"absent", "", "",
			[]string{"- Hypertension: not in the record: taken as no"},
			[]string{"words in the record"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := `{"hook":"order-select","hookInstance":"i17b","context":{"patientId":"p","userId":"Practitioner/1","selections":["ServiceRequest/tha"],
			 "draftOrders":{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"ServiceRequest","id":"tha","status":"draft","intent":"order",
			   "extension":[{"url":"https://orthocds.org/fhir/StructureDefinition/predictor-input","id":"surgery_hours","valueDecimal":2}],
			   "code":{"coding":[{"system":"http://snomed.info/sct","code":"52734007"}]}}}]}},"prefetch":{
			 "patient":{"resourceType":"Patient","id":"p","gender":"female","birthDate":"1950-02-01"},
			 "conditions":{"resourceType":"Bundle","type":"searchset","entry":[` + tc.conditions + `]},
			 "observations":{"resourceType":"Bundle","type":"searchset","entry":[
			  {"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},"valueQuantity":{"value":70,"code":"kg"}}},
			  {"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8302-2"}]},"valueQuantity":{"value":160,"code":"cm"}}}` +
				map[bool]string{true: "," + tc.observations}[tc.observations != ""] + `]},
			 "medications":null}}`
			r, err := cdshooks.DecodeRequest(strings.NewReader(req))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := h.Call(context.Background(), cdshooks.VTEID, r, cdshooks.Invocation{Base: base, Lang: "en"})
			if err != nil {
				t.Fatal(err)
			}
			var card *cdshooks.Card
			for i, c := range resp.Cards {
				if strings.Contains(c.Detail, "Where the inputs came from") {
					card = &resp.Cards[i]
				}
			}
			if card == nil {
				t.Fatalf("no predictor card with its inputs' origins: %v", summaries(resp))
			}
			for _, w := range tc.want {
				if !strings.Contains(card.Detail, w) {
					t.Errorf("card lacks %q:\n%s", w, card.Detail)
				}
			}
			for _, w := range tc.absent {
				if strings.Contains(card.Detail, w) {
					t.Errorf("card has %q:\n%s", w, card.Detail)
				}
			}
		})
	}
}

// Cards give each source's grade as the source gives it, naming the source
// ("ACCP 2012: 1B"), and say plainly when it gives none or when it has not
// been checked: never a bare status word.
func TestCardsShowGradesAsTheSourceGivesThem(t *testing.T) {
	h := hooks(t, nil)
	seen := map[string]bool{}
	for _, p := range patients(t) {
		for _, svc := range p.Services {
			for _, lang := range []string{"en", "zh"} {
				for _, c := range call(t, h, p, svc, lang).Cards {
					for _, bare := range []string{"not-verified", "not-graded", "stated"} {
						if strings.Contains(c.Detail, "; "+bare) || strings.Contains(c.Detail, "("+bare) || strings.Contains(c.Detail, " "+bare+";") {
							t.Errorf("%s/%s/%s: bare grade status %q:\n%s", p.ID, svc, lang, bare, c.Detail)
						}
					}
					for _, want := range []string{"ACCP 2012: 1B", "ASH 2019: conditional recommendation, moderate certainty", "does not grade this statement", "grade not yet checked", "未对此条分级", "分级尚未与原文核对"} {
						if strings.Contains(c.Detail, want) {
							seen[want] = true
						}
					}
				}
			}
		}
	}
	for _, want := range []string{"ACCP 2012: 1B", "ASH 2019: conditional recommendation, moderate certainty", "grade not yet checked", "分级尚未与原文核对"} {
		if !seen[want] {
			t.Errorf("no card shows %q", want)
		}
	}
}
