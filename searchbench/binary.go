package searchbench

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pgvector/pgvector-go"
	pgxvec "github.com/pgvector/pgvector-go/pgx"
)

// Binary is binary quantization with re-scoring, the scale issue's third
// lever: half-precision vectors in the table, an HNSW index over their
// sign bits (pgvector's binary_quantize, Hamming distance), and each
// query's best Candidates rows by Hamming distance re-ranked by exact
// cosine distance on the stored vectors. The index is small (96 bytes a
// 768-d vector) but every candidate costs a heap read. It is measured
// beside halfvec HNSW; it is not a store option (docs/benchmarks.md says
// why). A batch is one pipelined round trip.
type Binary struct {
	URL, Schema string
	// Candidates is how many rows the bit index passes to re-scoring
	// (hnsw.ef_search is set to match, as it bounds what HNSW returns).
	Candidates int
	pool       *pgxpool.Pool
	dim        int
}

func (b *Binary) label() string { return "pgvector binary quantization + re-scoring" }

func (b *Binary) Name() string {
	return fmt.Sprintf("%s (%d candidates)", b.label(), b.Candidates)
}

func (b *Binary) Batched() bool { return true }

func (b *Binary) open(ctx context.Context) error {
	if b.pool != nil {
		b.pool.Close()
	}
	pc, err := pgxpool.ParseConfig(b.URL)
	if err != nil {
		return err
	}
	pc.ConnConfig.RuntimeParams["search_path"] = b.Schema + ",public"
	pc.ConnConfig.RuntimeParams["hnsw.ef_search"] = strconv.Itoa(b.Candidates)
	pc.ConnConfig.RuntimeParams["maintenance_work_mem"] = "6GB"
	pc.ConnConfig.RuntimeParams["jit"] = "off"
	pc.AfterConnect = pgxvec.RegisterTypes
	pc.MaxConns = 1 // one connection, one core, as the other methods
	b.pool, err = pgxpool.NewWithConfig(ctx, pc)
	return err
}

func (b *Binary) Load(ctx context.Context, d *Dataset) (LoadTimes, error) {
	if err := dropSchema(ctx, b.URL, b.Schema); err != nil {
		return LoadTimes{}, err
	}
	conn, err := pgx.Connect(ctx, b.URL)
	if err != nil {
		return LoadTimes{}, err
	}
	for _, s := range []string{"CREATE EXTENSION IF NOT EXISTS vector", "CREATE SCHEMA " + pgx.Identifier{b.Schema}.Sanitize()} {
		if _, err := conn.Exec(ctx, s); err != nil {
			conn.Close(ctx)
			return LoadTimes{}, err
		}
	}
	conn.Close(ctx)
	if err := b.open(ctx); err != nil {
		return LoadTimes{}, err
	}
	b.dim = d.Dim
	c, err := b.pool.Acquire(ctx)
	if err != nil {
		return LoadTimes{}, err
	}
	defer c.Release()
	// Vectors inline, as the store keeps them (postgres.Init).
	for _, s := range []string{fmt.Sprintf(`CREATE TABLE items (id integer PRIMARY KEY, embedding halfvec(%d))`, d.Dim),
		"ALTER TABLE items ALTER COLUMN embedding SET STORAGE PLAIN"} {
		if _, err := c.Exec(ctx, s); err != nil {
			return LoadTimes{}, err
		}
	}
	start := time.Now()
	i := 0
	_, err = c.Conn().CopyFrom(ctx, pgx.Identifier{"items"}, []string{"id", "embedding"}, pgx.CopyFromFunc(func() ([]any, error) {
		if i == d.N {
			return nil, nil
		}
		i++
		return []any{i - 1, pgvector.NewHalfVector(d.Row(i - 1))}, nil
	}))
	if err != nil {
		return LoadTimes{}, err
	}
	lt := LoadTimes{Copy: time.Since(start)}
	start = time.Now()
	if _, err := c.Exec(ctx, fmt.Sprintf(`CREATE INDEX ON items USING hnsw ((binary_quantize(embedding)::bit(%d)) bit_hamming_ops)`, d.Dim)); err != nil {
		return lt, err
	}
	lt.Index = time.Since(start)
	_, err = c.Exec(ctx, "ANALYZE items")
	return lt, err
}

// setCandidates reconnects with another candidate count.
func (b *Binary) setCandidates(ctx context.Context, n int) error {
	b.Candidates = n
	return b.open(ctx)
}

func (b *Binary) Search(ctx context.Context, qs [][]float32, k int) ([][]int, error) {
	stmt := fmt.Sprintf(`SELECT id FROM (
    SELECT id, embedding FROM items
    ORDER BY binary_quantize(embedding)::bit(%[1]d) <~> binary_quantize($1::halfvec(%[1]d))
    LIMIT %[2]d) c
ORDER BY embedding <=> $1::halfvec(%[1]d)
LIMIT %[3]d`, b.dim, b.Candidates, k)
	batch := &pgx.Batch{}
	out := make([][]int, len(qs))
	for i, q := range qs {
		batch.Queue(stmt, pgvector.NewHalfVector(q)).Query(func(rows pgx.Rows) error {
			ids, err := pgx.CollectRows(rows, pgx.RowTo[int])
			out[i] = ids
			return err
		})
	}
	if err := b.pool.SendBatch(ctx, batch).Close(); err != nil {
		return nil, err
	}
	return out, nil
}

func (b *Binary) tableBytes(ctx context.Context) int64 {
	return relationBytes(ctx, b.URL, b.Schema, "items")
}

func (b *Binary) Close() error {
	if b.pool != nil {
		b.pool.Close()
	}
	return dropSchema(context.Background(), b.URL, b.Schema)
}
