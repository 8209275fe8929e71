package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/rag"
)

// hnswMaxDim is the largest vector pgvector's HNSW index takes; larger
// models are searched exactly.
const hnswMaxDim = 2000

// Init binds the store to model. The first call fixes the embedding
// column's type and dimension (Config.Index) and builds the HNSW index;
// later calls must name the same model, and keep the representation the
// store was built with.
func (db *DB) Init(ctx context.Context, model rag.ModelInfo) (err error) {
	defer db.markWrite(ctx, &err)
	defer wrap(&err, "DB.Init")
	var bound IndexOptions
	err = db.Transact(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('orthocds.index_meta'))"); err != nil {
			return err
		}
		var have rag.ModelInfo
		var m, efc *int
		err := tx.QueryRow(ctx, "SELECT embed_model, dim, vector_type, hnsw_m, hnsw_ef_construction FROM index_meta").
			Scan(&have.Name, &have.Dim, &bound.VectorType, &m, &efc)
		switch {
		case err == nil:
			if have != model {
				return rag.ModelMismatch(have, model)
			}
			if m != nil {
				bound.M = *m
			}
			if efc != nil {
				bound.EfConstruction = *efc
			}
			return nil
		case err != pgx.ErrNoRows:
			return err
		}
		bound = db.want
		bound.VectorType = db.want.vectorType()
		stmts := []string{
			fmt.Sprintf("ALTER TABLE chunks ALTER COLUMN embedding TYPE %s(%d)", bound.VectorType, model.Dim),
			// Keep vectors inline: TOASTed vectors make scans several times slower.
			"ALTER TABLE chunks ALTER COLUMN embedding SET STORAGE PLAIN",
		}
		if model.Dim <= hnswMaxDim {
			stmts = append(stmts, bound.createIndex())
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, "INSERT INTO index_meta (embed_model, dim, vector_type, hnsw_m, hnsw_ef_construction) VALUES ($1, $2, $3, $4, $5)",
			model.Name, model.Dim, bound.VectorType, nullInt(bound.M), nullInt(bound.EfConstruction))
		return err
	})
	if err == nil {
		db.model, db.index = model, bound
	}
	return err
}

// Index returns the representation the bound store keeps embeddings in.
func (db *DB) Index() IndexOptions { return db.index }

func nullInt(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

// Reset removes every document and the model binding in one transaction:
// the embedding column loses its dimension and index, as after migration.
func (db *DB) Reset(ctx context.Context) (err error) {
	defer db.markWrite(ctx, &err)
	defer wrap(&err, "DB.Reset")
	err = db.Transact(ctx, func(tx pgx.Tx) error {
		for _, s := range []string{
			"SELECT pg_advisory_xact_lock(hashtext('orthocds.index_meta'))",
			"TRUNCATE documents, chunks",
			"DELETE FROM index_meta",
			"DROP INDEX IF EXISTS chunks_embedding_idx",
			"ALTER TABLE chunks ALTER COLUMN embedding TYPE vector",
		} {
			if _, err := tx.Exec(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		db.model, db.index = rag.ModelInfo{}, IndexOptions{}
	}
	return err
}

var chunkColumns = []string{"id", "doc_id", "ord", "kind", "langs", "title", "heading_path", "page",
	"body", "topics", "year", "source_key", "superseded", "citation", "terms", "embedding"}

// PutDocuments replaces documents by ID or source and loads their chunks
// with binary COPY, all in one transaction. A large first load into an
// empty store goes through BulkLoad, which builds the vector index once at
// the end instead of growing it row by row.
func (db *DB) PutDocuments(ctx context.Context, docs []rag.Document) (err error) {
	defer db.markWrite(ctx, &err)
	defer wrap(&err, "DB.PutDocuments")
	rows, err := db.chunkRows(docs)
	if err != nil {
		return err
	}
	if len(rows) >= bulkRows {
		var empty bool
		if err := db.pool.QueryRow(ctx, "SELECT NOT EXISTS (SELECT 1 FROM documents)").Scan(&empty); err != nil {
			return err
		}
		if empty {
			_, err := db.bulkLoad(ctx, docs, rows)
			if orthocds.ErrorCode(err) != orthocds.ECONFLICT {
				return err
			}
			// Another writer filled the store first; replace as usual.
		}
	}
	ids, sources := make([]string, len(docs)), []string{}
	for i, d := range docs {
		ids[i] = d.ID
		if d.Source != "" {
			sources = append(sources, d.Source)
		}
	}
	err = db.Transact(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lockDocuments); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM documents WHERE id = ANY($1) OR source = ANY($2)", ids, sources); err != nil {
			return err
		}
		return copyDocuments(ctx, tx, docs, rows)
	})
	if err == nil && len(rows) >= analyzeAfter {
		// Fresh statistics keep the planner on the HNSW index after a bulk
		// load instead of waiting for autovacuum.
		_, err = db.pool.Exec(ctx, "ANALYZE chunks")
	}
	return err
}

// lockDocuments serialises the transactions that write documents: two
// processes starting at once against one database (a server and an eval
// worker, say) both index the guidelines, and without it the second
// would fail on a duplicate key instead of replacing the first's rows.
const lockDocuments = "SELECT pg_advisory_xact_lock(hashtext('orthocds.documents'))"

// bulkRows is the number of chunks from which a load into an empty store
// drops the vector index and builds it again at the end: inserting into an
// HNSW index row by row is several times slower than building it once.
const bulkRows = 5000

// LoadStats times the two phases of a bulk load.
type LoadStats struct {
	Rows  int
	Copy  time.Duration // binary COPY of documents and chunks
	Index time.Duration // building the HNSW index
}

// BulkLoad loads docs into an empty store in one transaction: drop the
// vector index, COPY every row, build the index again with a large
// maintenance_work_mem, analyse. Searches wait for it; nothing is visible
// until it commits. A store that already holds documents is refused.
func (db *DB) BulkLoad(ctx context.Context, docs []rag.Document) (_ LoadStats, err error) {
	defer db.markWrite(ctx, &err)
	defer wrap(&err, "DB.BulkLoad")
	rows, err := db.chunkRows(docs)
	if err != nil {
		return LoadStats{}, err
	}
	return db.bulkLoad(ctx, docs, rows)
}

func (db *DB) bulkLoad(ctx context.Context, docs []rag.Document, rows [][]any) (LoadStats, error) {
	st := LoadStats{Rows: len(rows)}
	err := db.Transact(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lockDocuments); err != nil {
			return err
		}
		var empty bool
		if err := tx.QueryRow(ctx, "SELECT NOT EXISTS (SELECT 1 FROM documents)").Scan(&empty); err != nil {
			return err
		}
		if !empty {
			return orthocds.Errorf(orthocds.ECONFLICT, "a bulk load needs an empty store")
		}
		// Indexes are built once after the COPY rather than grown row by row.
		for _, s := range append([]string{"DROP INDEX IF EXISTS chunks_embedding_idx"}, filterIndexes.drop...) {
			if _, err := tx.Exec(ctx, s); err != nil {
				return err
			}
		}
		start := time.Now()
		if err := copyDocuments(ctx, tx, docs, rows); err != nil {
			return err
		}
		st.Copy = time.Since(start)
		start = time.Now()
		if db.model.Dim <= hnswMaxDim {
			if _, err := tx.Exec(ctx, "SET LOCAL maintenance_work_mem = '"+db.maintenanceMem+"'"); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, db.index.createIndex()); err != nil {
				return err
			}
		}
		for _, s := range filterIndexes.create {
			if _, err := tx.Exec(ctx, s); err != nil {
				return err
			}
		}
		st.Index = time.Since(start)
		_, err := tx.Exec(ctx, "ANALYZE chunks")
		return err
	})
	return st, err
}

// filterIndexes are the indexes of migration 005 that drive exact
// filtered search; a bulk load drops them and builds them after the COPY.
// The statements must stay those of the migration.
var filterIndexes = struct{ drop, create []string }{
	drop: []string{"DROP INDEX IF EXISTS chunks_topics_idx", "DROP INDEX IF EXISTS chunks_source_idx", "DROP INDEX IF EXISTS chunks_kind_idx"},
	create: []string{"CREATE INDEX chunks_topics_idx ON chunks USING gin (topics)",
		"CREATE INDEX chunks_source_idx ON chunks (source_key)", "CREATE INDEX chunks_kind_idx ON chunks (kind)"},
}

// createIndex is the statement building the HNSW cosine index for the
// representation, with the build parameters set (pgvector's defaults
// otherwise: m 16, ef_construction 64).
func (o IndexOptions) createIndex() string {
	var with []string
	if o.M != 0 {
		with = append(with, fmt.Sprintf("m = %d", o.M))
	}
	if o.EfConstruction != 0 {
		with = append(with, fmt.Sprintf("ef_construction = %d", o.EfConstruction))
	}
	s := fmt.Sprintf("CREATE INDEX chunks_embedding_idx ON chunks USING hnsw (embedding %s_cosine_ops)", o.vectorType())
	if len(with) > 0 {
		s += " WITH (" + strings.Join(with, ", ") + ")"
	}
	return s
}

// chunkRows checks every chunk against the bound model and turns it into a
// COPY row.
func (db *DB) chunkRows(docs []rag.Document) ([][]any, error) {
	if db.model.Dim == 0 {
		return nil, orthocds.Errorf(orthocds.EINTERNAL, "postgres: Init was not called")
	}
	var rows [][]any
	for _, d := range docs {
		for _, c := range d.Chunks {
			if len(c.Vector) != db.model.Dim {
				return nil, orthocds.Errorf(orthocds.EINVALID, "chunk %s has %d dimensions; the index has %d",
					c.ID, len(c.Vector), db.model.Dim)
			}
			cite, err := json.Marshal(c.Citation)
			if err != nil {
				return nil, err
			}
			rows = append(rows, []any{c.ID, d.ID, c.Ord, c.Kind, nonNil(c.Langs), c.Title, nonNil(c.HeadingPath),
				c.Page, c.Text, nonNil(c.Topics), c.Year, c.SourceKey, c.Superseded, cite,
				TSVector(c.Terms), db.embedding(c.Vector)})
		}
	}
	return rows, nil
}

func copyDocuments(ctx context.Context, tx pgx.Tx, docs []rag.Document, rows [][]any) error {
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"documents"}, []string{"id", "kind", "title", "source", "hash"},
		pgx.CopyFromSlice(len(docs), func(i int) ([]any, error) {
			d := docs[i]
			return []any{d.ID, d.Kind, d.Title, d.Source, d.Hash}, nil
		}))
	if err != nil {
		return err
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"chunks"}, chunkColumns, pgx.CopyFromRows(rows))
	return err
}

// analyzeAfter is the number of chunks in one write that triggers ANALYZE.
const analyzeAfter = 1000

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// TSVector renders terms as a tsvector literal with positions, quoting each
// lexeme so that PostgreSQL stores it exactly as analysed.
func TSVector(terms []string) string {
	var b strings.Builder
	for i, t := range terms {
		if i >= 16383 { // the largest tsvector position
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%d", quoteLexeme(t), i+1)
	}
	return b.String()
}

// TSQuery renders terms as an OR query, or "" when there are none.
func TSQuery(terms []string) string {
	seen := map[string]bool{}
	var parts []string
	for _, t := range terms {
		if !seen[t] {
			seen[t] = true
			parts = append(parts, quoteLexeme(t))
		}
	}
	return strings.Join(parts, " | ")
}

func quoteLexeme(t string) string {
	t = strings.ReplaceAll(t, `\`, `\\`)
	return "'" + strings.ReplaceAll(t, "'", "''") + "'"
}

// DeleteDocuments removes documents; their chunks go with them.
func (db *DB) DeleteDocuments(ctx context.Context, ids []string) (err error) {
	defer db.markWrite(ctx, &err)
	defer wrap(&err, "DB.DeleteDocuments")
	_, err = db.pool.Exec(ctx, "DELETE FROM documents WHERE id = ANY($1)", ids)
	return err
}

// DocumentHashes returns ID -> hash for documents of kind ("" for all).
func (db *DB) DocumentHashes(ctx context.Context, kind string) (_ map[string]string, err error) {
	defer wrap(&err, "DB.DocumentHashes")
	rows, err := db.pool.Query(ctx, "SELECT id, hash FROM documents WHERE $1 = '' OR kind = $1", kind)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	var id, hash string
	_, err = pgx.ForEachRow(rows, []any{&id, &hash}, func() error {
		out[id] = hash
		return nil
	})
	return out, err
}

// FindByHash returns a document with that content hash.
func (db *DB) FindByHash(ctx context.Context, hash string) (id string, ok bool, err error) {
	defer wrap(&err, "DB.FindByHash")
	err = db.pool.QueryRow(ctx, "SELECT id FROM documents WHERE hash = $1 LIMIT 1", hash).Scan(&id)
	if err == pgx.ErrNoRows {
		return "", false, nil
	}
	return id, err == nil, err
}

// Stats counts documents and chunks.
func (db *DB) Stats(ctx context.Context) (st rag.Stats, err error) {
	defer wrap(&err, "DB.Stats")
	st = rag.Stats{ByKind: map[string]int{}, Model: db.model}
	rows, err := db.pool.Query(ctx, `SELECT d.kind, count(*), sum((SELECT count(*) FROM chunks c WHERE c.doc_id = d.id))::int
		FROM documents d GROUP BY d.kind`)
	if err != nil {
		return st, err
	}
	var kind string
	var docs, chunks int
	_, err = pgx.ForEachRow(rows, []any{&kind, &docs, &chunks}, func() error {
		st.ByKind[kind] = docs
		st.Documents += docs
		st.Chunks += chunks
		return nil
	})
	return st, err
}

// embedding is a vector as the bound column takes it.
func (db *DB) embedding(v []float32) any {
	if db.index.VectorType == VectorFloat16 {
		return pgvector.NewHalfVector(v)
	}
	return pgvector.NewVector(v)
}
