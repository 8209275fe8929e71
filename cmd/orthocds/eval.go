package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/schollz/progressbar/v3"

	"github.com/orthocds/orthocds"

	"github.com/orthocds/orthocds/answer"
	"github.com/orthocds/orthocds/cases"
	"github.com/orthocds/orthocds/evals"
	"github.com/orthocds/orthocds/evals/evalpg"
	"github.com/orthocds/orthocds/llm"
	"github.com/orthocds/orthocds/predictors/model"
)

// runEval runs evaluation suites (package evals): eval run, eval worker
// and eval compare.
func runEval(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	const usage = `eval: use "orthocds eval run [--suite NAME|FILE] [--out DIR] [--shards N]", "orthocds eval worker --database-url URL" or "orthocds eval compare RUN_A RUN_B"`
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "compare":
		return evalCompare(args[1:], stdout)
	case "worker":
		return evalWorker(ctx, cfg, args[1:], stderr)
	case "run":
	default:
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("eval run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.flags(fs)
	suitePath := fs.String("suite", "starter", "a bundled suite (starter: retrieval and abstention; full: every task) or a suite YAML file")
	modelsDir := fs.String("models", "", "directory of refitted predictor models that replace the shipped ones")
	out := fs.String("out", "", "run directory: records, report.json, report.html (default eval-runs/SUITE); running again resumes")
	runID := fs.String("run", "", "with a database: the run's ID there (default the --out directory's name); running again resumes")
	shards := fs.Int("shards", 0, "with a database: split the run into N river jobs, worked by this process and any 'orthocds eval worker' on the same database")
	workers := fs.Int("workers", 1, "with --shards: shards this process works at once (0: leave them all to other workers)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	suite, bundled := evals.BundledSuite(*suitePath)
	if !bundled {
		b, err := os.ReadFile(*suitePath)
		if err != nil {
			return err
		}
		if suite, err = evals.ParseSuite(b); err != nil {
			return userError(err)
		}
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("eval-runs", suite.Name)
	}
	if *shards > 0 && cfg.DatabaseURL == "" {
		return userError(orthocds.Invalid("shards", "a run spread over workers needs a database (--database-url)"))
	}
	a, err := open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	envFor, err := evalEnv(cfg, a, *modelsDir)
	if err != nil {
		return err
	}
	e, err := envFor(ctx, suite)
	if err != nil {
		return userError(err)
	}
	r := &evals.Runner{Env: e, Progress: progressBars(stderr)}
	var rep *evals.Report
	if cfg.DatabaseURL == "" {
		rep, err = r.Run(ctx, suite, dir)
	} else {
		rep, err = runInPostgres(ctx, cfg, r, suite, cmp.Or(*runID, filepath.Base(dir)), dir, *shards, *workers, envFor, stderr)
	}
	if err != nil {
		return userError(err)
	}
	for _, t := range rep.Tasks {
		if t.Skipped != "" {
			fmt.Fprintf(stdout, "%s (%s): skipped, %s\n", t.ID, t.Type, t.Skipped)
			continue
		}
		name := t.ID
		if t.Model != "" {
			name += " [" + t.Model + "]"
		}
		fmt.Fprintf(stdout, "%s (%s, %d items):", name, t.Type, t.N)
		for _, k := range sortedKeys(t.Metrics) {
			fmt.Fprintf(stdout, " %s %.3f", k, t.Metrics[k])
		}
		if len(t.Failures) > 0 {
			fmt.Fprint(stdout, "; failed:")
			for _, k := range sortedKeys(t.Failures) {
				fmt.Fprintf(stdout, " %s %d", k, t.Failures[k])
			}
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "report: %s, %s\n", filepath.Join(dir, "report.json"), filepath.Join(dir, "report.html"))
	return nil
}

// evalEnv returns what builds a suite's environment: this installation's
// corpus, embedder and predictors, and the suite's language models.
func evalEnv(cfg Config, a *app, modelsDir string) (evalpg.EnvFunc, error) {
	ps, err := loadPredictors(modelsDir)
	if err != nil {
		return nil, err
	}
	models := map[string]*model.Artefact{}
	for _, sum := range ps.List() {
		if art, ok := ps.Artefact(sum.ID); ok {
			models[sum.ID] = art
		}
	}
	return func(ctx context.Context, suite evals.Suite) (evals.Env, error) {
		e := evals.Env{
			Search: a.retriever,
			// Retrieval-only answers; each compared model has its own.
			Answer: answer.New(a.retriever, a.analyzer, nil, nil, answer.DefaultConfig),
			TopicOf: func(id string) string {
				e, _ := a.guidelines.Get(id)
				return e.Domain
			},
			Model: a.embedder.Model(), CorpusVersion: a.guidelines.Version(), Models: models,
		}
		cs, err := cases.LoadWith(a.guidelines)
		if err != nil {
			return e, err
		}
		e.Cases, e.Scope = map[string]*cases.Case{}, a.analyzer
		for i := range cs {
			e.Cases[cs[i].ID] = &cs[i]
		}
		e.Contestants, e.Judge, err = languageModels(ctx, cfg, a, suite)
		return e, err
	}, nil
}

// runInPostgres keeps the run's records in PostgreSQL under runID. With
// shards, it enqueues them as river jobs, works some itself, and waits for
// every worker to finish; then it evaluates whatever is left, writes the
// report and exports the records to dir/records.jsonl for eval compare.
func runInPostgres(ctx context.Context, cfg Config, r *evals.Runner, suite evals.Suite, runID, dir string,
	shards, workers int, envFor evalpg.EnvFunc, stderr io.Writer) (*evals.Report, error) {
	pool, err := evalPool(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	store := &evalpg.Store{Pool: pool, RunID: runID}
	if shards > 0 {
		if _, err := store.Open(ctx, r.Meta(suite)); err != nil {
			return nil, err
		}
		q, err := evalpg.NewQueue(pool, evalpg.QueueConfig{Workers: workers, Env: envFor})
		if err != nil {
			return nil, err
		}
		if workers > 0 {
			if err := q.Start(ctx); err != nil {
				return nil, err
			}
			defer q.Stop(context.WithoutCancel(ctx))
		}
		ids, err := q.Enqueue(ctx, runID, suite, shards)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(stderr, "run %s: %d shards enqueued; start more workers with: orthocds eval worker --database-url URL\n", runID, len(ids))
		bar := progressBars(stderr)
		if _, err := q.Wait(ctx, ids, time.Second, func(done, total int) { bar("shards", done, total) }); err != nil {
			return nil, err
		}
	}
	rep, err := r.RunStore(ctx, suite, store, dir)
	if err != nil {
		return nil, err
	}
	recs, err := store.Records(ctx)
	if err != nil {
		return nil, err
	}
	return rep, evals.WriteRecords(dir, rep.Meta, recs)
}

// evalPool connects to the evaluation database and creates its tables
// (runs, records, river's queue) when missing.
func evalPool(ctx context.Context, cfg Config) (*pgxpool.Pool, error) {
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, orthocds.Invalid("DATABASE_URL", "cannot parse the database URL")
	}
	if err := evalpg.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// evalWorker works shards of runs enqueued by "eval run --shards" until
// interrupted.
func evalWorker(ctx context.Context, cfg Config, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.flags(fs)
	modelsDir := fs.String("models", "", "directory of refitted predictor models that replace the shipped ones")
	workers := fs.Int("workers", 1, "shards worked at once")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.DatabaseURL == "" || *workers < 1 {
		return userError(orthocds.Invalid("database-url", "a worker needs the run's database (--database-url) and at least one worker"))
	}
	a, err := open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	envFor, err := evalEnv(cfg, a, *modelsDir)
	if err != nil {
		return err
	}
	pool, err := evalPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	q, err := evalpg.NewQueue(pool, evalpg.QueueConfig{Workers: *workers, Env: envFor,
		Logger: slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	if err := q.Start(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "eval worker %s: working shards with %d workers; stop with Ctrl-C\n", q.ID, *workers)
	<-ctx.Done()
	return q.Stop(context.Background())
}

func evalCompare(args []string, stdout io.Writer) error {
	if len(args) != 2 {
		return errors.New(`eval compare: give two run directories, RUN_A RUN_B`)
	}
	a, err := evals.ReadRecords(args[0])
	if err != nil {
		return err
	}
	b, err := evals.ReadRecords(args[1])
	if err != nil {
		return err
	}
	cs := evals.Compare(a, b)
	if len(cs) == 0 {
		return errors.New("eval compare: the two runs share no items")
	}
	evals.PrintChanges(stdout, cs)
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// languageModels are the models a suite compares and its judge. The
// suite's models must all answer (a side-by-side run with one model
// silently missing would mislead); without any, the configured model is
// used when it is reachable, and tasks that need one are skipped when it
// is not.
func languageModels(ctx context.Context, cfg Config, a *app, suite evals.Suite) ([]evals.Contestant, evals.Judge, error) {
	connect := func(spec evals.ModelSpec) (*llm.Client, error) {
		c := llm.Config{Provider: cmp.Or(spec.Provider, llm.ProviderOllama), BaseURL: spec.URL, Model: spec.Name, APIKey: cfg.OpenAIKey, ContextTokens: cfg.LLMContext}
		if c.BaseURL == "" {
			c.BaseURL = cfg.OllamaHost
		}
		client, err := llm.New(c)
		if err != nil {
			return nil, err
		}
		if err := client.Check(ctx); err != nil {
			return nil, fmt.Errorf("model %s: %w", spec.Name, err)
		}
		return client, nil
	}
	contestant := func(c *llm.Client) (evals.Contestant, error) {
		digest, err := c.Digest(ctx)
		if err != nil {
			return evals.Contestant{}, err
		}
		return evals.Contestant{Name: c.Name(), Digest: digest, LLM: c,
			Answer: answer.New(a.retriever, a.analyzer, c, nil, answer.DefaultConfig)}, nil
	}
	var out []evals.Contestant
	for _, spec := range suite.Models {
		client, err := connect(spec)
		if err != nil {
			return nil, nil, err
		}
		c, err := contestant(client)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, c)
	}
	configured := a.llm != nil && a.llm.Available(ctx)
	if len(suite.Models) == 0 && configured {
		c, err := contestant(a.llm)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, c)
	}
	switch {
	case suite.Judge != nil:
		j, err := connect(*suite.Judge)
		return out, j, err
	case configured:
		return out, a.llm, nil
	case len(out) > 0:
		return out, out[0].LLM, nil
	}
	return out, nil, nil
}

// progressBars draws one bar a task on w while a run goes on.
func progressBars(w io.Writer) func(task string, done, total int) {
	var mu sync.Mutex
	var bar *progressbar.ProgressBar
	current := ""
	return func(task string, done, total int) {
		mu.Lock()
		defer mu.Unlock()
		if task != current || bar == nil {
			if bar != nil {
				bar.Finish()
				fmt.Fprintln(w)
			}
			current = task
			bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(fmt.Sprintf("%-12s", task)),
				progressbar.OptionShowCount(), progressbar.OptionSetWidth(30), progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
		}
		bar.Set(done)
	}
}
