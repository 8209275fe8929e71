// Package llmassist puts a locally hosted language model into retrieval,
// as two optional stages of rag.Retriever: rewriting a question written in
// everyday words (brands, lay words, abbreviations) into the clinical
// wording of the guidelines, and reranking the retrieved candidates. Both
// send de-identified text only, ask for JSON, and report a failure so that
// the retriever falls back to what it would have done without them.
package llmassist

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/deid"
	"github.com/orthocds/orthocds/rag"
)

// Completer is a language model that answers a system and a user message
// with JSON; *llm.Client is one.
type Completer interface {
	Complete(ctx context.Context, system, user string, onToken func(string) error) (string, error)
}

var (
	_ rag.Rewriter = (*Rewriter)(nil)
	_ rag.Reranker = (*Reranker)(nil)
)

// Rewriter rewrites questions into clinical wording.
type Rewriter struct {
	LLM Completer
	// Concurrency bounds parallel calls (default 4).
	Concurrency int
}

const rewriteSystem = `You rewrite questions about osteoporosis, fragility fractures, vertebral augmentation, venous thromboembolism after orthopaedic surgery and cervical myelopathy into the clinical wording that guidelines use, so that a search over guideline recommendations finds them.
Replace brand names by generic drug names, lay words by clinical terms, and expand abbreviations. Keep the question's meaning, its numbers and its language (a Chinese question stays Chinese). Add nothing the question does not ask.
Answer with JSON only: {"query": "<the rewritten question>"}`

// Rewrite returns one rewrite per question ("" where the model gave none).
// It fails only when every call failed.
func (w *Rewriter) Rewrite(ctx context.Context, questions []string) ([]string, error) {
	out := make([]string, len(questions))
	errs := make([]error, len(questions))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency(w.Concurrency))
	for i, q := range questions {
		g.Go(func() error {
			reply, err := w.LLM.Complete(gctx, rewriteSystem, deid.String(q), nil)
			if err != nil {
				errs[i] = err
				return nil
			}
			var v struct {
				Query string `json:"query"`
			}
			if err := json.Unmarshal([]byte(jsonObject(reply)), &v); err != nil {
				errs[i] = orthocds.Errorf(orthocds.EUNAVAILABLE, "the language model's rewrite is not the JSON asked for")
				return nil
			}
			if t := strings.TrimSpace(v.Query); t != "" && utf8.RuneCountInString(t) <= rag.MaxQueryLen {
				out[i] = t
			}
			return nil
		})
	}
	g.Wait()
	for _, err := range errs {
		if err == nil {
			return out, nil
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("rewrite: %w", errs[0])
	}
	return out, nil
}

// Reranker reorders candidates by the model's judgement of relevance.
type Reranker struct {
	LLM Completer
	// Snippet is how many characters of each candidate the model sees
	// (default 300).
	Snippet int
}

const rerankSystem = `You rank guideline recommendations by how directly they answer a clinical question. Judge only from the candidates given.
Answer with JSON only: {"ranking": ["<id>", ...]}, the candidates' ids from most to least relevant; leave out those that do not help answer the question.`

// Rerank returns the candidates' IDs in the model's order.
func (r *Reranker) Rerank(ctx context.Context, question string, candidates []rag.Hit) ([]string, error) {
	if len(candidates) < 2 {
		return nil, nil
	}
	n := r.Snippet
	if n <= 0 {
		n = 300
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Question: %s\n\nCandidates:\n", deid.String(question))
	for _, h := range candidates {
		text := []rune(strings.Join(strings.Fields(h.Text), " "))
		if len(text) > n {
			text = text[:n]
		}
		fmt.Fprintf(&b, "[%s] %s: %s\n", h.ID, h.Title, string(text))
	}
	reply, err := r.LLM.Complete(ctx, rerankSystem, b.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("rerank: %w", err)
	}
	var v struct {
		Ranking []string `json:"ranking"`
	}
	if err := json.Unmarshal([]byte(jsonObject(reply)), &v); err != nil || len(v.Ranking) == 0 {
		return nil, orthocds.Errorf(orthocds.EUNAVAILABLE, "the language model's ranking is not the JSON asked for")
	}
	return v.Ranking, nil
}

// jsonObject cuts a reply down to its outermost JSON object, for models
// that wrap it in prose or a code fence.
func jsonObject(s string) string {
	i, j := strings.Index(s, "{"), strings.LastIndex(s, "}")
	if i < 0 || j < i {
		return s
	}
	return s[i : j+1]
}

func concurrency(n int) int {
	if n <= 0 {
		return 4
	}
	return n
}
