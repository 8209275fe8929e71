package rag

import (
	"context"
	"sort"

	"golang.org/x/sync/errgroup"
)

// Rewriter turns questions in everyday wording into the clinical wording
// the corpus uses (generic names for brands, clinical terms for lay words).
// It returns one rewrite per question, "" where it has none.
type Rewriter interface {
	Rewrite(ctx context.Context, questions []string) ([]string, error)
}

// Reranker reorders a question's candidates, most relevant first. It
// returns the candidates' IDs; IDs it leaves out keep their order after
// the ones it names.
type Reranker interface {
	Rerank(ctx context.Context, question string, candidates []Hit) ([]string, error)
}

// Assist configures the optional language-model stages of a Retriever.
// Both are off by default; either failing leaves retrieval as it would
// have been without it.
type Assist struct {
	Rewriter Rewriter
	Reranker Reranker
	// RerankDepth is how many fused candidates the reranker sees (default
	// 20); RerankConcurrency bounds parallel rerank calls (default 4).
	RerankDepth       int
	RerankConcurrency int
	// OnFallback, when set, is told when a stage failed and was skipped
	// ("rewrite" or "rerank"), for metrics and logs.
	OnFallback func(stage string, err error)
}

// WithAssist returns a copy of r that rewrites and reranks as a says.
func (r *Retriever) WithAssist(a Assist) *Retriever {
	if a.RerankDepth <= 0 {
		a.RerankDepth = 20
	}
	if a.RerankConcurrency <= 0 {
		a.RerankConcurrency = 4
	}
	c := *r
	c.assist = &a
	return &c
}

// searchAssisted runs a batch with the assist stages: the original and the
// rewritten questions go to the store in one batch and are fused by
// reciprocal rank, then the reranker reorders each question's candidates.
func (r *Retriever) searchAssisted(ctx context.Context, qs []Query) ([][]Hit, error) {
	a := r.assist
	depth := func(q Query) int {
		if a.Reranker != nil {
			return max(q.K, a.RerankDepth)
		}
		return q.K
	}
	wide := make([]Query, len(qs))
	for i, q := range qs {
		wide[i] = q
		wide[i].K = min(depth(q), MaxK)
	}
	var rewrites []string
	if a.Rewriter != nil {
		texts := make([]string, len(qs))
		for i, q := range qs {
			texts[i] = q.Text
		}
		var err error
		if rewrites, err = a.Rewriter.Rewrite(ctx, texts); err != nil || len(rewrites) != len(qs) {
			a.fallback("rewrite", err)
			rewrites = nil
		}
	}
	batch := wide
	var extra []int // batch index of each question's rewrite, -1 for none
	if rewrites != nil {
		batch = append([]Query(nil), wide...)
		extra = make([]int, len(qs))
		for i, t := range rewrites {
			extra[i] = -1
			if t != "" && t != qs[i].Text && len([]rune(t)) <= MaxQueryLen {
				extra[i] = len(batch)
				rq := wide[i]
				rq.Text = t
				batch = append(batch, rq)
			}
		}
	}
	res, err := r.searchPlain(ctx, batch)
	if err != nil {
		return nil, err
	}
	out := make([][]Hit, len(qs))
	for i := range qs {
		out[i] = res[i]
		if extra != nil && extra[i] >= 0 {
			out[i] = fuseLists(res[i], res[extra[i]], wide[i].K)
		}
	}
	if a.Reranker != nil {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(a.RerankConcurrency)
		for i := range qs {
			g.Go(func() error {
				ids, err := a.Reranker.Rerank(gctx, qs[i].Text, out[i])
				if err != nil {
					a.fallback("rerank", err)
					return nil
				}
				out[i] = reorder(out[i], ids)
				return nil
			})
		}
		g.Wait()
	}
	for i, q := range qs {
		if len(out[i]) > q.K {
			out[i] = out[i][:q.K]
		}
	}
	return out, nil
}

func (a *Assist) fallback(stage string, err error) {
	if a.OnFallback != nil {
		a.OnFallback(stage, err)
	}
}

// fuseLists merges two ranked lists of hits by reciprocal rank fusion.
func fuseLists(x, y []Hit, k int) []Hit {
	score := map[string]float64{}
	byID := map[string]Hit{}
	for _, list := range [][]Hit{x, y} {
		for rank, h := range list {
			score[h.ID] += 1.0 / float64(rrfK+rank+1)
			if _, ok := byID[h.ID]; !ok {
				byID[h.ID] = h
			}
		}
	}
	out := make([]Hit, 0, len(byID))
	for id, h := range byID {
		h.Score = score[id]
		out = append(out, h)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].ID < out[j].ID
	})
	if len(out) > k {
		out = out[:k]
	}
	return out
}

// reorder puts the hits named by ids first, in that order, then the rest
// in their order; unknown and repeated IDs are ignored.
func reorder(hits []Hit, ids []string) []Hit {
	pos := map[string]int{}
	for i, h := range hits {
		pos[h.ID] = i
	}
	used := make([]bool, len(hits))
	out := make([]Hit, 0, len(hits))
	for _, id := range ids {
		if i, ok := pos[id]; ok && !used[i] {
			used[i] = true
			out = append(out, hits[i])
		}
	}
	for i, h := range hits {
		if !used[i] {
			out = append(out, h)
		}
	}
	return out
}
