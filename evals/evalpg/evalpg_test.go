package evalpg_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/answer"
	"github.com/orthocds/orthocds/evals"
	"github.com/orthocds/orthocds/evals/evalpg"
	"github.com/orthocds/orthocds/internal/corpustest"
	"github.com/orthocds/orthocds/postgres/pgtest"
)

var testDBURL string

func TestMain(m *testing.M) {
	var err error
	testDBURL, err = pgtest.NewDatabase("orthocds_test_evalpg")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func pool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	if testDBURL == "" {
		t.Skip(pgtest.SkipMessage)
	}
	p, err := pgxpool.New(context.Background(), testDBURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	if err := evalpg.Migrate(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

func env(t *testing.T) evals.Env {
	f, err := corpustest.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Store.Close() })
	return evals.Env{Search: f.Retriever, Answer: answer.New(f.Retriever, f.Analyzer, nil, nil, answer.DefaultConfig),
		TopicOf: func(id string) string {
			e, _ := f.Corpus.Get(id)
			return e.Domain
		},
		Model: f.Embedder.Model(), CorpusVersion: f.Corpus.Version()}
}

// A run's meta is kept with it: another suite under the same run ID is
// refused, and a record stored twice is kept once.
func TestStore(t *testing.T) {
	ctx := context.Background()
	s := &evalpg.Store{Pool: pool(t), RunID: fmt.Sprint("store-", time.Now().UnixNano())}
	meta := (&evals.Runner{Env: evals.Env{CorpusVersion: "v1"}}).Meta(evals.Starter())
	if recs, err := s.Open(ctx, meta); err != nil || len(recs) != 0 {
		t.Fatalf("first open: %v, %d records", err, len(recs))
	}
	rec := evals.Record{Task: "retrieval", Item: "q1", Hits: []int{2}, NGold: 1}
	for range 2 {
		if err := s.Add(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	other := rec
	other.Model = "ollama:m"
	if err := s.Add(ctx, other); err != nil {
		t.Fatal(err)
	}
	recs, err := s.Open(ctx, meta)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]evals.Record{rec, other}, recs); diff != "" {
		t.Errorf("records after reopening (-want +got):\n%s", diff)
	}
	changed := meta
	changed.CorpusVersion = "v2"
	if _, err := s.Open(ctx, changed); orthocds.ErrorCode(err) != orthocds.ECONFLICT {
		t.Errorf("open with another corpus version: %v, want a conflict", err)
	}
}

// A run spread over river: the coordinator only enqueues, two workers
// (standing for two machines) take the shards, and the report equals that
// of the same suite run in one process.
func TestDistributedRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p := pool(t)
	e := env(t)
	suite := evals.Starter()

	local, err := (&evals.Runner{Env: e}).Run(ctx, suite, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	envFunc := func(context.Context, evals.Suite) (evals.Env, error) { return e, nil }
	var workers []*evalpg.Queue
	for _, id := range []string{"machine-a", "machine-b"} {
		q, err := evalpg.NewQueue(p, evalpg.QueueConfig{Workers: 1, Env: envFunc, ID: id, PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		workers = append(workers, q)
	}
	coord, err := evalpg.NewQueue(p, evalpg.QueueConfig{})
	if err != nil {
		t.Fatal(err)
	}
	runID := fmt.Sprint("distributed-", time.Now().UnixNano())
	store := &evalpg.Store{Pool: p, RunID: runID}
	r := &evals.Runner{Env: e}
	if _, err := store.Open(ctx, r.Meta(suite)); err != nil {
		t.Fatal(err)
	}
	ids, err := coord.Enqueue(ctx, runID, suite, 8)
	if err != nil {
		t.Fatal(err)
	}
	// Enqueueing the same run again adds no shard.
	again, err := coord.Enqueue(ctx, runID, suite, 8)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids, again); diff != "" {
		t.Errorf("enqueueing the run again made new jobs (-first +second):\n%s", diff)
	}
	rows, err := coord.Wait(ctx, ids, 100*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range workers {
		if err := w.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	}
	by := map[string]int{}
	for _, row := range rows {
		for _, id := range row.AttemptedBy {
			by[id]++
		}
	}
	if by["machine-a"] == 0 || by["machine-b"] == 0 {
		t.Errorf("shards worked by %v; want both machines", by)
	}
	recs, err := store.Records(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, tr := range local.Tasks {
		total += tr.N
	}
	if len(recs) != total {
		t.Errorf("workers stored %d records, want %d", len(recs), total)
	}
	// The coordinator finishes: nothing is left to evaluate, so it only
	// summarises.
	dist, err := r.RunStore(ctx, suite, store, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	after, err := store.Records(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(recs) {
		t.Errorf("the coordinator evaluated %d items again", len(after)-len(recs))
	}
	ignore := cmpopts.IgnoreFields(evals.TaskReport{}, "Latency", "Histogram")
	if diff := cmp.Diff(local, dist, ignore); diff != "" {
		t.Errorf("distributed report differs from a local run (-local +distributed):\n%s", diff)
	}
}

// Processes starting together migrate the same fresh database at once
// without failing.
func TestConcurrentMigrate(t *testing.T) {
	if testDBURL == "" {
		t.Skip(pgtest.SkipMessage)
	}
	ctx := context.Background()
	url, err := pgtest.NewDatabase("orthocds_test_evalpg_migrate")
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			p, err := pgxpool.New(ctx, url)
			if err != nil {
				errs <- err
				return
			}
			defer p.Close()
			errs <- evalpg.Migrate(ctx, p)
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
