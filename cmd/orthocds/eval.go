package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/orthocds/orthocds/answer"
	"github.com/orthocds/orthocds/evals"
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
	suitePath := fs.String("suite", "", "suite YAML (default: the bundled starter suite, retrieval and abstention)")
	modelsDir := fs.String("models", "", "directory of refitted predictor models that replace the shipped ones")
	out := fs.String("out", "", "run directory: records, report.json, report.html (default eval-runs/SUITE); running again resumes")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	suite := evals.Starter()
	if *suitePath != "" {
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
	// A reachable language model answers exam tasks and judges rubric
	// tasks; without one they are reported as skipped.
	if a.llm != nil && a.llm.Available(ctx) {
		e.Judge, e.Examinee, e.LLM = a.llm, a.llm, a.llm.Name()
		e.Generator = a.answerer(nil) // answers with the model, whose citations are checked
	}
	r := &evals.Runner{Env: e, Progress: func(task string, done, total int) {
		fmt.Fprintf(stderr, "\r%-12s %4d/%d", task, done, total)
		if done == total {
			fmt.Fprintln(stderr)
		}
	}}
	rep, err := r.Run(ctx, suite, dir)
	if err != nil {
		return userError(err)
	}
	for _, t := range rep.Tasks {
		fmt.Fprintf(stdout, "%s (%s, %d items):", t.ID, t.Type, t.N)
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
