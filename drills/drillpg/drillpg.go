// Package drillpg keeps drill attempts in PostgreSQL, so that several
// servers share a class's attempts; it implements drills.Store.
package drillpg

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/drills"
	"github.com/orthocds/orthocds/postgres"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the attempts table.
type Store struct {
	Pool *pgxpool.Pool
}

var _ drills.Store = (*Store)(nil)

// Migrate creates the attempts table; concurrent starts take turns.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	if err := postgres.MigrateLocked(ctx, pool, "orthocds.drillpg.migrate", "drill_schema_version", sub, nil); err != nil {
		return fmt.Errorf("drillpg: migrate: %w", err)
	}
	return nil
}

func unreachable(err error) error {
	if err != nil && postgres.Unreachable(err) {
		return orthocds.Unavailable(err, "the attempts database cannot be reached")
	}
	return err
}

// Save implements drills.Store: an insert for a new attempt, otherwise an
// update that only a copy of the stored version may make.
func (s *Store) Save(ctx context.Context, a *drills.Attempt) error {
	next := *a
	next.Version = a.Version + 1
	b, err := json.Marshal(&next)
	if err != nil {
		return err
	}
	var tag int64
	if a.Version == 0 {
		ct, err := s.Pool.Exec(ctx, `INSERT INTO drill_attempts (id, student, case_id, status, version, started, attempt)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
			a.ID, a.Student, a.CaseID, string(a.Status), next.Version, a.Started, b)
		if err != nil {
			return unreachable(err)
		}
		tag = ct.RowsAffected()
	} else {
		ct, err := s.Pool.Exec(ctx, `UPDATE drill_attempts SET status = $2, version = $3, attempt = $4
			WHERE id = $1 AND version = $5`, a.ID, string(a.Status), next.Version, b, a.Version)
		if err != nil {
			return unreachable(err)
		}
		tag = ct.RowsAffected()
	}
	if tag != 1 {
		return orthocds.Errorf(orthocds.ECONFLICT, "attempt %s was changed by another request; reload it", a.ID)
	}
	a.Version = next.Version
	return nil
}

// Get implements drills.Store.
func (s *Store) Get(ctx context.Context, id string) (*drills.Attempt, error) {
	var b []byte
	err := s.Pool.QueryRow(ctx, `SELECT attempt FROM drill_attempts WHERE id = $1`, id).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, orthocds.Errorf(orthocds.ENOTFOUND, "no attempt %s", id)
	}
	if err != nil {
		return nil, unreachable(err)
	}
	var a drills.Attempt
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// List implements drills.Store.
func (s *Store) List(ctx context.Context, f drills.Filter) ([]*drills.Attempt, error) {
	rows, err := s.Pool.Query(ctx, `SELECT attempt FROM drill_attempts
		WHERE ($1 = '' OR student = $1) AND ($2 = '' OR case_id = $2) ORDER BY started, id`, f.Student, f.CaseID)
	if err != nil {
		return nil, unreachable(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*drills.Attempt, error) {
		var b []byte
		if err := r.Scan(&b); err != nil {
			return nil, err
		}
		var a drills.Attempt
		return &a, json.Unmarshal(b, &a)
	})
	return out, unreachable(err)
}
