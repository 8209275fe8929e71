package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/orthocds/orthocds/answer"
	"github.com/orthocds/orthocds/evals"
	"github.com/orthocds/orthocds/llm"
	"github.com/orthocds/orthocds/predictors/model"
)

// runEval runs an evaluation suite (see evals and issue 7); only "run"
// exists so far.
func runEval(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "compare" {
		if len(args) != 3 {
			return errors.New(`eval compare: give two run directories, RUN_A RUN_B`)
		}
		a, err := evals.ReadRecords(args[1])
		if err != nil {
			return err
		}
		b, err := evals.ReadRecords(args[2])
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
	if len(args) == 0 || args[0] != "run" {
		return errors.New(`eval: use "orthocds eval run [--suite FILE] [--out DIR]" or "orthocds eval compare RUN_A RUN_B"`)
	}
	fs := flag.NewFlagSet("eval run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.flags(fs)
	suitePath := fs.String("suite", "starter", "a bundled suite (starter: retrieval and abstention; full: every task) or a suite YAML file")
	modelsDir := fs.String("models", "", "directory of refitted predictor models that replace the shipped ones")
	out := fs.String("out", "", "run directory: records, report.json, report.html (default eval-runs/SUITE); running again resumes")
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
	a, err := open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	ps, err := loadPredictors(*modelsDir)
	if err != nil {
		return err
	}
	models := map[string]*model.Artefact{}
	for _, sum := range ps.List() {
		if art, ok := ps.Artefact(sum.ID); ok {
			models[sum.ID] = art
		}
	}
	e := evals.Env{
		Search: a.retriever,
		// The built tasks decide from retrieval alone (abstention happens
		// before any language model is asked), so none is used.
		Answer: answer.New(a.retriever, a.analyzer, nil, nil, answer.DefaultConfig),
		TopicOf: func(id string) string {
			e, _ := a.guidelines.Get(id)
			return e.Domain
		},
		Model: a.embedder.Model(), CorpusVersion: a.guidelines.Version(), Models: models,
	}
	if e.Contestants, e.Judge, err = languageModels(ctx, cfg, a, suite); err != nil {
		return userError(err)
	}
	r := &evals.Runner{Env: e, Progress: progressBars(stderr)}
	rep, err := r.Run(ctx, suite, dir)
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
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "report: %s, %s\n", filepath.Join(dir, "report.json"), filepath.Join(dir, "report.html"))
	return nil
}

func sortedKeys(m map[string]float64) []string {
	return slices.Sorted(maps.Keys(m))
}

// languageModels are the models a suite compares and its judge. The
// suite's models must all answer (a side-by-side run with one model
// silently missing would mislead); without any, the configured model is
// used when it is reachable, and tasks that need one are skipped when it
// is not.
func languageModels(ctx context.Context, cfg Config, a *app, suite evals.Suite) ([]evals.Contestant, evals.Judge, error) {
	connect := func(spec evals.ModelSpec) (*llm.Client, error) {
		c := llm.Config{Provider: cmp.Or(spec.Provider, llm.ProviderOllama), BaseURL: spec.URL, Model: spec.Name, APIKey: cfg.OpenAIKey}
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
