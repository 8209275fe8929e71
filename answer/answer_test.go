package answer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/analysis"
	"github.com/orthocds/orthocds/internal/corpustest"
	"github.com/orthocds/orthocds/llm"
	"github.com/orthocds/orthocds/llm/ollamareplay"
	"github.com/orthocds/orthocds/rag"
)

var (
	fixtureOnce sync.Once
	fixture     *corpustest.Fixture
	fixtureErr  error
)

// corpus indexes the shipped guidelines into an embedded store once.
func corpus(t *testing.T) (*rag.Retriever, *analysis.Analyzer) {
	t.Helper()
	fixtureOnce.Do(func() { fixture, fixtureErr = corpustest.Open(tempDir) })
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixture.Retriever, fixture.Analyzer
}

var tempDir string

func TestMain(m *testing.M) {
	var err error
	if tempDir, err = os.MkdirTemp("", "orthocds-answer-test"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tempDir)
	os.Exit(code)
}

func service(t *testing.T, model LLM) *Service {
	r, a := corpus(t)
	return New(r, a, model, nil, DefaultConfig)
}

func sourceIDs(a *Answer) []string {
	var ids []string
	for _, s := range a.Sources {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestRetrievalOnly(t *testing.T) {
	s := service(t, nil)
	// Entries that answer "can denosumab be stopped" (each says: not
	// without a follow-on drug, or why not).
	stopDenosumab := []string{"endo-2019-denosumab-no-stop", "ects-2017-denosumab-rebound", "ects-2017-denosumab-transition",
		"csobmr-2022-denosumab", "nogg-2022-denosumab-stop"}
	tests := []struct {
		q         string
		wantTop   []string
		wantQuote string // in the question's language
	}{
		{"Can I stop denosumab after five years?", stopDenosumab, "denosumab"},
		{"地舒单抗可以直接停药吗？", stopDenosumab, "地舒单抗"},
		{"全髋关节置换术后如何预防深静脉血栓？", nil, "预防"},
	}
	for _, tt := range tests {
		a, err := s.Ask(context.Background(), Request{Question: tt.q}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if a.Mode != ModeRetrievalOnly || !strings.Contains(a.Label, "") || a.Disclaimer != orthocds.Disclaimer {
			t.Errorf("%q: mode %q, disclaimer %q", tt.q, a.Mode, a.Disclaimer)
		}
		if len(a.Sources) == 0 || len(a.Quotes) != len(a.Sources) {
			t.Fatalf("%q: %d sources, %d quotes", tt.q, len(a.Sources), len(a.Quotes))
		}
		if tt.wantTop != nil && !slices.Contains(tt.wantTop, a.Sources[0].ID) {
			t.Errorf("%q: top source %s, want %s (all: %v)", tt.q, a.Sources[0].ID, tt.wantTop, sourceIDs(a))
		}
		if !strings.Contains(a.Quotes[0].Text, tt.wantQuote) {
			t.Errorf("%q: first quote %q lacks %q (wrong language?)", tt.q, a.Quotes[0].Text, tt.wantQuote)
		}
		for _, q := range a.Quotes {
			if len(q.Citations) != 1 {
				t.Errorf("quote without exactly one citation: %+v", q)
			}
		}
	}
}

func TestAbstainsOutOfScope(t *testing.T) {
	s := service(t, nil)
	for _, q := range []string{
		"What is the capital of France?",
		"How do I treat community-acquired pneumonia?",
		"如何治疗急性阑尾炎",
		"高血压的一线用药是什么",
	} {
		a, err := s.Ask(context.Background(), Request{Question: q}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if a.Mode != ModeAbstained || a.AbstainReason == "" || len(a.Sources) != 0 {
			t.Errorf("%q: mode %q with %d sources, want abstained with a reason", q, a.Mode, len(a.Sources))
		}
	}
}

const goodReply = `{"summary": {"text": "Do not stop denosumab without a follow-on drug.", "citations": ["S1", "S99"]},
 "diagnoses": [],
 "tests": [{"text": "Recheck BMD.", "reasoning": "invented", "citations": ["S99"]}],
 "treatments": [{"text": "Switch to a bisphosphonate.", "reasoning": "rebound bone loss", "citations": ["S1"]}],
 "abstain": false, "abstain_reason": ""}`

func replay(t *testing.T, models []string, sc ollamareplay.Script) (*ollamareplay.Server, *llm.Client) {
	t.Helper()
	srv := ollamareplay.New(models, func(string, []ollamareplay.Message) ollamareplay.Script { return sc })
	t.Cleanup(srv.Close)
	c, err := llm.New(llm.Config{Provider: llm.ProviderOllama, BaseURL: srv.URL, Model: "replay"})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// chunks splits s into pieces of n bytes, as a model streams tokens.
func chunks(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

func TestLLMStreamsAndChecksCitations(t *testing.T) {
	srv, c := replay(t, []string{"replay"}, ollamareplay.Script{Chunks: chunks(goodReply, 7)})
	s := service(t, c)
	var events []Event
	var tokens strings.Builder
	a, err := s.Ask(context.Background(), Request{Question: "Can I stop denosumab?"}, func(e Event) error {
		events = append(events, e)
		if e.Type == "token" {
			tokens.WriteString(e.Data.(string))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if a.Mode != ModeLLM || a.Model != "ollama:replay" {
		t.Fatalf("mode %q model %q, want llm from ollama:replay (llm error %q)", a.Mode, a.Model, a.LLMError)
	}
	if events[0].Type != "sources" || events[len(events)-1].Type != "answer" {
		t.Errorf("events start with %q and end with %q", events[0].Type, events[len(events)-1].Type)
	}
	if tokens.String() != goodReply {
		t.Errorf("streamed tokens do not add up to the reply")
	}
	s1 := a.Sources[0].ID
	if diff := cmp.Diff([]string{s1}, a.Summary.Citations); diff != "" {
		t.Errorf("summary citations (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"S99", "S99"}, a.DroppedCitations); diff != "" {
		t.Errorf("dropped citations (-want +got):\n%s", diff)
	}
	if a.DroppedItems != 1 || len(a.Tests) != 0 || len(a.Treatments) != 1 {
		t.Errorf("the item citing only an unknown source was not dropped: %d dropped, tests %v", a.DroppedItems, a.Tests)
	}
	// The prompt fences the sources and the question as data.
	reqs := srv.Requests()
	if len(reqs) != 1 || !strings.Contains(reqs[0].Messages[1].Content, `<source label="S1" id="`+s1+`">`) {
		t.Errorf("prompt does not carry numbered sources")
	}
}

func TestLLMFailuresFallBackToRetrieval(t *testing.T) {
	tests := []struct {
		name     string
		models   []string
		script   ollamareplay.Script
		wantErr  string
		wantKind string
	}{
		{"model not pulled", []string{"other"}, ollamareplay.Script{}, "ollama pull replay", llm.Unreachable},
		{"connection dropped mid-stream", []string{"replay"}, ollamareplay.Script{Chunks: chunks(goodReply, 9)[:3], Drop: true}, "dropped", llm.Dropped},
		{"reply not JSON", []string{"replay"}, ollamareplay.Script{Chunks: []string{"I think ", "you should stop it."}}, "not the JSON", llm.BadReply},
		{"reply citing nothing retrieved", []string{"replay"}, ollamareplay.Script{Chunks: []string{`{"summary":{"text":"x","citations":["S99"]},"diagnoses":[],"tests":[],"treatments":[],"abstain":false,"abstain_reason":""}`}},
			"cited none", llm.BadReply},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := replay(t, tt.models, tt.script)
			s := service(t, c)
			var types []string
			a, err := s.Ask(context.Background(), Request{Question: "Can I stop denosumab?"}, func(e Event) error {
				types = append(types, e.Type)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if a.Mode != ModeRetrievalOnly || !strings.Contains(a.LLMError, tt.wantErr) || a.LLMFailure != tt.wantKind {
				t.Errorf("mode %q, llm error %q (%s); want retrieval-only with %q (%s)", a.Mode, a.LLMError, a.LLMFailure, tt.wantErr, tt.wantKind)
			}
			// Only a model that never answered means none was used.
			if used := !strings.Contains(a.Label, "no language model was used"); used != (tt.wantKind != llm.Unreachable) {
				t.Errorf("%s: label %q", tt.wantKind, a.Label)
			}
			if len(a.Quotes) == 0 {
				t.Error("fallback answer has no quotes")
			}
			if !slices.Contains(types, "error") || types[len(types)-1] != "answer" {
				t.Errorf("events %v: want an error event and the answer last", types)
			}
		})
	}
}

func TestCancellation(t *testing.T) {
	srv, c := replay(t, []string{"replay"}, ollamareplay.Script{Chunks: []string{`{"summary":`}, Hang: true})
	s := service(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := s.Ask(ctx, Request{Question: "Can I stop denosumab?"}, func(e Event) error {
		if e.Type == "token" {
			cancel() // the client goes away after the first token
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Ask after cancel = %v, want context.Canceled", err)
	}
	<-srv.Cancelled // the model server saw the request end
}

func TestLLMAbstains(t *testing.T) {
	_, c := replay(t, []string{"replay"}, ollamareplay.Script{Chunks: []string{
		`{"summary":{"text":"","citations":[]},"diagnoses":[],"tests":[],"treatments":[],"abstain":true,"abstain_reason":"The sources do not cover dosing."}`}})
	a, err := service(t, c).Ask(context.Background(), Request{Question: "Denosumab dose in renal failure?"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Mode != ModeAbstained || a.AbstainReason != "The sources do not cover dosing." {
		t.Errorf("mode %q reason %q", a.Mode, a.AbstainReason)
	}
}

func TestBadRequests(t *testing.T) {
	s := service(t, nil)
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name      string
		req       Request
		wantField string
	}{
		{"empty", Request{Question: "  "}, "/question"},
		{"too long", Request{Question: strings.Repeat("骨", MaxQuestionLen+1)}, "/question"},
		{"k too big", Request{Question: "denosumab", K: 99}, "/k"},
		{"unknown language filter", Request{Question: "denosumab", Filter: rag.Filter{Langs: []string{"fr"}}}, "/queries/0/filter/langs"},
		{"absurd t-score", Request{Question: "denosumab", Patient: &Patient{TScore: f(-40)}}, "/patient/t_score"},
		{"unknown caprini item", Request{Question: "VTE", Patient: &Patient{AgeYears: f(70), CapriniItems: []string{"smoker"}}}, "/patient/caprini_items/0"},
	}
	for _, tt := range tests {
		_, err := s.Ask(context.Background(), tt.req, nil)
		var oe *orthocds.Error
		if !errors.As(err, &oe) || oe.Code != orthocds.EINVALID || oe.Field != tt.wantField {
			t.Errorf("%s: %v; want invalid at %s", tt.name, err, tt.wantField)
		}
	}
}

func TestCalculationsInAnswer(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	a, err := service(t, nil).Ask(context.Background(), Request{Question: "Does she need treatment for osteoporosis?",
		Patient: &Patient{AgeYears: f(70), Sex: "female", WeightKg: f(48), TScore: f(-2.8)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range a.Calculations {
		got = append(got, c.Calculator+"="+c.Category)
	}
	if diff := cmp.Diff([]string{"t-score=osteoporosis", "osta=high"}, got); diff != "" {
		t.Errorf("calculations (-want +got):\n%s", diff)
	}
}

// A retrieval-only answer quotes only entries on the question's subject.
func TestQuotesStayOnTopic(t *testing.T) {
	s := service(t, nil)
	for q, domain := range map[string]string{
		"地舒单抗可以直接停药吗":                                     "osteoporosis",
		"Should mild cervical myelopathy be operated on?": "dcm",
		"全髋关节置换术后如何预防深静脉血栓？":                              "vte",
	} {
		a, err := s.Ask(context.Background(), Request{Question: q}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, src := range a.Sources {
			e, ok := fixture.Corpus.Get(src.ID)
			if !ok || e.Domain != domain {
				t.Errorf("%q quotes %s (domain %q), want only %s entries", q, src.ID, e.Domain, domain)
			}
		}
	}
}

// TestSourcesDroppedToFit: with a model whose context is smaller than the
// prompt of every retrieved source, the lowest-ranked sources are left
// out of the prompt, never the system prompt or the question, and the
// answer says how many.
func TestSourcesDroppedToFit(t *testing.T) {
	srv := ollamareplay.New([]string{"small"}, func(string, []ollamareplay.Message) ollamareplay.Script {
		return ollamareplay.Script{Chunks: []string{`{"summary":{"text":"Stop denosumab only with a follow-on drug.","citations":["S1"]},"diagnoses":[],"tests":[],"treatments":[],"abstain":false,"abstain_reason":""}`}}
	})
	defer srv.Close()
	srv.ContextLength = 3072
	model, err := llm.New(llm.Config{Provider: llm.ProviderOllama, BaseURL: srv.URL, Model: "small"})
	if err != nil {
		t.Fatal(err)
	}
	const question = "Can I stop denosumab after five years?"
	ret, an := corpus(t)
	full, err := New(ret, an, nil, nil, DefaultConfig).Ask(context.Background(), Request{Question: question, K: 8}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(ret, an, model, nil, Config{StrongCosine: 0.45, ReplyTokens: 512}).Ask(context.Background(), Request{Question: question, K: 8}, nil)
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d chat requests, want 1", len(reqs))
	}
	user := reqs[0].Messages[1].Content
	sent := strings.Count(user, "<source label=")
	if a.Mode != ModeLLM || a.SourcesOmitted == 0 || sent+a.SourcesOmitted != len(full.Sources) || len(a.Sources) != sent {
		t.Fatalf("mode %s, %d sources sent, %d omitted, %d retrieved; want some left out and the count said", a.Mode, sent, a.SourcesOmitted, len(full.Sources))
	}
	// The best-ranked were kept, in order; the question and system prompt whole.
	for i := range sent {
		if !strings.Contains(user, fmt.Sprintf("<source label=\"S%d\" id=%q>", i+1, full.Sources[i].ID)) {
			t.Errorf("source %d (%s) not sent", i+1, full.Sources[i].ID)
		}
	}
	if !strings.Contains(user, "<question>\n"+question+"\n</question>") || reqs[0].Messages[0].Content != systemPrompt {
		t.Errorf("the question or the system prompt was cut")
	}
	if !strings.Contains(a.Label, fmt.Sprintf("%d lower-ranked sources were left out", a.SourcesOmitted)) {
		t.Errorf("label %q does not say how many sources were left out", a.Label)
	}
	// num_ctx and num_predict are set, the reply held to the schema.
	if o := reqs[0].Options; o["num_predict"] != float64(512) || o["num_ctx"] == nil || o["num_ctx"].(float64) > 3072 {
		t.Errorf("options %v, want num_predict 512 and num_ctx within the model's 3072", o)
	}
	if f, ok := reqs[0].Format.(map[string]any); !ok || f["type"] != "object" {
		t.Errorf("format %v, want a JSON schema", reqs[0].Format)
	}
}
