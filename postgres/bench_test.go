package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"testing"

	"github.com/orthocds/orthocds/rag/storetest"
)

// BenchmarkBatchVsLoop: 10k chunks of 512 dimensions, a batch of 64 queries
// in one statement against 64 statements.
func BenchmarkBatchVsLoop(b *testing.B) {
	if testURL == "" {
		b.Skip("set ORTHOCDS_TEST_DATABASE_URL")
	}
	dropSchema(b, "bench_batch_vs_loop") // a fresh table: no dead rows from an earlier run
	db, err := Open(context.Background(), Config{URL: testURL, Schema: "bench_batch_vs_loop"})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	storetest.BenchBatchVsLoop(b, db, 10_000, 512)
}

func dropSchema(b *testing.B, name string) {
	conn, err := pgx.Connect(context.Background(), testURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
		b.Fatal(err)
	}
}
