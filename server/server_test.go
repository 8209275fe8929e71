package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/orthocds/orthocds/answer"
	"github.com/orthocds/orthocds/cdshooks"
	"github.com/orthocds/orthocds/handouts"
	"github.com/orthocds/orthocds/internal/corpustest"
	"github.com/orthocds/orthocds/llm"
	"github.com/orthocds/orthocds/llm/ollamareplay"
)

var (
	fixOnce sync.Once
	fix     *corpustest.Fixture
	fixErr  error
)

func setup(t testing.TB) *corpustest.Fixture {
	t.Helper()
	fixOnce.Do(func() { fix, fixErr = corpustest.Open(tempDir) })
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fix
}

func newServer(t *testing.T, model answer.LLM) *httptest.Server {
	f := setup(t)
	s := New(Config{
		Search:     f.Retriever,
		Answer:     answer.New(f.Retriever, f.Analyzer, model, nil, answer.DefaultConfig),
		Guidelines: f.Corpus,
		Checks: []Check{{Name: "store", Required: true, Run: func(ctx context.Context) (string, error) {
			return "ok", f.Store.Ping(ctx)
		}}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts
}

func post(t *testing.T, url, body string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestSearchBatch(t *testing.T) {
	ts := newServer(t, nil)
	resp, body := post(t, ts.URL+"/v1/search", `{"queries": [
		{"text": "地舒单抗停药", "k": 3},
		{"text": "VTE prophylaxis after knee arthroplasty", "k": 2},
		{"text": "cement leakage after vertebroplasty", "k": 4}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var sr searchResponse
	if err := json.Unmarshal(body, &sr); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, r := range sr.Results {
		sizes = append(sizes, len(r.Hits))
	}
	if diff := cmp.Diff([]int{3, 2, 4}, sizes); diff != "" {
		t.Fatalf("result sizes (-want +got):\n%s", diff)
	}
	// The Chinese query must land on an entry about denosumab, in whichever
	// guideline, with its source attached.
	if top := sr.Results[0].Hits[0]; !slices.Contains(top.Topics, "denosumab") || top.Citation.Body == "" {
		t.Errorf("Chinese query top hit %s (topics %v) with source %q", top.DocID, top.Topics, top.Citation.Body)
	}
	if sr.Model != setup(t).Embedder.Model() {
		t.Errorf("model %q", sr.Model.Name)
	}
}

// Bad requests get problem JSON naming the field, and change nothing.
func TestBadRequests(t *testing.T) {
	ts := newServer(t, nil)
	many := `{"queries": [` + strings.Repeat(`{"text": "x"},`, 9999) + `{"text": "x"}]}`
	tests := []struct {
		name, path, body string
		status           int
		field            string
	}{
		{"empty query", "/v1/search", `{"queries": [{"text": ""}]}`, 422, "/queries/0/text"},
		{"no queries", "/v1/search", `{"queries": []}`, 422, "/queries"},
		{"10,000 queries", "/v1/search", many, 422, "/queries"},
		{"malformed JSON", "/v1/search", `{"queries": [`, 400, ""},
		{"two JSON values", "/v1/search", `{"queries": [{"text": "a"}]} {}`, 400, ""},
		{"unknown filter", "/v1/search", `{"queries": [{"text": "a", "filter": {"colour": "red"}}]}`, 422, "colour"},
		{"bad filter value", "/v1/search", `{"queries": [{"text": "a", "filter": {"langs": ["fr"]}}]}`, 422, "/queries/0/filter/langs"},
		{"wrong type", "/v1/search", `{"queries": [{"text": "a", "k": "five"}]}`, 422, "/queries/k"},
		{"k too big", "/v1/search", `{"queries": [{"text": "a", "k": 500}]}`, 422, "/queries/0/k"},
		{"body too large", "/v1/ask", `{"question": "` + strings.Repeat("a", 5<<20) + `"}`, 413, ""},
		{"empty question", "/v1/ask", `{"question": ""}`, 422, "/question"},
		{"unknown calculator", "/v1/calculators/frax2", `{}`, 404, "name"},
		{"calculator out of range", "/v1/calculators/osta", `{"weight_kg": -3, "age_years": 250}`, 422, "/weight_kg"},
	}
	before, _ := setup(t).Store.Stats(context.Background())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, ts.URL+tt.path, tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type %q", ct)
			}
			var p Problem
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatalf("not problem JSON: %s", body)
			}
			if p.Status != tt.status || p.Field != tt.field || p.Detail == "" {
				t.Errorf("problem %+v; want status %d field %q", p, tt.status, tt.field)
			}
		})
	}
	after, _ := setup(t).Store.Stats(context.Background())
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("bad requests changed the store (-before +after):\n%s", diff)
	}
}

func TestAskJSONRetrievalOnly(t *testing.T) {
	ts := newServer(t, nil)
	resp, body := post(t, ts.URL+"/v1/ask", `{"question": "Can denosumab be stopped?"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var a answer.Answer
	json.Unmarshal(body, &a)
	stop := []string{"endo-2019-denosumab-no-stop", "ects-2017-denosumab-rebound", "ects-2017-denosumab-transition"}
	if a.Mode != answer.ModeRetrievalOnly || len(a.Quotes) == 0 || !slices.Contains(stop, a.Quotes[0].Citations[0]) ||
		!strings.Contains(a.Disclaimer, "does not replace") {
		t.Errorf("answer: mode %q, quotes %v, disclaimer %q", a.Mode, a.Quotes, a.Disclaimer)
	}
}

// readEvents parses a server-sent event stream into (type, data) pairs.
func readEvents(t *testing.T, r io.Reader) [][2]string {
	t.Helper()
	var out [][2]string
	var typ string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			typ = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			out = append(out, [2]string{typ, strings.TrimPrefix(line, "data: ")})
		}
	}
	return out
}

func TestAskStreams(t *testing.T) {
	reply := `{"summary":{"text":"Follow denosumab with a bisphosphonate.","citations":["S1"]},"diagnoses":[],"tests":[],"treatments":[],"abstain":false}`
	srv := ollamareplay.New([]string{"m"}, func(string, []ollamareplay.Message) ollamareplay.Script {
		return ollamareplay.Script{Chunks: []string{reply[:30], reply[30:60], reply[60:]}}
	})
	defer srv.Close()
	c, err := llm.New(llm.Config{Provider: llm.ProviderOllama, BaseURL: srv.URL, Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, c)
	req, _ := http.NewRequest("POST", ts.URL+"/v1/ask", strings.NewReader(`{"question": "Can denosumab be stopped?"}`))
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	events := readEvents(t, resp.Body)
	var types []string
	for _, e := range events {
		types = append(types, e[0])
	}
	if diff := cmp.Diff([]string{"sources", "token", "token", "token", "answer"}, types); diff != "" {
		t.Fatalf("event types (-want +got):\n%s", diff)
	}
	var sources []answer.Source
	json.Unmarshal([]byte(events[0][1]), &sources)
	var a answer.Answer
	json.Unmarshal([]byte(events[len(events)-1][1]), &a)
	// The model cited S1: the summary must carry the ID of the first source sent.
	if a.Mode != answer.ModeLLM || len(sources) == 0 || a.Summary.Citations[0] != sources[0].ID {
		t.Errorf("final answer: mode %q summary %+v, first source %+v", a.Mode, a.Summary, sources)
	}
}

func TestGuidelinesAndCalculators(t *testing.T) {
	ts := newServer(t, nil)
	get := func(path string) (int, map[string]any) {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	var accpVTE float64
	for _, e := range setup(t).Corpus.Entries {
		if e.Source.Key == "ACCP" && e.Domain == "vte" {
			accpVTE++
		}
	}
	if code, m := get("/v1/guidelines?domain=vte&source=ACCP"); code != 200 || accpVTE == 0 || m["count"].(float64) != accpVTE {
		t.Errorf("ACCP VTE entries: %d %v, want %v", code, m["count"], accpVTE)
	}
	if code, m := get("/v1/guidelines/accp-2012-tha-tka-agents"); code != 200 || m["grade"].(map[string]any)["evidence"] != "B" {
		t.Errorf("entry: %d %v", code, m["grade"])
	}
	if code, m := get("/v1/guidelines/nope"); code != 404 || m["field"] != "id" {
		t.Errorf("missing entry: %d %v", code, m)
	}
	if code, _ := get("/v1/guidelines?colour=red"); code != 422 {
		t.Errorf("unknown list filter: %d", code)
	}
	resp, body := post(t, ts.URL+"/v1/calculators/caprini", `{"age_years": 68, "items": ["elective-lower-extremity-arthroplasty", "bmi-over-25"]}`)
	var out struct {
		Result struct {
			Value    float64 `json:"value"`
			Category string  `json:"category"`
		} `json:"result"`
	}
	json.Unmarshal(body, &out)
	if resp.StatusCode != 200 || out.Result.Value != 8 || out.Result.Category != "highest" {
		t.Errorf("caprini: %d %s", resp.StatusCode, body)
	}
	if code, m := get("/readyz"); code != 200 || m["ready"] != true {
		t.Errorf("readyz: %d %v", code, m)
	}
}

// Every route the router serves is in the OpenAPI document, and the
// document names no route the router lacks.
func TestOpenAPICoversRoutes(t *testing.T) {
	hooks := cdshooks.New(cdshooks.Config{Guidelines: setup(t).Corpus})
	drillSvc, _ := drillService(t)
	sheets, err := handouts.Load(setup(t).Corpus)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Guidelines: setup(t).Corpus, CDSHooks: hooks, Viewer: hooks, Drills: drillSvc, Handouts: sheets})
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openapiDoc, &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	served := map[string]bool{}
	chi.Walk(s.router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if route != "/*" {
			served[method+" "+route] = true
		}
		return nil
	})
	if diff := cmp.Diff(documented, served); diff != "" {
		t.Errorf("OpenAPI paths vs router (-documented +served):\n%s", diff)
	}
}

// A handler that panics answers 500 problem JSON and the server lives on.
func TestPanicIsContained(t *testing.T) {
	s := New(Config{Guidelines: nil, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ts := httptest.NewServer(s)
	defer ts.Close()
	for range 2 {
		resp, err := http.Get(ts.URL + "/v1/guidelines") // nil corpus: panics
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 500 || !regexp.MustCompile(`"status":500`).Match(b) {
			t.Errorf("status %d body %s", resp.StatusCode, b)
		}
	}
	if resp, err := http.Get(ts.URL + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("server did not survive a panic: %v", err)
	}
}

var tempDir string

func TestMain(m *testing.M) {
	var err error
	if tempDir, err = os.MkdirTemp("", "orthocds-server-test"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tempDir)
	os.Exit(code)
}

// The largest valid batch (256 queries of 2,000 Chinese characters) is
// within the body bound.
func TestLargestBatchFits(t *testing.T) {
	ts := newServer(t, nil)
	q := `{"text": "` + strings.Repeat("骨", 2000) + `", "k": 1}`
	body := `{"queries": [` + strings.Repeat(q+",", 255) + q + `]}`
	resp, b := post(t, ts.URL+"/v1/search", body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d for a %d-byte maximal batch: %.200s", resp.StatusCode, len(body), b)
	}
}

// sqlError mimics a database error that echoes an input value.
type sqlError struct{ msg string }

func (e *sqlError) Error() string    { return e.msg }
func (e *sqlError) SQLState() string { return "22P02" }

func TestSafeCauseDropsFreeText(t *testing.T) {
	secret := "张三 身份证 110101199003077777"
	err := fmt.Errorf("DB.Search: %w", &sqlError{msg: `invalid input syntax for type tsquery: "` + secret + `"`})
	got := safeCause(err)
	if strings.Contains(got, "张三") || strings.Contains(got, "110101") {
		t.Errorf("log cause leaks request text: %s", got)
	}
	if !strings.Contains(got, "SQLSTATE 22P02") {
		t.Errorf("log cause lost the SQLSTATE: %s", got)
	}
}
