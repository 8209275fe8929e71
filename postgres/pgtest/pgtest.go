// Package pgtest gives each test package its own PostgreSQL database, made
// fresh from ORTHOCDS_TEST_DATABASE_URL (an administrative connection URL;
// CI always sets it) and with pgvector enabled.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable that points the tests at PostgreSQL.
const EnvURL = "ORTHOCDS_TEST_DATABASE_URL"

// NewDatabase drops and creates database name and returns its URL. It
// returns "" when EnvURL is unset; callers skip with SkipMessage.
func NewDatabase(name string) (string, error) {
	admin := os.Getenv(EnvURL)
	if admin == "" {
		return "", nil
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", fmt.Errorf("pgtest: connect %s: %w", EnvURL, err)
	}
	defer conn.Close(ctx)
	id := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+id+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+id); err != nil {
		return "", err
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	dbc, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return "", err
	}
	defer dbc.Close(ctx)
	if _, err := dbc.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS vector"); err != nil {
		return "", fmt.Errorf("pgtest: pgvector is not installed (run scripts/install-pgvector.sh): %w", err)
	}
	return u.String(), nil
}

// SkipMessage is printed when no database is configured.
const SkipMessage = "PostgreSQL tests skipped: set " + EnvURL + " (for example postgres://postgres@127.0.0.1:5432/postgres)"

var schemaSeq atomic.Int64

// Schema returns a new schema name for one test.
func Schema(t *testing.T) string {
	n := schemaSeq.Add(1)
	s := strings.ToLower(strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
	if len(s) > 40 {
		s = s[:40]
	}
	return fmt.Sprintf("t%d_%s", n, s)
}
