package drills

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orthocds/orthocds/llm"
	"github.com/orthocds/orthocds/llm/ollamatest"
)

// TestRealServerDrill: a drill with the LLM patient and the judge on a
// real ollama serve (tiny random-weight models). The patient's reply is
// either the case's own words or a reply that adds no number; the judge's
// grade is given or reported unscorable with its reason; the deterministic
// grade is untouched; the server never cut a prompt.
func TestRealServerDrill(t *testing.T) {
	s := ollamatest.Start(t)
	s.ChatModel(t, "tiny", ollamatest.ChatModel{ContextLength: 8192, Seed: 21})
	model, err := llm.New(llm.Config{Provider: llm.ProviderOllama, BaseURL: s.URL, Model: "tiny"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cs, corpus, scope := library(t)
	svc := New(Config{Cases: cs, Store: must(OpenFileStore(filepath.Join(t.TempDir(), "a.jsonl"))), Scope: scope, Corpus: corpus,
		Patient: model, Judge: model, Now: newClock().now})
	v := must(svc.Start(ctx, alice, "op-untreated", "en"))
	v = must(svc.Ask(ctx, alice, v.ID, "When was your menopause?"))
	if got := v.Turns[0].Patient; got == "" || (got != "Her periods stopped at 50." && !faithful(got, "Her periods stopped at 50.")) {
		t.Errorf("patient reply %q", got)
	}
	var c = cs[0]
	for _, x := range cs {
		if x.ID == "op-untreated" {
			c = x
		}
	}
	v = must(svc.Submit(ctx, alice, v.ID, c.Expected.Diagnosis.EN, c.Expected.Plan.EN))
	if v.Grade.Score != 1 {
		t.Errorf("deterministic score %v, want 1", v.Grade.Score)
	}
	if v.Judge == nil || (v.Judge.Grade == nil && v.Judge.Unscorable == "") || v.Judge.Model != "ollama:tiny" {
		t.Errorf("judge %+v, want a grade or the reason there is none", v.Judge)
	}
	if tr := s.Truncations(); len(tr) > 0 {
		t.Errorf("the server cut prompts:\n%s", strings.Join(tr, "\n"))
	}
}
