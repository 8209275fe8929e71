package llmassist_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/orthocds/orthocds/internal/corpustest"
	"github.com/orthocds/orthocds/llm"
	"github.com/orthocds/orthocds/llm/ollamareplay"
	"github.com/orthocds/orthocds/rag"
	"github.com/orthocds/orthocds/rag/llmassist"
)

// fixture is the shipped corpus without its labelled questions
// (guidelines.Asked), which already carry many lay wordings into the
// index: the lay questions here are to be as hard for plain retrieval as
// a wording nobody has asked before.
func fixture(t *testing.T) *corpustest.Fixture {
	t.Helper()
	fsys, err := corpustest.WithAsked(nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := corpustest.OpenFS(t.TempDir(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Store.Close() })
	return f
}

func client(t *testing.T, srv *ollamareplay.Server) *llm.Client {
	t.Helper()
	c, err := llm.New(llm.Config{Provider: llm.ProviderOllama, BaseURL: srv.URL, Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ids(hits []rag.Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.DocID)
	}
	return out
}

type fallbacks struct {
	mu     sync.Mutex
	stages []string
}

func (f *fallbacks) note(stage string, _ error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stages = append(f.stages, stage)
}

// A rewrite into clinical wording is searched beside the question and
// fused with it; the model sees the question de-identified; a model that
// is gone leaves results as they were without it.
func TestRewrite(t *testing.T) {
	f := fixture(t)
	const question = "My patient John Smith keeps asking: can the twice-yearly bone jab simply be dropped?"
	srv := ollamareplay.New([]string{"m"}, func(_ string, msgs []ollamareplay.Message) ollamareplay.Script {
		q, _ := json.Marshal(map[string]string{"query": "Can denosumab be discontinued without a follow-on bisphosphonate?"})
		return ollamareplay.Script{Chunks: []string{string(q)}}
	})
	defer srv.Close()
	plain, err := f.Retriever.Search(context.Background(), []rag.Query{{Text: question, K: 5}})
	if err != nil {
		t.Fatal(err)
	}
	var fb fallbacks
	r := f.Retriever.WithAssist(rag.Assist{Rewriter: &llmassist.Rewriter{LLM: client(t, srv)}, OnFallback: fb.note})
	got, err := r.Search(context.Background(), []rag.Query{{Text: question, K: 5}})
	if err != nil {
		t.Fatal(err)
	}
	gold := []string{"endo-2019-denosumab-no-stop", "csobmr-2022-denosumab", "ects-2017-denosumab-rebound", "nogg-2022-denosumab-stop"}
	t.Logf("without the rewrite: %v; with it: %v", ids(plain[0]), ids(got[0]))
	// The rewrite brings more of the entries that answer into the top 5,
	// and the best of them higher, than the lay question alone finds.
	score := func(hits []rag.Hit) (n, best int) {
		best = len(hits) + 1
		for i, h := range hits {
			if slices.Contains(gold, h.DocID) {
				n++
				best = min(best, i+1)
			}
		}
		return n, best
	}
	gotN, gotBest := score(got[0])
	plainN, plainBest := score(plain[0])
	if gotN <= plainN || gotBest >= plainBest || gotBest > 2 {
		t.Errorf("with the rewrite %d answering entries, the best at %d (%v); without it %d, the best at %d (%v); want more, and one in the first two places",
			gotN, gotBest, ids(got[0]), plainN, plainBest, ids(plain[0]))
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || strings.Contains(reqs[0].Messages[1].Content, "John Smith") {
		t.Errorf("the model got %d requests; the question it saw: %q", len(reqs), reqs[0].Messages[1].Content)
	}
	if len(fb.stages) != 0 {
		t.Errorf("fallbacks %v with a working model", fb.stages)
	}

	srv.Close()
	again, err := r.Search(context.Background(), []rag.Query{{Text: question, K: 5}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(again[0]), ids(plain[0])) || !slices.Equal(fb.stages, []string{"rewrite"}) {
		t.Errorf("with the model gone: %v, fallbacks %v; want %v and one rewrite fallback", ids(again[0]), fb.stages, ids(plain[0]))
	}
}

// The reranker's order is the result's order; a reply that is not the
// JSON asked for leaves the fused order.
func TestRerank(t *testing.T) {
	f := fixture(t)
	q := []rag.Query{{Text: "VTE prophylaxis after total knee arthroplasty", K: 5}}
	plain, err := f.Retriever.Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var reply string
	srv := ollamareplay.New([]string{"m"}, func(string, []ollamareplay.Message) ollamareplay.Script {
		return ollamareplay.Script{Chunks: []string{reply}}
	})
	defer srv.Close()
	var fb fallbacks
	r := f.Retriever.WithAssist(rag.Assist{Reranker: &llmassist.Reranker{LLM: client(t, srv)}, RerankDepth: 10, OnFallback: fb.note})
	want := []string{plain[0][4].DocID, plain[0][2].DocID}
	b, _ := json.Marshal(map[string][]string{"ranking": {want[0], "not-a-candidate", want[1]}})
	reply = "Here is the ranking: " + string(b)
	got, err := r.Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(got[0]) != 5 || !slices.Equal(ids(got[0])[:2], want) {
		t.Errorf("reranked %v, want it to start with %v", ids(got[0]), want)
	}
	if prompt := srv.Requests()[0].Messages[1].Content; !strings.Contains(prompt, "["+plain[0][0].ID+"]") {
		t.Errorf("the candidates are not in the prompt: %.300s", prompt)
	}
	reply = "I cannot rank these."
	got, err = r.Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got[0]), ids(plain[0])) || !slices.Equal(fb.stages, []string{"rerank"}) {
		t.Errorf("after a bad reply: %v, fallbacks %v; want %v", ids(got[0]), fb.stages, ids(plain[0]))
	}
}
