package evalpg

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/evals"
)

// QueueName is the river queue evaluation shards go through.
const QueueName = "orthocds_evals"

// ShardArgs is the river job for one shard of a run. The suite travels
// with the job, so a worker needs only the database and its own corpus and
// models; the run's meta check refuses a worker whose corpus or models
// differ from the run's.
type ShardArgs struct {
	RunID string      `json:"run_id" river:"unique"`
	Suite evals.Suite `json:"suite"`
	Index int         `json:"index" river:"unique"`
	Count int         `json:"count" river:"unique"`
}

// Kind implements river.JobArgs.
func (ShardArgs) Kind() string { return "orthocds_eval_shard" }

// InsertOpts puts shards on the evaluation queue, once per run and shard:
// enqueueing a resumed run again does not duplicate its shards.
func (ShardArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueName, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// EnvFunc gives the environment a worker evaluates a suite in (its corpus,
// embedder and the suite's language models).
type EnvFunc func(ctx context.Context, suite evals.Suite) (evals.Env, error)

type shardWorker struct {
	river.WorkerDefaults[ShardArgs]
	pool *pgxpool.Pool
	env  EnvFunc
	log  *slog.Logger
}

func (w *shardWorker) Work(ctx context.Context, job *river.Job[ShardArgs]) error {
	a := job.Args
	env, err := w.env(ctx, a.Suite)
	if err != nil {
		return err
	}
	w.log.Info("eval shard", "run", a.RunID, "shard", a.Index, "of", a.Count, "job", job.ID, "attempt", job.Attempt)
	r := &evals.Runner{Env: env, Shard: &evals.Shard{Index: a.Index, Count: a.Count}}
	_, err = r.RunStore(ctx, a.Suite, &Store{Pool: w.pool, RunID: a.RunID}, "")
	return err
}

// Queue enqueues shards and, when it has workers, works them.
type Queue struct {
	client *river.Client[pgx.Tx]
	pool   *pgxpool.Pool
	// ID names this process in river's job rows (attempted_by).
	ID string
}

// QueueConfig configures a Queue.
type QueueConfig struct {
	// Workers is how many shards this process works at once; 0 makes an
	// enqueue-only queue.
	Workers int
	// Env builds a worker's environment; needed when Workers > 0.
	Env EnvFunc
	// ID names this process; empty lets river choose.
	ID     string
	Logger *slog.Logger
	// PollInterval is how often idle workers look for jobs (river's
	// default when zero); tests shorten it.
	PollInterval time.Duration
}

// NewQueue returns a Queue on pool (migrated with Migrate); Start begins
// working shards.
func NewQueue(pool *pgxpool.Pool, cfg QueueConfig) (*Queue, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rc := &river.Config{ID: cfg.ID, Logger: log, JobTimeout: -1, FetchPollInterval: cfg.PollInterval}
	if cfg.PollInterval > 0 {
		rc.FetchCooldown = min(cfg.PollInterval, 100*time.Millisecond)
	}
	if cfg.Workers > 0 {
		if cfg.Env == nil {
			return nil, fmt.Errorf("evalpg: a queue with workers needs an Env")
		}
		workers := river.NewWorkers()
		river.AddWorker(workers, &shardWorker{pool: pool, env: cachedEnv(cfg.Env), log: log})
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{QueueName: {MaxWorkers: cfg.Workers}}
	}
	client, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, err
	}
	return &Queue{client: client, pool: pool, ID: client.ID()}, nil
}

// Start begins working shards until Stop.
func (q *Queue) Start(ctx context.Context) error { return q.client.Start(ctx) }

// Stop waits for shards being worked to finish (or ctx to end).
func (q *Queue) Stop(ctx context.Context) error { return q.client.Stop(ctx) }

// Enqueue splits a run into count shards, one river job each, and returns
// the job IDs. A shard already enqueued for the run is not enqueued again.
func (q *Queue) Enqueue(ctx context.Context, runID string, suite evals.Suite, count int) ([]int64, error) {
	if count < 1 || count > 10_000 {
		return nil, orthocds.Invalid("shards", "must be between 1 and 10000")
	}
	params := make([]river.InsertManyParams, count)
	for i := range params {
		params[i] = river.InsertManyParams{Args: ShardArgs{RunID: runID, Suite: suite, Index: i, Count: count}}
	}
	res, err := q.client.InsertMany(ctx, params)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(res))
	for i, r := range res {
		ids[i] = r.Job.ID
	}
	return ids, nil
}

// Wait polls the jobs until all are completed, telling progress how many
// are. A job river gave up on (discarded after its attempts, or
// cancelled) is an error naming its last failure.
func (q *Queue) Wait(ctx context.Context, ids []int64, every time.Duration, progress func(done, total int)) ([]*rivertype.JobRow, error) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		rows := make([]*rivertype.JobRow, len(ids))
		done := 0
		for i, id := range ids {
			row, err := q.client.JobGet(ctx, id)
			if err != nil {
				return nil, err
			}
			rows[i] = row
			switch row.State {
			case rivertype.JobStateCompleted:
				done++
			case rivertype.JobStateDiscarded, rivertype.JobStateCancelled:
				last := "no error recorded"
				if n := len(row.Errors); n > 0 {
					last = row.Errors[n-1].Error
				}
				return rows, orthocds.Errorf(orthocds.EUNAVAILABLE, "evaluation shard job %d was %s: %s", id, row.State, last)
			}
		}
		if progress != nil {
			progress(done, len(ids))
		}
		if done == len(ids) {
			return rows, nil
		}
		select {
		case <-ctx.Done():
			return rows, ctx.Err()
		case <-tick.C:
		}
	}
}

// cachedEnv builds each suite's environment once per process.
func cachedEnv(f EnvFunc) EnvFunc {
	var mu sync.Mutex
	cache := map[string]evals.Env{}
	return func(ctx context.Context, suite evals.Suite) (evals.Env, error) {
		r := evals.Runner{}
		k := r.Meta(suite).SuiteHash
		mu.Lock()
		defer mu.Unlock()
		if e, ok := cache[k]; ok {
			return e, nil
		}
		e, err := f(ctx, suite)
		if err != nil {
			return e, err
		}
		cache[k] = e
		return e, nil
	}
}
