// Package evalpg keeps evaluation runs in PostgreSQL and spreads them over
// workers with river, a PostgreSQL job queue: a run is split into shards,
// each shard is a river job, and any machine running "orthocds eval
// worker" against the same database takes shards until none is left.
// Records are keyed by run, task, model and item, so a shard worked twice
// (a worker killed mid-shard, its job retried) stores nothing twice.
package evalpg

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/evals"
	"github.com/orthocds/orthocds/postgres"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrate creates the run tables and river's own tables. Processes
// starting together (a coordinator and its workers) take turns: river's
// migrations are not safe to run twice at once.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	river := func(ctx context.Context) error {
		rm, err := rivermigrate.New(riverpgxv5.New(pool), nil)
		if err != nil {
			return err
		}
		if _, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("river migrations: %w", err)
		}
		return nil
	}
	if err := postgres.MigrateLocked(ctx, pool, "orthocds.evalpg.migrate", "eval_schema_version", sub, river); err != nil {
		return fmt.Errorf("evalpg: migrate: %w", err)
	}
	return nil
}

// Store is one run's records in PostgreSQL; it implements
// evals.RecordStore.
type Store struct {
	Pool  *pgxpool.Pool
	RunID string
}

var _ evals.RecordStore = (*Store)(nil)

// Open implements evals.RecordStore: the first Open of a run ID stores its
// meta; later ones (a resumed run, a worker) must bring the same meta.
func (s *Store) Open(ctx context.Context, meta evals.Meta) ([]evals.Record, error) {
	b, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	if _, err := s.Pool.Exec(ctx, `INSERT INTO eval_runs (id, meta) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, s.RunID, b); err != nil {
		return nil, err
	}
	stored, err := s.Meta(ctx)
	if err != nil {
		return nil, err
	}
	if !stored.Same(meta) {
		return nil, orthocds.Errorf(orthocds.ECONFLICT,
			"run %q holds a run of another suite, model or corpus; use another run ID", s.RunID)
	}
	return s.Records(ctx)
}

// Meta is the run's stored meta.
func (s *Store) Meta(ctx context.Context) (evals.Meta, error) {
	var meta evals.Meta
	var b []byte
	err := s.Pool.QueryRow(ctx, `SELECT meta FROM eval_runs WHERE id = $1`, s.RunID).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return meta, orthocds.Errorf(orthocds.ENOTFOUND, "no evaluation run %q", s.RunID)
	}
	if err != nil {
		return meta, err
	}
	return meta, json.Unmarshal(b, &meta)
}

// Add implements evals.RecordStore; a record already stored is kept.
func (s *Store) Add(ctx context.Context, rec evals.Record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = s.Pool.Exec(ctx, `INSERT INTO eval_records (run_id, task, model, item, record) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (run_id, task, model, item) DO NOTHING`, s.RunID, rec.Task, rec.Model, rec.Item, b)
	return err
}

// Records returns the run's records in the order they were stored.
func (s *Store) Records(ctx context.Context) ([]evals.Record, error) {
	rows, err := s.Pool.Query(ctx, `SELECT record FROM eval_records WHERE run_id = $1 ORDER BY created_at, task, model, item`, s.RunID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (evals.Record, error) {
		var r evals.Record
		var b []byte
		if err := row.Scan(&b); err != nil {
			return r, err
		}
		return r, json.Unmarshal(b, &r)
	})
}
