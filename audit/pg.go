package audit

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/postgres"
)

// PGLog keeps the chain in the table audit_log. Each append runs in a
// transaction holding an advisory lock, so concurrent appends (several
// server processes on one database) still form one chain.
type PGLog struct {
	Pool *pgxpool.Pool
}

// Schema creates the table; Migrate runs it.
const schema = `CREATE TABLE IF NOT EXISTS audit_log (
    seq  bigint PRIMARY KEY,
    body text NOT NULL,
    prev text NOT NULL,
    hash text NOT NULL
)`

// Migrate creates the audit table if missing.
func (l *PGLog) Migrate(ctx context.Context) error {
	_, err := l.Pool.Exec(ctx, schema)
	return err
}

// Append implements Log.
func (l *PGLog) Append(ctx context.Context, e Event) error {
	body, err := encode(e)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, l.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('orthocds.audit'))"); err != nil {
			return err
		}
		var seq int64
		prev := genesis
		err := tx.QueryRow(ctx, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").Scan(&seq, &prev)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO audit_log (seq, body, prev, hash) VALUES ($1, $2, $3, $4)",
			seq+1, body, prev, chain(prev, body))
		return err
	})
	if err != nil && postgres.Unreachable(err) {
		// Nothing was committed: the answer is refused rather than given
		// unrecorded, and the caller retries.
		return orthocds.Unavailable(err, "the audit trail's database is not reachable; retry shortly")
	}
	return err
}

// Verify implements Log.
func (l *PGLog) Verify(ctx context.Context) (int, error) {
	rows, err := l.Pool.Query(ctx, "SELECT seq, body, prev, hash FROM audit_log ORDER BY seq")
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	return verifyRows(func() (Row, bool, error) {
		if !rows.Next() {
			return Row{}, false, rows.Err()
		}
		var r Row
		err := rows.Scan(&r.Seq, &r.Body, &r.Prev, &r.Hash)
		return r, err == nil, err
	})
}
