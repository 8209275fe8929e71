package postgres

// BM25 parameters, the common defaults; the embedded store uses the same.
// The inverse document frequency is computed in the search statement from
// term_df and corpus_stats, which triggers keep exact (migration 003), as
// log(1 + (N - df + 0.5) / (df + 0.5)), as the embedded store does.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)
