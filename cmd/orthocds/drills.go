package main

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orthocds/orthocds/cases"
	"github.com/orthocds/orthocds/drills"
	"github.com/orthocds/orthocds/drills/drillpg"
)

// openDrills opens the case drills: attempts in PostgreSQL when a database
// is configured, otherwise in DATA/attempts.jsonl; the configured LLM plays
// the patient; ORTHOCDS_JUDGE_MODEL (a model of the same provider) grades
// beside the rubric when set; ORTHOCDS_CASES names a directory of the
// hospital's own cases, served beside the project's. close releases the
// store.
func openDrills(ctx context.Context, cfg Config, a *app, judgeModel, casesDir string) (svc *drills.Service, close func(), err error) {
	var extra []fs.FS
	if casesDir != "" {
		extra = append(extra, os.DirFS(casesDir))
	}
	cs, err := cases.LoadWith(a.guidelines, extra...)
	if err != nil {
		return nil, nil, err
	}
	dc := drills.Config{Cases: cs, Scope: a.analyzer, Corpus: a.guidelines}
	if a.llm != nil {
		dc.Patient = a.llm
	}
	if judgeModel != "" {
		jc := cfg
		jc.LLMModel = judgeModel
		j, err := newLLM(jc)
		if err != nil {
			return nil, nil, err
		}
		if j != nil {
			dc.Judge = j
		}
	}
	close = func() {}
	if cfg.DatabaseURL != "" {
		pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, nil, err
		}
		if err := drillpg.Migrate(ctx, pool); err != nil {
			pool.Close()
			return nil, nil, err
		}
		dc.Store, close = &drillpg.Store{Pool: pool}, pool.Close
	} else if dc.Store, err = drills.OpenFileStore(filepath.Join(cfg.DataDir, "attempts.jsonl")); err != nil {
		return nil, nil, err
	}
	return drills.New(dc), close, nil
}
