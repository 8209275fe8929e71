package postgres

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/rag"
)

// filterSQL states rag.Filter.Match in SQL for a chunk alias X and the
// query's filter q.f (jsonb, fields absent when empty).
const filterSQL = `(COALESCE((q.f->>'include_superseded')::boolean, false) OR NOT X.superseded)
	AND (q.f->'langs' IS NULL OR X.langs && ARRAY(SELECT jsonb_array_elements_text(q.f->'langs')))
	AND (q.f->'topics' IS NULL OR X.topics && ARRAY(SELECT jsonb_array_elements_text(q.f->'topics')))
	AND (q.f->'sources' IS NULL OR X.source_key = ANY(ARRAY(SELECT jsonb_array_elements_text(q.f->'sources'))))
	AND (q.f->'kinds' IS NULL OR X.kind = ANY(ARRAY(SELECT jsonb_array_elements_text(q.f->'kinds'))))
	AND (q.f->'year_min' IS NULL OR X.year >= (q.f->>'year_min')::int)
	AND (q.f->'year_max' IS NULL OR X.year <= (q.f->>'year_max')::int)`

// searchSQL answers a whole batch in one statement: each query row of the
// unnest is joined LATERALly to its dense top-k (HNSW) and its lexical
// top-k (GIN), and the chunk columns come back in the same result.
var searchSQL = `
SELECT q.ord, r.lexical, r.score,
       c.id, c.doc_id, c.ord, c.kind, c.langs, c.title, c.heading_path, c.page, c.body,
       c.topics, c.year, c.source_key, c.superseded, c.citation
FROM unnest($1::vector[], $2::text[], $3::int[], $4::jsonb[]) WITH ORDINALITY AS q(vec, tq, k, f, ord)
CROSS JOIN LATERAL (
    (SELECT d.id, false AS lexical, 1 - (d.embedding <=> q.vec) AS score
     FROM chunks d
     WHERE ` + strings.ReplaceAll(filterSQL, "X.", "d.") + `
     ORDER BY d.embedding <=> q.vec
     LIMIT q.k)
    UNION ALL
    (SELECT l.id, true, ts_rank(l.tsv, q.tq::tsquery, 1)
     FROM chunks l
     WHERE q.tq IS NOT NULL AND l.tsv @@ q.tq::tsquery
       AND ` + strings.ReplaceAll(filterSQL, "X.", "l.") + `
     ORDER BY ts_rank(l.tsv, q.tq::tsquery, 1) DESC, l.id
     LIMIT q.k)
) r
JOIN chunks c ON c.id = r.id`

// Search answers the batch in one round trip.
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
	rows, err := db.pool.Query(ctx, searchSQL, vecs, tqs, ks, fs)
	if err != nil {
		return nil, err
	}
	out := make([]rag.Candidates, len(qs))
	var (
		ord     int64
		lexical bool
		score   float64
		c       rag.Chunk
		cite    []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&ord, &lexical, &score, &c.ID, &c.DocID, &c.Ord, &c.Kind, &c.Langs,
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
	if err != nil {
		return nil, err
	}
	// Iterative index scans may return rows slightly out of order, and the
	// join does not keep the lateral order: sort each ranking here.
	for i := range out {
		sortScored(out[i].Dense)
		sortScored(out[i].Lexical)
	}
	return out, nil
}

func sortScored(s []rag.Scored) {
	sort.SliceStable(s, func(i, j int) bool {
		if s[i].Score != s[j].Score {
			return s[i].Score > s[j].Score
		}
		return s[i].Chunk.ID < s[j].Chunk.ID
	})
}
