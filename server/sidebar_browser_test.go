package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/answer"
	"github.com/orthocds/orthocds/auth"
	"github.com/orthocds/orthocds/cdshooks"
	"github.com/orthocds/orthocds/cdshooks/population"
	"github.com/orthocds/orthocds/handouts"
	"github.com/orthocds/orthocds/internal/browsertest"
	"github.com/orthocds/orthocds/patient"
	"github.com/orthocds/orthocds/predictors"
	"github.com/orthocds/orthocds/predictors/shipped"
	"github.com/orthocds/orthocds/web"
)

// sidebarServer is the whole platform on its embedded defaults: corpus,
// predictors, CDS services, retrieval-only answers and the pages; open as
// the loopback demo is.
func sidebarServer(t *testing.T) (*httptest.Server, *cdshooks.FileFeedback) {
	ts, fb, _ := keyedSidebarServer(t, false)
	return ts, fb
}

// keyedSidebarServer is sidebarServer, locked by API keys when keyed: it
// returns a clinician's key.
func keyedSidebarServer(t *testing.T, keyed bool) (*httptest.Server, *cdshooks.FileFeedback, string) {
	f := setup(t)
	arts, err := shipped.Artefacts()
	if err != nil {
		t.Fatal(err)
	}
	preds, err := predictors.NewService(arts)
	if err != nil {
		t.Fatal(err)
	}
	fb := &cdshooks.FileFeedback{Path: filepath.Join(t.TempDir(), "feedback.jsonl")}
	hooks := cdshooks.New(cdshooks.Config{Guidelines: f.Corpus, Predictors: preds, Feedback: fb, Search: f.Retriever, Scope: f.Analyzer})
	keys, err := auth.OpenKeys(filepath.Join(t.TempDir(), "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	var key string
	if keyed {
		key, _, _ = keys.Create("ward 7 sidebar", orthocds.RoleClinician)
	}
	authn := &auth.Authenticator{Keys: keys, Open: true}
	sheets, err := handouts.Load(f.Corpus)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Search: f.Retriever, Answer: answer.New(f.Retriever, f.Analyzer, nil, nil, answer.DefaultConfig),
		Guidelines: f.Corpus, Predictors: preds, CDSHooks: hooks, CDSOpen: !keyed, Viewer: hooks, Web: web.Pages(), Handouts: sheets,
		Authenticate: authn.Authenticate, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts, fb, key
}

// The sidebar page opened standalone on a synthetic patient, on an
// install locked by API keys with a clinician's key given in the page,
// shows the patient, the cards and a risk explanation; overriding a card
// records feedback (a CDS Hooks call the key admits); a question about
// the patient gets a cited answer.
func TestSidebarStandalone(t *testing.T) {
	ts, fb, key := keyedSidebarServer(t, true)
	ctx := browsertest.Context(t, 3*time.Minute)
	// The key as the clinician would paste it, kept for the tab.
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/healthz")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`sessionStorage.setItem('orthocds-key', `+strconvQuote(key)+`)`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/sidebar/index.html?patient=syn-06"),
		chromedp.WaitVisible("article.card")); err != nil {
		t.Fatal(err)
	}
	page, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`({
		mode: document.getElementById('mode').textContent,
		facts: document.getElementById('facts').textContent,
		cards: Array.from(document.querySelectorAll('article.card h3')).map(h => h.textContent),
		explained: Array.from(document.querySelectorAll('article.card .detail')).some(d => d.textContent.includes('Largest contributions')),
		cited: Array.from(document.querySelectorAll('article.card .source a')).every(a => a.href.startsWith(location.origin + '/v1/')),
	})`))
	if err != nil {
		t.Fatal(err)
	}
	cards := strings.Join(toStrings(page["cards"]), " | ")
	if !strings.Contains(page["mode"].(string), "SYNTHETIC") || !strings.Contains(page["facts"].(string), "Essential hypertension") ||
		!strings.Contains(cards, "Caprini") || !strings.Contains(cards, "DVT/PE") || page["explained"] != true || page["cited"] != true {
		t.Errorf("sidebar page: %v", page)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", browsertest.Artefact(t, "sidebar-standalone-cards.png", shot))

	// Override the first card with a reason: stored as CDS Hooks feedback.
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`article.card .actions select`), "not-applicable"),
		chromedp.Click(`//article[contains(@class,'card')][1]//button[contains(., 'Override')]`),
		chromedp.WaitVisible(chromedp.CSS(`article.card .done`))); err != nil {
		t.Fatal(err)
	}
	if got, _ := fb.ReadFeedback(); len(got) != 1 || got[0].Outcome != "overridden" || got[0].OverrideReason == nil ||
		got[0].OverrideReason.Reason.Code != "not-applicable" {
		t.Errorf("feedback from the page: %+v", got)
	}

	// Ask about the patient.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("question"), "Which VTE prophylaxis options exist after total knee arthroplasty?"),
		chromedp.Click(chromedp.ID("ask-btn")),
		chromedp.WaitVisible(chromedp.CSS("#answer-sources li"))); err != nil {
		t.Fatal(err)
	}
	ans, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`({
		label: document.getElementById('answer-label').textContent,
		sources: document.getElementById('answer-sources').textContent,
		disclaimer: document.getElementById('disclaimer').textContent,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ans["sources"], "[") || !strings.Contains(strings.ToLower(ans["sources"]), "arthroplasty") ||
		!strings.Contains(ans["disclaimer"], "does not replace") || ans["label"] == "" {
		t.Errorf("answer about the patient: %v", ans)
	}
	shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", browsertest.Artefact(t, "sidebar-standalone-answer.png", shot))

	// In Chinese.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("lang")),
		chromedp.WaitVisible(`//h3[contains(., 'Caprini评分')]`)); err != nil {
		t.Fatal(err)
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// mockEHR is a SMART on FHIR EHR for one synthetic patient: discovery,
// an authorization endpoint that grants at once, a token endpoint that
// checks the PKCE verifier, and a FHIR API that demands the token.
type mockEHR struct {
	t         *testing.T
	patient   cdshooks.SyntheticPatient
	mu        sync.Mutex
	challenge string
	verified  bool
}

func (e *mockEHR) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	if r.Method == http.MethodOptions {
		return
	}
	base := "http://" + r.Host
	switch {
	case r.URL.Path == "/.well-known/smart-configuration":
		json.NewEncoder(w).Encode(map[string]any{"authorization_endpoint": base + "/authorize", "token_endpoint": base + "/token",
			"capabilities": []string{"launch-ehr", "client-public"}, "code_challenge_methods_supported": []string{"S256"}})
	case r.URL.Path == "/authorize":
		q := r.URL.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("launch") != "launch-123" || q.Get("aud") != base || q.Get("response_type") != "code" {
			http.Error(w, "bad authorize request", http.StatusBadRequest)
			return
		}
		e.mu.Lock()
		e.challenge = q.Get("code_challenge")
		e.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code=code-456&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	case r.URL.Path == "/token":
		r.ParseForm()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		e.mu.Lock()
		e.verified = base64.RawURLEncoding.EncodeToString(sum[:]) == e.challenge && r.PostForm.Get("code") == "code-456"
		ok := e.verified
		e.mu.Unlock()
		if !ok {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"access_token": "ehr-token", "token_type": "Bearer", "expires_in": 300,
			"scope": "launch patient/*.rs", "patient": e.patient.ID})
	default:
		if r.Header.Get("Authorization") != "Bearer ehr-token" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		rs, _ := e.patient.Resources()
		typ := strings.Trim(r.URL.Path, "/")
		if strings.HasPrefix(typ, "Patient/") {
			w.Write(rs["Patient"][0])
			return
		}
		w.Write(cdshooks.SearchSet(rs[typ]))
	}
}

// The EHR launch: discovery at the EHR's .well-known/smart-configuration,
// authorization with PKCE (the EHR checks the verifier), the patient's
// data read from the EHR in the browser, and the cards shown.
func TestSidebarSMARTLaunch(t *testing.T) {
	ts, _ := sidebarServer(t)
	ps, _ := cdshooks.SyntheticPatients()
	ehr := &mockEHR{t: t}
	for _, p := range ps {
		if p.ID == "syn-08" {
			ehr.patient = p
		}
	}
	es := httptest.NewServer(ehr)
	defer es.Close()
	ctx := browsertest.Context(t, 3*time.Minute)
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/sidebar/launch.html?iss="+url.QueryEscape(es.URL)+"&launch=launch-123"),
		chromedp.WaitVisible("article.card")); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`({
		mode: document.getElementById('mode').textContent,
		cards: Array.from(document.querySelectorAll('article.card h3')).map(h => h.textContent).join(' | '),
		url: location.href,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	ehr.mu.Lock()
	verified := ehr.verified
	ehr.mu.Unlock()
	if !verified || !strings.Contains(got["mode"], "EHR") || !strings.Contains(got["cards"], "cement leakage") ||
		strings.Contains(got["url"], "code=") {
		t.Errorf("after the SMART launch (PKCE verified %v): %v", verified, got)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", browsertest.Artefact(t, "sidebar-smart-launch.png", shot))
}

// The question page (/) asks through server-sent events and shows the
// retrieval-only answer with its sources and the disclaimer.
func TestQuestionPage(t *testing.T) {
	ts, _ := sidebarServer(t)
	ctx := browsertest.Context(t, 3*time.Minute)
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/?q="+url.QueryEscape("Can denosumab be stopped after five years?")),
		chromedp.WaitVisible(chromedp.CSS("#source-list li"))); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`({
		label: document.getElementById('label').textContent,
		sources: document.getElementById('source-list').textContent,
		disclaimer: document.getElementById('disclaimer').textContent,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.ToLower(got["sources"]), "denosumab") || got["label"] == "" || !strings.Contains(got["disclaimer"], "does not replace") {
		t.Errorf("question page: %v", got)
	}
	// The answer cites the denosumab entries: a handout on them is offered,
	// and its notes are among the answer's citations.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#handout button"))); err != nil {
		t.Fatal(err)
	}
	offer, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`({
		href: document.querySelector('#handout button[data-lang="zh"]').dataset.href,
		cited: Array.from(document.querySelectorAll('#answer .cite')).map(c => c.textContent).join(' '),
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+offer["href"].(string)), chromedp.WaitVisible("article.page")); err != nil {
		t.Fatal(err)
	}
	notes, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('.notes li')).map(l => l.dataset.entry)`))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range notes {
		if !strings.Contains(offer["cited"].(string), n) {
			t.Errorf("handout note %s is not cited by the answer (%s)", n, offer["cited"])
		}
	}
	if len(notes) == 0 {
		t.Error("the answer's handout has no notes")
	}
}

// The sidebar in the EHR's frame, 360 px wide, on a patient whose EHR
// sends codes alone (a Chinese hospital's ICD-10 with ATC drug codes, from
// the SYNTHETIC coded population): the cards come from the codes, the
// codes no value set knows are counted and listed, and nothing overflows
// the frame, in English and in Chinese. Screenshots are test artefacts.
func TestSidebarNarrowCodedPatient(t *testing.T) {
	ts, _ := sidebarServer(t)
	now := time.Now()
	var chosen population.Patient
	var unknown int
	for _, p := range population.Generate(17, 240, now) {
		r := patient.Reader{Now: now}
		if p.Style != population.CNICD10 || p.Expect.Category == "" || r.Add("/b", p.CodesOnly) != nil {
			continue
		}
		if n := len(r.Record().Uninterpreted); n > 0 {
			chosen, unknown = p, n
			break
		}
	}
	if unknown == 0 {
		t.Fatal("no Chinese-coded patient with an unknown code in the population")
	}
	ehr := &mockEHR{t: t, patient: cdshooks.SyntheticPatient{ID: chosen.ID, Bundle: chosen.CodesOnly}}
	es := httptest.NewServer(ehr)
	defer es.Close()
	ctx := browsertest.Context(t, 3*time.Minute)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 900),
		chromedp.Navigate(ts.URL+"/sidebar/launch.html?iss="+url.QueryEscape(es.URL)+"&launch=launch-123"),
		chromedp.WaitVisible("article.card")); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "zh"} {
		if lang == "zh" {
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("lang")), chromedp.WaitVisible(`//dt[contains(., '未能识别的编码')]`)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`({
			width: document.documentElement.scrollWidth,
			cards: Array.from(document.querySelectorAll('article.card h3')).map(h => h.textContent).join(' | '),
			unknown: (document.querySelector('#uninterpreted summary') || {}).textContent,
			listed: document.querySelectorAll('#uninterpreted li').length,
		})`))
		if err != nil {
			t.Fatal(err)
		}
		if w := got["width"].(float64); w > 362 {
			t.Errorf("%s: the page is %v px wide in a 360 px frame", lang, w)
		}
		if got["unknown"] != fmt.Sprint(unknown) || got["listed"].(float64) != float64(unknown) {
			t.Errorf("%s: %v codes not interpreted shown (%v listed), want %d", lang, got["unknown"], got["listed"], unknown)
		}
		if !strings.Contains(got["cards"].(string), "T") {
			t.Errorf("%s: no T-score card from the codes: %v", lang, got["cards"])
		}
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", browsertest.Artefact(t, "sidebar-360px-coded-"+lang+".png", shot))
	}
}

// The sidebar opened on two synthetic patients offers a handout for the
// VTE risk card and for the denosumab card, in English, Chinese and both;
// each handout page draws as many filled figures as the probability says,
// numbers its notes from the card's own sources only, and prints to an A4
// PDF (screenshots and PDFs are test artefacts).
func TestSidebarHandouts(t *testing.T) {
	ts, _ := sidebarServer(t)
	ctx := browsertest.Context(t, 3*time.Minute)
	for _, tc := range []struct{ patient, card, name string }{
		{"syn-06", "DVT/PE", "vte"},
		{"syn-04", "Denosumab stopped", "denosumab"},
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/sidebar/index.html?patient="+tc.patient),
			chromedp.WaitVisible("article.card")); err != nil {
			t.Fatal(err)
		}
		card, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(() => {
			const c = Array.from(document.querySelectorAll('article.card')).find(a => a.querySelector('h3').textContent.includes(`+strconvQuote(tc.card)+`));
			if (!c) return {};
			return {
				hrefs: Object.fromEntries(Array.from(c.querySelectorAll('p.handout button')).map(b => [b.dataset.lang, b.dataset.href])),
				entries: Array.from(c.querySelectorAll('.detail a')).map(a => a.href).filter(h => h.includes('/v1/guidelines/')).map(h => decodeURIComponent(h.split('/v1/guidelines/')[1])),
			};
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		hrefs, _ := card["hrefs"].(map[string]any)
		sources := toStrings(card["entries"])
		if len(hrefs) != 3 || len(sources) == 0 {
			t.Fatalf("%s: the %q card offers handouts %v, sources %v", tc.patient, tc.card, hrefs, sources)
		}
		for _, lang := range []string{"en", "zh", "both"} {
			href := hrefs[lang].(string)
			u, _ := url.Parse(href)
			if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+href), chromedp.WaitVisible("article.page")); err != nil {
				t.Fatal(err)
			}
			got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`({
				pages: Array.from(document.querySelectorAll('article.page')).map(a => a.lang),
				affected: Array.from(document.querySelectorAll('svg.icon-array')).map(s => s.querySelectorAll('g.person.affected').length),
				people: Array.from(document.querySelectorAll('svg.icon-array')).map(s => s.querySelectorAll('g.person').length),
				alt: Array.from(document.querySelectorAll('svg.icon-array desc')).map(d => d.textContent),
				notes: Array.from(document.querySelectorAll('.notes li')).map(l => l.dataset.entry),
				refs: document.querySelectorAll('sup.note-ref').length,
			})`))
			if err != nil {
				t.Fatal(err)
			}
			pages := toStrings(got["pages"])
			want := map[string][]string{"en": {"en"}, "zh": {"zh"}, "both": {"zh", "en"}}[lang]
			if strings.Join(pages, ",") != strings.Join(want, ",") {
				t.Errorf("%s %s: pages %v", tc.name, lang, pages)
			}
			if p := u.Query().Get("probability"); p != "" {
				prob, _ := strconv.ParseFloat(p, 64)
				n := int(math.Round(100 * prob))
				aff, _ := got["affected"].([]any)
				ppl, _ := got["people"].([]any)
				if len(aff) != len(pages) || len(ppl) != len(pages) || aff[0] != float64(n) || ppl[0] != float64(100) || len(toStrings(got["alt"])) != len(pages) {
					t.Errorf("%s %s: probability %s, icon arrays %v of %v people, want %d of 100", tc.name, lang, p, aff, ppl, n)
				}
			} else if tc.name == "vte" {
				t.Errorf("%s: the risk card's handout carries no probability", tc.name)
			}
			notes := toStrings(got["notes"])
			if len(notes) == 0 || got["refs"] == float64(0) {
				t.Errorf("%s %s: no numbered notes", tc.name, lang)
			}
			for _, n := range notes {
				if !slices.Contains(sources, n) {
					t.Errorf("%s %s: note %s is not among the card's sources %v", tc.name, lang, n, sources)
				}
			}
			shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s", browsertest.Artefact(t, "handout-"+tc.name+"-"+lang+".png", shot))
			pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4)))
			if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF")) {
				t.Fatalf("%s %s: print to PDF: %v", tc.name, lang, err)
			}
			t.Logf("PDF: %s", browsertest.Artefact(t, "handout-"+tc.name+"-"+lang+".pdf", pdf))
		}
	}
}
