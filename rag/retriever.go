package rag

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/orthocds/orthocds"
)

// Bounds on one search batch. They keep a single request from holding the
// store or the embedder for long.
const (
	MaxBatch    = 256
	MaxK        = 50
	DefaultK    = 5
	MaxQueryLen = 2000 // characters
	rrfK        = 60   // the usual reciprocal-rank-fusion constant
	minPool     = 20   // candidates fetched from each ranking before fusion
)

// Query is one question of a batch.
type Query struct {
	Text   string `json:"text"`
	K      int    `json:"k,omitempty"`
	Filter Filter `json:"filter"`
	// LocalFirst puts the hospital's own documents that match ahead of the
	// guidelines, as a question naming the hospital ("本院", "our
	// protocol") does by itself.
	LocalFirst bool `json:"local_first,omitempty"`
}

// LocalAnalyzer is an Analyzer that tells a question naming the hospital
// and returns its terms without the words that name it.
type LocalAnalyzer interface {
	LocalTerms(terms []string) (local bool, rest []string)
}

// Hit is one fused result.
type Hit struct {
	Chunk
	Score       float64 `json:"score"`        // reciprocal rank fusion score
	Cosine      float64 `json:"cosine"`       // dense similarity, 0 when only lexical found it
	DenseRank   int     `json:"dense_rank"`   // 1-based; 0 when absent
	LexicalRank int     `json:"lexical_rank"` // 1-based; 0 when absent
	// Coverage is the weighted share of the question's concepts the
	// chunk names (0 to 1), when the retriever measures it.
	Coverage float64 `json:"coverage,omitempty"`
}

// Retriever runs batched hybrid search.
type Retriever struct {
	store       Store
	embedder    Embedder
	analyzer    Analyzer
	denseWeight float64
	assist      *Assist // nil: no language-model stages
	coverage    Coverer // nil: fused scores as they are
}

// Coverer tells how much of a question's concepts a candidate names
// (analysis.Coverage), and how much that counts for the question.
type Coverer interface {
	Weight(question string) float64
	Measure(qterms []string, id, title, text string, topics []string) float64
}

// WithCoverage returns a copy of r that adds to each fused candidate's
// score its concept coverage times c's weight for the question, then
// reorders: among candidates the two rankings place alike, the one that
// names what the question names comes first.
func (r *Retriever) WithCoverage(c Coverer) *Retriever {
	n := *r
	n.coverage = c
	return &n
}

// DenseWeighter is an Embedder that says how much its ranking should count
// in fusion relative to the lexical ranking; embedders without this method
// count equally (weight 1).
type DenseWeighter interface {
	DenseWeight() float64
}

// NewRetriever returns a Retriever over store, embedding with e and
// analysing query text with a.
func NewRetriever(store Store, e Embedder, a Analyzer) *Retriever {
	r := &Retriever{store: store, embedder: e, analyzer: a, denseWeight: 1}
	if w, ok := e.(DenseWeighter); ok {
		r.denseWeight = w.DenseWeight()
	}
	return r
}

// Model is the embedding model queries are embedded with.
func (r *Retriever) Model() ModelInfo { return r.embedder.Model() }

// Validate checks a batch and fills in defaults. It reports every bad field.
func Validate(qs []Query) error {
	if len(qs) == 0 {
		return orthocds.Invalid("/queries", "at least one query is required")
	}
	if len(qs) > MaxBatch {
		return orthocds.Invalid("/queries", "%d queries sent; a batch holds at most %d", len(qs), MaxBatch)
	}
	var bad []orthocds.FieldError
	add := func(i int, field, detail string) {
		bad = append(bad, orthocds.FieldError{Field: fmt.Sprintf("/queries/%d/%s", i, field), Detail: detail})
	}
	for i := range qs {
		q := &qs[i]
		switch n := utf8.RuneCountInString(q.Text); {
		case strings.TrimSpace(q.Text) == "":
			add(i, "text", "must not be empty")
		case n > MaxQueryLen:
			add(i, "text", fmt.Sprintf("%d characters; at most %d", n, MaxQueryLen))
		}
		if q.K == 0 {
			q.K = DefaultK
		}
		if q.K < 1 || q.K > MaxK {
			add(i, "k", fmt.Sprintf("must be between 1 and %d", MaxK))
		}
		for _, l := range q.Filter.Langs {
			if l != "zh" && l != "en" {
				add(i, "filter/langs", fmt.Sprintf("unknown language %q; use zh or en", l))
			}
		}
		if q.Filter.YearMin > 0 && q.Filter.YearMax > 0 && q.Filter.YearMin > q.Filter.YearMax {
			add(i, "filter/year_min", "is after year_max")
		}
	}
	if len(bad) > 0 {
		return &orthocds.Error{Code: orthocds.EINVALID, Field: bad[0].Field,
			Message: "invalid queries", FieldErrors: bad}
	}
	return nil
}

// Search answers a batch of queries: one embedding call, one store round
// trip, then fusion. Results are in query order. With Assist stages (a
// rewriter or a reranker) the batch goes through them as well.
func (r *Retriever) Search(ctx context.Context, qs []Query) ([][]Hit, error) {
	if err := Validate(qs); err != nil {
		return nil, err
	}
	if r.assist != nil {
		return r.searchAssisted(ctx, qs)
	}
	return r.searchPlain(ctx, qs)
}

// searchPlain is Search without the assist stages; qs are valid.
func (r *Retriever) searchPlain(ctx context.Context, qs []Query) ([][]Hit, error) {
	texts := make([]string, len(qs))
	for i, q := range qs {
		texts[i] = q.Text
	}
	vecs, err := r.embedder.Embed(ctx, texts)
	if err != nil {
		return nil, fmt.Errorf("embed %d queries: %w", len(qs), err)
	}
	sqs := make([]StoreQuery, len(qs))
	terms := r.analyzer.Terms
	if qa, ok := r.analyzer.(QueryAnalyzer); ok {
		terms = qa.QueryTerms
	}
	// A question for the hospital's documents adds, in the same batch, a
	// search of those documents alone on what it asks about.
	local := map[int]int{} // query -> index of its local search
	for i, q := range qs {
		t := terms(q.Text)
		sqs[i] = StoreQuery{Vector: vecs[i], Terms: t, K: max(q.K*3, minPool), Filter: q.Filter}
		wants, rest := q.LocalFirst, t
		if la, ok := r.analyzer.(LocalAnalyzer); ok {
			var named bool
			named, rest = la.LocalTerms(t)
			wants = wants || named
		}
		if f, ok := documentsOnly(q.Filter); wants && ok {
			local[i] = len(sqs)
			sqs = append(sqs, StoreQuery{Vector: vecs[i], Terms: rest, K: max(q.K*3, minPool), Filter: f})
		}
	}
	cands, err := r.store.Search(ctx, sqs)
	if err != nil {
		return nil, fmt.Errorf("search %d queries: %w", len(qs), err)
	}
	out := make([][]Hit, len(qs))
	for i, q := range qs {
		out[i] = r.fuse(q.Text, sqs[i].Terms, cands[i], q.K)
		if j, ok := local[i]; ok {
			out[i] = localFirst(r.fuse(q.Text, sqs[j].Terms, cands[j], q.K), out[i], q.K)
		}
	}
	return out, nil
}

// fuse is Fuse with the coverage stage, when r has one, then the topic
// stage. Coverage scales a fused score (by 1 + weight x coverage) rather
// than adding to it, so that it orders candidates the rankings found
// alike and does not lift one both rankings put far down above one both
// put first.
func (r *Retriever) fuse(question string, terms []string, c Candidates, k int) []Hit {
	w := 0.0
	if r.coverage != nil {
		w = r.coverage.Weight(question)
	}
	hits := Fuse(c, len(c.Dense)+len(c.Lexical), r.denseWeight)
	if w > 0 {
		// Scaling only raises scores, so the k-th fused score is a floor
		// for the first k after it; a candidate that would stay under it
		// with full coverage and the topic stage's most is not measured
		// (hits are sorted, so neither are the ones after it).
		floor := 0.0
		if len(hits) > k {
			floor = hits[k-1].Score
		}
		for i := range hits {
			h := &hits[i]
			if h.Score*(1+w)+topicWeight < floor {
				break
			}
			h.Coverage = r.coverage.Measure(terms, h.ID, h.Title, h.Text, h.Topics)
			h.Score *= 1 + w*h.Coverage
		}
		sortHits(hits)
	}
	topicNeighbours(hits)
	return hits[:min(k, len(hits))]
}

// The topic stage: several bodies often answer the same question (five
// guidelines on a bisphosphonate holiday), and a question's wording lifts
// one or two of them while the others, tagged with the same topics, fall
// just out of the first ten. Each candidate below the first topicAnchors
// gains topicWeight times its topic overlap (Jaccard) with the closest of
// them, and the tail is reordered; the anchors keep their places. The two
// numbers were chosen on the tuning and starter sets (README, "Everyday
// wording").
const (
	topicAnchors = 3
	topicWeight  = 0.005 // a fifth of the first RRF place (1/61)
)

// topicNeighbours applies the topic stage to hits, sorted best first.
func topicNeighbours(hits []Hit) {
	if len(hits) <= topicAnchors {
		return
	}
	anchors := hits[:topicAnchors]
	for i := topicAnchors; i < len(hits); i++ {
		best := 0.0
		for _, a := range anchors {
			best = max(best, jaccard(a.Topics, hits[i].Topics))
		}
		hits[i].Score += topicWeight * best
	}
	sortHits(hits[topicAnchors:])
}

// jaccard is the share of topics two tag lists have in common.
func jaccard(a, b []string) float64 {
	shared := 0
	for _, x := range a {
		if slices.Contains(b, x) {
			shared++
		}
	}
	if union := len(a) + len(b) - shared; union > 0 {
		return float64(shared) / float64(union)
	}
	return 0
}

// documentsOnly narrows f to the hospital's documents, or reports that f
// excludes them.
func documentsOnly(f Filter) (Filter, bool) {
	if len(f.Kinds) > 0 && !slices.Contains(f.Kinds, KindDocument) {
		return f, false
	}
	f.Kinds = []string{KindDocument}
	return f, true
}

// localFirst puts the hospital's documents that share a term with the
// question (beyond the words naming the hospital) ahead of the other hits,
// taking at most half of the k places, then the rest in their order.
func localFirst(local, hits []Hit, k int) []Hit {
	var out []Hit
	seen := map[string]bool{}
	for _, h := range local {
		if h.LexicalRank == 0 || len(out) >= max(1, k/2) {
			continue
		}
		out = append(out, h)
		seen[h.ID] = true
	}
	for _, h := range hits {
		if len(out) >= k {
			break
		}
		if !seen[h.ID] {
			out = append(out, h)
		}
	}
	return out
}

// Fuse merges a query's dense and lexical rankings by weighted reciprocal
// rank fusion (the dense ranking counts denseWeight times the lexical one)
// and keeps the best k.
func Fuse(c Candidates, k int, denseWeight float64) []Hit {
	byID := make(map[string]*Hit, len(c.Dense)+len(c.Lexical))
	var order []*Hit
	get := func(s Scored) *Hit {
		h, ok := byID[s.Chunk.ID]
		if !ok {
			h = &Hit{Chunk: s.Chunk}
			byID[s.Chunk.ID] = h
			order = append(order, h)
		}
		return h
	}
	for i, s := range c.Dense {
		h := get(s)
		h.DenseRank, h.Cosine = i+1, s.Score
		h.Score += denseWeight / float64(rrfK+i+1)
	}
	for i, s := range c.Lexical {
		h := get(s)
		h.LexicalRank = i + 1
		h.Score += 1.0 / float64(rrfK+i+1)
	}
	hits := make([]Hit, len(order))
	for i, h := range order {
		hits[i] = *h
	}
	sortHits(hits)
	return hits[:min(k, len(hits))]
}

// sortHits orders hits by score, then ID.
func sortHits(hits []Hit) {
	sort.SliceStable(hits, func(a, b int) bool {
		if hits[a].Score != hits[b].Score {
			return hits[a].Score > hits[b].Score
		}
		return hits[a].ID < hits[b].ID
	})
}
