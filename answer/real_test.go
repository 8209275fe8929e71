package answer

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/orthocds/orthocds/llm"
	"github.com/orthocds/orthocds/llm/ollamatest"
)

// TestRealServerAnswers: cited answers through a real ollama serve with
// tiny random-weight models. Random weights write nothing useful, so what
// is checked is the protocol: the answer is either the model's, every
// statement citing what was retrieved, or retrieval-only labelled with the
// true reason; a model with a short context gets the best sources and the
// answer says how many were left out; the server never cuts a prompt.
func TestRealServerAnswers(t *testing.T) {
	s := ollamatest.Start(t)
	s.ChatModel(t, "tiny", ollamatest.ChatModel{ContextLength: 32768, Seed: 1})
	s.ChatModel(t, "short", ollamatest.ChatModel{ContextLength: 4096, Seed: 2})
	ret, an := corpus(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const question = "Can I stop denosumab after five years?"
	for _, tc := range []struct {
		model       string
		replyTokens int
		wantOmitted bool
	}{
		{"tiny", 1024, false},
		{"tiny", 16, false}, // a reply cut at its length limit
		{"short", 512, true},
	} {
		c, err := llm.New(llm.Config{Provider: llm.ProviderOllama, BaseURL: s.URL, Model: tc.model})
		if err != nil {
			t.Fatal(err)
		}
		svc := New(ret, an, c, nil, Config{StrongCosine: 0.45, ReplyTokens: tc.replyTokens})
		var tokens int
		a, err := svc.Ask(ctx, Request{Question: question, K: 8}, func(e Event) error {
			if e.Type == "token" {
				tokens++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s/%d: mode %s, failure %q, omitted %d, %d tokens streamed", tc.model, tc.replyTokens, a.Mode, a.LLMFailure, a.SourcesOmitted, tokens)
		switch a.Mode {
		case ModeLLM:
			if a.Model != "ollama:"+tc.model {
				t.Errorf("model %q", a.Model)
			}
		case ModeRetrievalOnly:
			if a.LLMFailure == "" || a.LLMFailure == llm.Unreachable || strings.Contains(a.Label, "no language model was used") ||
				!strings.Contains(a.Label, "could not be used") {
				t.Errorf("%s: a model that answered is labelled %q (failure %q)", tc.model, a.Label, a.LLMFailure)
			}
			if tc.replyTokens == 16 && a.LLMFailure != llm.Length {
				t.Errorf("a 16-token reply: failure %q, want %q", a.LLMFailure, llm.Length)
			}
		default:
			t.Errorf("mode %s", a.Mode)
		}
		if tokens == 0 {
			t.Errorf("%s: no tokens streamed", tc.model)
		}
		if tc.wantOmitted != (a.SourcesOmitted > 0) {
			t.Errorf("%s: %d sources omitted", tc.model, a.SourcesOmitted)
		}
	}
	if tr := s.Truncations(); len(tr) > 0 {
		t.Errorf("the server cut prompts:\n%s", strings.Join(tr, "\n"))
	}
	// Cancelling the request stops the generation: the answer returns the
	// context's error at once, and the server is free for the next one.
	c, _ := llm.New(llm.Config{Provider: llm.ProviderOllama, BaseURL: s.URL, Model: "tiny"})
	cctx, ccancel := context.WithCancel(ctx)
	start := time.Now()
	_, err := New(ret, an, c, nil, Config{StrongCosine: 0.45, ReplyTokens: 20000}).Ask(cctx, Request{Question: question}, func(e Event) error {
		if e.Type == "token" {
			ccancel()
		}
		return nil
	})
	if err == nil || time.Since(start) > 30*time.Second {
		t.Errorf("cancelled answer: %v after %s, want the context's error at once", err, time.Since(start))
	}
	// With no server at all: "no language model was used".
	s.Kill()
	a, err := New(ret, an, c, nil, DefaultConfig).Ask(ctx, Request{Question: question}, nil)
	if err != nil || a.LLMFailure != llm.Unreachable || !strings.Contains(a.Label, "no language model was used") {
		t.Errorf("server gone: %v, failure %q, label %q", err, a.LLMFailure, a.Label)
	}
}
