package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/rag"
)

// filterConds states rag.Filter.Match in SQL for a chunk alias X and a
// query row q whose filter fields were unpacked once in the CTE. Only the
// conditions that some query of the batch needs are put in the statement:
// a chain of always-true conditions still makes the planner think the
// filter is selective, and it then prefers an exact scan to the HNSW index.
var filterConds = []struct {
	field string
	cond  string
}{
	{"langs", "X.langs && q.langs"},
	{"topics", "X.topics && q.topics"},
	{"sources", "X.source_key = ANY(q.sources)"},
	{"kinds", "X.kind = ANY(q.kinds)"},
	{"year_min", "X.year >= q.year_min"},
	{"year_max", "X.year <= q.year_max"},
}

// searchSQL answers a whole batch in one statement. The CTE turns each
// query's parameters into typed values once (the tsquery is parsed once per
// query, not once per candidate row); each query row is then joined
// LATERALly to its dense top-k (HNSW) and its lexical top-k. The lexical
// branch takes ts_rank's best lexicalPool x k matches (GIN) and re-scores
// them with BM25: each matched term's frequency in the chunk (its
// positions), the chunk's length, and the term's IDF, which the caller
// weighs from the statistics in term_df and corpus_stats, which triggers
// keep exact (migration 003), into q.w. ts_rank alone has no IDF, and
// ranked the bundled questions worse than the embedded store's BM25
// (README, "Retrieval quality and speed"). The chunk columns are read
// inside each branch: a join afterwards would make the planner hash the
// whole table, as it cannot see how small k is.
//
// A query whose filter keeps fewer than ExactBelow chunks (by filter_df's
// counts of its topics, sources or kinds) is answered exactly instead of
// through HNSW: its dense branch reads the kept rows through the filter
// column's index and sorts them by distance. The HNSW scan would walk the
// graph's nearest rows and drop most of them (migration 005). q.drive
// names the field that drives the exact scan, NULL for HNSW; each branch is
// gated on it, so a query runs one of them.
const searchTemplate = `
WITH tw AS MATERIALIZED (
    SELECT p.ord, jsonb_object_agg(t.term, ln(1 + (s.n - t.df + 0.5) / (t.df + 0.5))) AS w
    FROM unnest($5::int[], $6::text[]) AS p(ord, term)
    JOIN term_df t ON t.term = p.term
    CROSS JOIN (SELECT chunks::float8 AS n FROM corpus_stats) s
    GROUP BY p.ord
), q AS MATERIALIZED (
    SELECT u.ord, u.vec::VECTYPE AS vec, u.tq::tsquery AS tsq, u.k, tw.w,
           (SELECT terms::float8 / greatest(chunks, 1) FROM corpus_stats) AS avglen,
           COALESCE((u.f->>'include_superseded')::boolean, false) AS incl,
           CASE WHEN u.f ? 'langs' THEN ARRAY(SELECT jsonb_array_elements_text(u.f->'langs')) END AS langs,
           CASE WHEN u.f ? 'topics' THEN ARRAY(SELECT jsonb_array_elements_text(u.f->'topics')) END AS topics,
           CASE WHEN u.f ? 'sources' THEN ARRAY(SELECT jsonb_array_elements_text(u.f->'sources')) END AS sources,
           CASE WHEN u.f ? 'kinds' THEN ARRAY(SELECT jsonb_array_elements_text(u.f->'kinds')) END AS kinds,
           (u.f->>'year_min')::int AS year_min, (u.f->>'year_max')::int AS year_max
    FROM unnest($1::vector[], $2::text[], $3::int[], $4::jsonb[]) WITH ORDINALITY AS u(vec, tq, k, f, ord)
    LEFT JOIN tw ON tw.ord = u.ord
), qe AS MATERIALIZED (
    SELECT q.*, DRIVE AS drive FROM q
)
SELECT q.ord, r.*
FROM qe q
CROSS JOIN LATERAL (
    (SELECT false AS lexical, 1 - (d.embedding <=> q.vec) AS score, COLUMNS_d
     FROM chunks d
     WHERE q.drive IS NULL AND DENSE_FILTER
     ORDER BY d.embedding <=> q.vec
     LIMIT MAXK)
    EXACT_BRANCHES
    UNION ALL
    (SELECT true, b.score, COLUMNS_l
     FROM (SELECT COLUMNS_l, l.tsv FROM chunks l
           WHERE q.tsq IS NOT NULL AND l.tsv @@ q.tsq AND LEXICAL_FILTER
           ORDER BY ts_rank(l.tsv, q.tsq, 1) DESC, l.id
           LIMIT POOLK) l
     CROSS JOIN LATERAL (
         SELECT coalesce(sum((w.value)::float8 * cardinality(u.positions) * (BM25K1 + 1) /
                    (cardinality(u.positions) + BM25K1 * (1 - BM25B + BM25B * len.n / q.avglen))), 0) AS score
         FROM (SELECT sum(cardinality(x.positions)) AS n FROM unnest(l.tsv) x) len,
              unnest(l.tsv) u JOIN jsonb_each_text(q.w) w ON w.key = u.lexeme) b
     ORDER BY b.score DESC, l.id
     LIMIT MAXK)
) r`

// statement returns the search statement for the filter fields used and
// the batch's largest k. The limit is a constant in the text: with a limit
// the planner cannot see (q.k) it assumes many rows are wanted and, at
// higher hnsw.ef_search, prefers an exact scan and sort to the index.
// Each query's lists are cut to its own k afterwards.
func statement(used map[string]bool, maxK int, vectorType string, exactBelow int) string {
	var conds []string
	superseded := "NOT X.superseded"
	if used["include_superseded"] {
		superseded = "(q.incl OR NOT X.superseded)"
	}
	conds = append(conds, superseded)
	for _, fc := range filterConds {
		if used[fc.field] {
			conds = append(conds, "(q."+fc.field+" IS NULL OR "+fc.cond+")")
		}
	}
	where := strings.Join(conds, " AND ")
	dense := strings.ReplaceAll(where, "X.", "d.")
	// The exact branches and the estimate choosing them, for the
	// selective filter fields the batch uses.
	var counts []string
	var exact strings.Builder
	for _, f := range exactFields {
		if !used[f.field] || exactBelow <= 0 {
			continue
		}
		counts = append(counts, fmt.Sprintf(`('%s', CASE WHEN q.%s IS NOT NULL THEN
            (SELECT coalesce(sum(f.n), 0) FROM filter_df f WHERE f.field = '%s' AND f.value = ANY(q.%s)) END)`,
			f.field, f.field, f.field, f.field))
		fmt.Fprintf(&exact, `UNION ALL
    (SELECT false, 1 - (d.embedding <=> q.vec), COLUMNS_d
     FROM chunks d
     WHERE q.drive = '%s' AND %s AND %s
     ORDER BY (d.embedding <=> q.vec) + 0
     LIMIT MAXK)
    `, f.field, strings.ReplaceAll(f.index, "X.", "d."), dense)
	}
	drive := "NULL::text"
	if len(counts) > 0 {
		drive = fmt.Sprintf(`(SELECT s.field FROM (VALUES %s) s(field, n)
        WHERE s.n < least(%d, (SELECT chunks FROM corpus_stats) * %g) ORDER BY s.n LIMIT 1)`,
			strings.Join(counts, ",\n            "), exactBelow, exactShare)
	}
	tmpl := strings.NewReplacer("DRIVE", drive, "EXACT_BRANCHES", exact.String()).Replace(searchTemplate)
	return strings.NewReplacer("DENSE_FILTER", dense,
		"LEXICAL_FILTER", strings.ReplaceAll(where, "X.", "l."),
		"COLUMNS_d", strings.ReplaceAll(resultColumns, "X.", "d."),
		"COLUMNS_l", strings.ReplaceAll(resultColumns, "X.", "l."),
		"VECTYPE", vectorType, "POOLK", strconv.Itoa(lexicalPool*maxK), "MAXK", strconv.Itoa(maxK),
		"BM25K1", strconv.FormatFloat(rag.BM25K1, 'f', -1, 64), "BM25B", strconv.FormatFloat(rag.BM25B, 'f', -1, 64)).Replace(tmpl)
}

// A filtered query is answered by exact search over the rows its filter
// keeps, rather than by the HNSW index, when they are fewer than
// ExactBelow and than exactShare of all chunks. Below both, the exact scan
// costs about what HNSW's filtered scan costs and finds every row; above,
// HNSW keeps its recall and is faster (measured in docs/benchmarks.md).
const (
	ExactBelow = 20_000
	exactShare = 0.05
)

// exactFields are the filter fields an exact scan can be driven by: each
// has an index (migration 005) and counts in filter_df. index is the
// condition that index answers, for a chunk alias X.
var exactFields = []struct{ field, index string }{
	{"topics", "X.topics && q.topics"},
	{"sources", "X.source_key = ANY(q.sources)"},
	{"kinds", "X.kind = ANY(q.kinds)"},
}

const resultColumns = `X.id, X.doc_id, X.ord, X.kind, X.langs, X.title, X.heading_path, X.page, X.body,
       X.topics, X.year, X.source_key, X.superseded, X.citation`

// usedFields names the filter fields any query of the batch sets.
func usedFields(qs []rag.StoreQuery) map[string]bool {
	used := map[string]bool{}
	for _, q := range qs {
		f := q.Filter
		used["langs"] = used["langs"] || len(f.Langs) > 0
		used["topics"] = used["topics"] || len(f.Topics) > 0
		used["sources"] = used["sources"] || len(f.Sources) > 0
		used["kinds"] = used["kinds"] || len(f.Kinds) > 0
		used["year_min"] = used["year_min"] || f.YearMin > 0
		used["year_max"] = used["year_max"] || f.YearMax > 0
		used["include_superseded"] = used["include_superseded"] || f.IncludeSuperseded
	}
	return used
}

// Search answers the batch in one round trip: a pipelined batch of
// statements of up to GroupSize queries each.
func (db *DB) Search(ctx context.Context, qs []rag.StoreQuery) (_ []rag.Candidates, err error) {
	defer wrap(&err, "DB.Search")
	vecs := make([]pgvector.Vector, len(qs))
	tqs := make([]*string, len(qs))
	ks := make([]int32, len(qs))
	fs := make([]json.RawMessage, len(qs))
	for i, q := range qs {
		if len(q.Vector) != db.model.Dim {
			return nil, orthocds.Errorf(orthocds.ECONFLICT, "query %d has %d dimensions; the index has %d (model %s)",
				i, len(q.Vector), db.model.Dim, db.model.Name)
		}
		vecs[i] = pgvector.NewVector(q.Vector)
		if s := TSQuery(q.Terms); s != "" {
			tqs[i] = &s
		}
		ks[i] = int32(q.K)
		if fs[i], err = json.Marshal(q.Filter); err != nil {
			return nil, err
		}
	}
	maxK := 1
	for _, q := range qs {
		maxK = max(maxK, q.K)
	}
	used := usedFields(qs)
	stmt := statement(used, maxK, db.index.vectorType(), db.exactBelow)
	iterative := db.iterativeNeeded(qs, used)
	var out []rag.Candidates
	// Replicas, when configured, answer; a failed one hands the batch on.
	err = db.onReplicas(ctx, func(q querier) error {
		out = make([]rag.Candidates, len(qs))
		// The batch's statements, of GroupSize queries each, go in one
		// pipelined round trip: one statement with hundreds of lateral
		// index scans grows its memory with every scan and gets slower per
		// query (measured in docs/benchmarks.md). A batch that needs
		// iterative scans runs in a transaction that turns them on.
		b := &pgx.Batch{}
		if iterative {
			b.Queue("BEGIN")
			b.Queue("SET LOCAL hnsw.iterative_scan = relaxed_order")
		}
		for start := 0; start < len(qs); start += GroupSize {
			end := min(start+GroupSize, len(qs))
			ords, terms := termArgs(qs[start:end])
			b.Queue(stmt, vecs[start:end], tqs[start:end], ks[start:end], fs[start:end], ords, terms)
		}
		if iterative {
			b.Queue("COMMIT")
		}
		br := q.SendBatch(ctx, b)
		defer br.Close()
		if iterative {
			for range 2 {
				if _, err := br.Exec(); err != nil {
					return err
				}
			}
		}
		for start := 0; start < len(qs); start += GroupSize {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			if err := scanCandidates(rows, out[start:min(start+GroupSize, len(qs))]); err != nil {
				return err
			}
		}
		if iterative {
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		return br.Close()
	})
	if err != nil {
		return nil, err
	}
	// Iterative index scans may return rows slightly out of order, and the
	// join does not keep the lateral order: sort each ranking here.
	for i := range out {
		sortScored(out[i].Dense)
		sortScored(out[i].Lexical)
		k := qs[i].K
		out[i].Dense = out[i].Dense[:min(k, len(out[i].Dense))]
		out[i].Lexical = out[i].Lexical[:min(k, len(out[i].Lexical))]
	}
	return out, nil
}

// iterativeNeeded reports whether a batch needs pgvector's iterative index
// scans, which let an HNSW scan go on past its first ef_search rows. A
// query with a filter needs them (the filter may drop most of those rows),
// and so does one that wants more than half of ef_search rows (superseded
// entries, which every query drops, must not leave it short). Other
// queries get their k rows from the first ef_search, and the bookkeeping
// of iterative scans (every candidate passed over is kept for a later
// round) costs them 3-12% of throughput at 1M x 768 (docs/benchmarks.md).
// used is the batch's usedFields; include_superseded keeps rows rather than
// dropping them, so it needs no second round.
func (db *DB) iterativeNeeded(qs []rag.StoreQuery, used map[string]bool) bool {
	if db.alwaysIterative {
		return true
	}
	for field, on := range used {
		if on && field != "include_superseded" {
			return true
		}
	}
	for _, q := range qs {
		if 2*q.K > db.efSearch {
			return true
		}
	}
	return false
}

// lexicalPool is how many times k lexical candidates ts_rank picks for
// BM25 to re-score.
const lexicalPool = 4

// termArgs flattens the statement's queries' distinct terms into (query
// ordinal, term) pairs, from which the statement weighs each term by its
// IDF.
func termArgs(qs []rag.StoreQuery) (ords []int32, terms []string) {
	for i, q := range qs {
		seen := map[string]bool{}
		for _, t := range q.Terms {
			if !seen[t] {
				seen[t] = true
				ords, terms = append(ords, int32(i+1)), append(terms, t)
			}
		}
	}
	return ords, terms
}

// GroupSize is the most queries one search statement carries.
const GroupSize = 16

// scanCandidates reads one statement's rows into out, indexed by the
// statement's own query order.
func scanCandidates(rows pgx.Rows, out []rag.Candidates) error {
	var (
		ord     int64
		lexical bool
		score   float64
		c       rag.Chunk
		cite    []byte
	)
	_, err := pgx.ForEachRow(rows, []any{&ord, &lexical, &score, &c.ID, &c.DocID, &c.Ord, &c.Kind, &c.Langs,
		&c.Title, &c.HeadingPath, &c.Page, &c.Text, &c.Topics, &c.Year, &c.SourceKey, &c.Superseded, &cite},
		func() error {
			s := rag.Scored{Chunk: c, Score: score}
			s.Chunk.Citation = rag.Citation{}
			if err := json.Unmarshal(cite, &s.Chunk.Citation); err != nil {
				return err
			}
			cand := &out[ord-1]
			if lexical {
				cand.Lexical = append(cand.Lexical, s)
			} else {
				cand.Dense = append(cand.Dense, s)
			}
			return nil
		})
	return err
}

func sortScored(s []rag.Scored) {
	sort.SliceStable(s, func(i, j int) bool {
		if s[i].Score != s[j].Score {
			return s[i].Score > s[j].Score
		}
		return s[i].Chunk.ID < s[j].Chunk.ID
	})
}
