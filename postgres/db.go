// Package postgres is the PostgreSQL + pgvector rag.Store: embedded
// migrations, an HNSW cosine index, binary COPY for bulk loading, a
// tsvector index over analysed terms, and batched hybrid search that answers
// a whole batch of queries in one statement, one round trip.
package postgres

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
	pgxvec "github.com/pgvector/pgvector-go/pgx"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/rag"
)

// memSetting is the form of a memory size the bulk load passes to SET.
var memSetting = regexp.MustCompile(`^[0-9]+(kB|MB|GB)$`)

//go:embed migrations/*.sql
var migrations embed.FS

// Config configures a DB.
type Config struct {
	URL string
	// Schema, when set, is created if missing and put first on the search
	// path; tests use it to give each store its own tables.
	Schema string
	// EfSearch is hnsw.ef_search for every connection; 0 means 100.
	EfSearch int
	// Tracer, when set, observes every statement (metrics, tests).
	Tracer pgx.QueryTracer
	// MaintenanceWorkMem is maintenance_work_mem while a bulk load builds
	// the HNSW index; the build is fast only when the graph fits. Empty
	// means 1GB.
	MaintenanceWorkMem string
	// ReplicaURLs are streaming read replicas of URL that take the search
	// batches (DATABASE_REPLICA_URLS); MaxReplicaLag bounds how far behind
	// one may replay and still take them (0: DefaultMaxReplicaLag).
	ReplicaURLs   []string
	MaxReplicaLag time.Duration
	// ExactBelow overrides the number of chunks below which a filtered
	// query is searched exactly rather than through HNSW (0: ExactBelow;
	// negative: never, as before migration 005; the benchmark's baseline).
	ExactBelow int
	// AlwaysIterative turns pgvector's iterative index scans on for every
	// search, as before the store chose per batch (the benchmark's
	// baseline; see iterativeNeeded).
	AlwaysIterative bool
	// Index chooses how a new store keeps embeddings (DATABASE_VECTOR_TYPE,
	// DATABASE_HNSW_M, DATABASE_HNSW_EF_CONSTRUCTION). It takes effect when
	// a model is first bound (Init on an empty store, or after Reset); a
	// store bound earlier keeps the representation it was built with.
	Index IndexOptions
}

// Vector types the store can keep embeddings in.
const (
	VectorFloat32 = "vector"  // 4 bytes a dimension; the default
	VectorFloat16 = "halfvec" // 2 bytes a dimension: half the table and index
)

// IndexOptions are the embedding representation and HNSW build parameters.
type IndexOptions struct {
	VectorType     string // VectorFloat32 (empty) or VectorFloat16
	M              int    // HNSW m; 0: pgvector's default, 16
	EfConstruction int    // HNSW ef_construction; 0: pgvector's default, 64
}

// validate checks options from configuration, naming the field at fault.
func (o IndexOptions) validate() error {
	switch o.VectorType {
	case "", VectorFloat32, VectorFloat16:
	default:
		return orthocds.Invalid("DATABASE_VECTOR_TYPE", "must be %s or %s", VectorFloat32, VectorFloat16)
	}
	if o.M != 0 && (o.M < 2 || o.M > 100) {
		return orthocds.Invalid("DATABASE_HNSW_M", "must be between 2 and 100")
	}
	if o.EfConstruction != 0 && (o.EfConstruction < 4 || o.EfConstruction > 1000) {
		return orthocds.Invalid("DATABASE_HNSW_EF_CONSTRUCTION", "must be between 4 and 1000")
	}
	if o.M != 0 && o.EfConstruction != 0 && o.EfConstruction < 2*o.M {
		return orthocds.Invalid("DATABASE_HNSW_EF_CONSTRUCTION", "must be at least twice DATABASE_HNSW_M")
	}
	return nil
}

func (o IndexOptions) vectorType() string {
	if o.VectorType == "" {
		return VectorFloat32
	}
	return o.VectorType
}

// DB is the PostgreSQL store.
type DB struct {
	pool            *pgxpool.Pool
	model           rag.ModelInfo
	exactBelow      int
	efSearch        int          // hnsw.ef_search of every connection
	alwaysIterative bool         // Config.AlwaysIterative
	want            IndexOptions // from Config, for a store not yet bound
	index           IndexOptions // the bound store's, read by Init
	maintenanceMem  string
	replicas        *replicaSet // nil: the primary answers searches
	primarySearches atomic.Int64
	lastWrite       atomic.Uint64 // WAL position of this process's last index write
}

var _ rag.Store = (*DB)(nil)

// Open migrates the database and opens a connection pool.
func Open(ctx context.Context, cfg Config) (_ *DB, err error) {
	defer wrap(&err, "postgres.Open")
	if err := cfg.Index.validate(); err != nil {
		return nil, err
	}
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, orthocds.Invalid("DATABASE_URL", "cannot parse the database URL")
	}
	if cfg.Schema != "" {
		pc.ConnConfig.RuntimeParams["search_path"] = cfg.Schema + ",public"
	}
	// Searches are short; JIT compiling a batch statement whose estimated
	// cost passes jit_above_cost takes longer than running it.
	pc.ConnConfig.RuntimeParams["jit"] = "off"
	if err := migrateDB(ctx, pc.ConnConfig.Copy(), cfg.Schema); err != nil {
		return nil, err
	}
	ef := cfg.EfSearch
	if ef == 0 {
		ef = 100
	}
	pc.ConnConfig.Tracer = cfg.Tracer
	pc.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		if err := pgxvec.RegisterTypes(ctx, c); err != nil {
			return err
		}
		// Iterative scans are off by default; a batch that needs them
		// turns them on for its own transaction (DB.iterativeNeeded).
		_, err := c.Exec(ctx, fmt.Sprintf("SET hnsw.ef_search = %d; SET hnsw.iterative_scan = off", ef))
		return err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, err
	}
	mem := cfg.MaintenanceWorkMem
	if mem == "" {
		mem = "1GB"
	}
	if !memSetting.MatchString(mem) {
		pool.Close()
		return nil, orthocds.Invalid("maintenance_work_mem", "must be a number with kB, MB or GB")
	}
	db := &DB{pool: pool, maintenanceMem: mem, want: cfg.Index, exactBelow: cmp.Or(cfg.ExactBelow, ExactBelow),
		efSearch: ef, alwaysIterative: cfg.AlwaysIterative}
	if len(cfg.ReplicaURLs) > 0 {
		var configs []*pgxpool.Config
		for i, u := range cfg.ReplicaURLs {
			rc, err := pgxpool.ParseConfig(u)
			if err != nil {
				pool.Close()
				return nil, orthocds.Invalid(fmt.Sprintf("DATABASE_REPLICA_URLS/%d", i), "cannot parse the replica URL")
			}
			// Everything but where to connect is the primary's.
			rc.ConnConfig.RuntimeParams = maps.Clone(pc.ConnConfig.RuntimeParams)
			rc.ConnConfig.Tracer, rc.AfterConnect = pc.ConnConfig.Tracer, pc.AfterConnect
			configs = append(configs, rc)
		}
		if db.replicas, err = openReplicas(ctx, pool, configs, cfg.MaxReplicaLag); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return db, nil
}

func migrateDB(ctx context.Context, cc *pgx.ConnConfig, schema string) error {
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return orthocds.Unavailable(err, "cannot connect to PostgreSQL")
	}
	defer conn.Close(ctx)
	if schema != "" {
		if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
			return err
		}
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	if err := RunMigrations(ctx, conn, "schema_version", sub); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "0A000" || errors.As(err, &pe) && pe.Code == "58P01" {
			return orthocds.Unavailable(err, "the pgvector extension is not installed in PostgreSQL (see scripts/install-pgvector.sh)")
		}
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// RunMigrations applies the numbered SQL files of fsys (tern's layout) on
// conn, keeping the version in versionTable; other packages with tables
// of their own (evaluation runs) use it with their own files and table.
func RunMigrations(ctx context.Context, conn *pgx.Conn, versionTable string, fsys fs.FS) error {
	m, err := migrate.NewMigrator(ctx, conn, versionTable)
	if err != nil {
		return err
	}
	if err := m.LoadMigrations(fsys); err != nil {
		return err
	}
	return m.Migrate(ctx)
}

// MigrateLocked applies fsys's migrations (RunMigrations) on a connection
// of pool while holding the session advisory lock named lock, so that
// processes starting together take turns; then, still under the lock, it
// runs more (nil: nothing), such as a library's own migrations.
func MigrateLocked(ctx context.Context, pool *pgxpool.Pool, lock, versionTable string, fsys fs.FS, more func(ctx context.Context) error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return orthocds.Unavailable(err, "cannot connect to PostgreSQL")
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtext($1))", lock); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtext($1))", lock)
	if err := RunMigrations(ctx, conn.Conn(), versionTable, fsys); err != nil {
		return err
	}
	if more != nil {
		return more(ctx)
	}
	return nil
}

// Close closes the pool.
func (db *DB) Close() error {
	if db.replicas != nil {
		db.replicas.close()
	}
	db.pool.Close()
	return nil
}

// Ping checks the connection.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return orthocds.Unavailable(err, "PostgreSQL is not reachable")
	}
	return nil
}

// Transact runs fn in a transaction, committing when fn returns nil.
func (db *DB) Transact(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, fn)
}

// wrap names the operation on an error, keeping *orthocds.Error kinds
// reachable through errors.As.
func wrap(errp *error, op string) {
	if *errp == nil {
		return
	}
	var oe *orthocds.Error
	if errors.As(*errp, &oe) {
		return
	}
	if Unreachable(*errp) {
		*errp = orthocds.Unavailable(*errp, "PostgreSQL is not reachable; retry shortly")
		return
	}
	*errp = fmt.Errorf("%s: %w", op, *errp)
}

// Unreachable reports whether err means the database could not be
// reached (down, restarting, connection cut), as opposed to a bad query:
// the caller should get 503 and retry, not 500.
func Unreachable(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), pgconn.SafeToRetry(err):
		return true
	case errors.As(err, &pe):
		// Class 57 (operator intervention: admin shutdown, crash
		// shutdown, cannot connect now) and class 08 (connection
		// exception).
		return strings.HasPrefix(pe.Code, "57") || strings.HasPrefix(pe.Code, "08")
	}
	return strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "connection reset")
}
