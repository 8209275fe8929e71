package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Read replicas: PostgreSQL streaming replicas take the search batches;
// writes, migrations and everything else stay on the primary. A replica
// is used while it answers and its replay lag is under the bound; one that
// fails a search is taken out at once (the search is retried on the next
// replica, then on the primary), and the health check puts it back when it
// answers again with little lag.

// DefaultMaxReplicaLag is how far behind the primary a replica may replay
// and still take searches.
const DefaultMaxReplicaLag = 5 * time.Second

// replica is one read replica's pool and health.
type replica struct {
	name    string // host:port, for logs and stats: never the URL's credentials
	pool    *pgxpool.Pool
	healthy atomic.Bool
	// replayed is the WAL position the replica had replayed at its last
	// check: it answers only once it has replayed this process's writes.
	replayed atomic.Uint64
	served   atomic.Int64
	failed   atomic.Int64
}

// replicaSet spreads searches over healthy replicas.
type replicaSet struct {
	primary *pgxpool.Pool // for its WAL position
	list    []*replica
	next    atomic.Uint64
	maxLag  time.Duration
	stop    context.CancelFunc
	done    sync.WaitGroup
}

// ReplicaStats is what a replica has done.
type ReplicaStats struct {
	Name    string `json:"name"`
	Healthy bool   `json:"healthy"`
	Served  int64  `json:"searches"`
	Failed  int64  `json:"failed"`
}

// ReplicaStats reports each replica's health and counts, and how many
// searches the primary answered.
func (db *DB) ReplicaStats() (primary int64, replicas []ReplicaStats) {
	if db.replicas != nil {
		for _, r := range db.replicas.list {
			replicas = append(replicas, ReplicaStats{Name: r.name, Healthy: r.healthy.Load(), Served: r.served.Load(), Failed: r.failed.Load()})
		}
	}
	return db.primarySearches.Load(), replicas
}

// openReplicas opens a pool per replica config and starts the health
// check.
func openReplicas(ctx context.Context, primary *pgxpool.Pool, configs []*pgxpool.Config, maxLag time.Duration) (*replicaSet, error) {
	if maxLag <= 0 {
		maxLag = DefaultMaxReplicaLag
	}
	rs := &replicaSet{primary: primary, maxLag: maxLag}
	for _, pc := range configs {
		pool, err := pgxpool.NewWithConfig(ctx, pc)
		if err != nil {
			rs.close()
			return nil, err
		}
		rs.list = append(rs.list, &replica{name: pc.ConnConfig.Host + ":" + strconv.Itoa(int(pc.ConnConfig.Port)), pool: pool})
	}
	hctx, cancel := context.WithCancel(context.Background())
	rs.stop = cancel
	rs.checkAll(hctx) // before the first search
	rs.done.Add(1)
	go func() {
		defer rs.done.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
				rs.checkAll(hctx)
			}
		}
	}()
	return rs, nil
}

// lagQuery is a replica's replay lag in seconds (the age of the last
// transaction it replayed; null when it is not in recovery) and the WAL
// position it has replayed.
const lagQuery = `SELECT CASE WHEN pg_is_in_recovery() THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END,
	coalesce(pg_last_wal_replay_lsn()::text, '0/0')`

// checkAll measures every replica: healthy when it answers within a
// second, is a replica, and has either replayed all the primary has
// written or replays less than the bound behind it. (An idle primary
// sends nothing, so the age of the last replayed transaction alone would
// call an up-to-date replica late.)
func (rs *replicaSet) checkAll(ctx context.Context) {
	var primaryLSN uint64
	if rs.primary != nil {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		var lsn string
		if rs.primary.QueryRow(cctx, "SELECT pg_current_wal_lsn()::text").Scan(&lsn) == nil {
			primaryLSN, _ = parseLSN(lsn)
		}
		cancel()
	}
	for _, r := range rs.list {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		var lag *float64
		var lsn string
		err := r.pool.QueryRow(cctx, lagQuery).Scan(&lag, &lsn)
		cancel()
		pos, ok := parseLSN(lsn)
		if err == nil && ok {
			r.replayed.Store(pos)
		}
		caughtUp := err == nil && ok && primaryLSN > 0 && pos >= primaryLSN
		recent := err == nil && lag != nil && time.Duration(*lag*float64(time.Second)) <= rs.maxLag
		r.healthy.Store(err == nil && lag != nil && (caughtUp || recent))
	}
}

// pick returns the healthy replicas that have replayed up to written,
// starting with the next in turn.
func (rs *replicaSet) pick(written uint64) []*replica {
	n := len(rs.list)
	start := int(rs.next.Add(1) % uint64(n))
	var out []*replica
	for i := range n {
		if r := rs.list[(start+i)%n]; r.healthy.Load() && r.replayed.Load() >= written {
			out = append(out, r)
		}
	}
	return out
}

func (rs *replicaSet) close() {
	if rs.stop != nil {
		rs.stop()
		rs.done.Wait()
	}
	for _, r := range rs.list {
		r.pool.Close()
	}
}

// onReplicas runs a read on a healthy replica, on the next one if it
// fails, and on the primary when none is left. A failure that is the
// caller's (context ended, bad input) is returned at once.
func (db *DB) onReplicas(ctx context.Context, read func(q querier) error) error {
	if db.replicas != nil {
		for _, r := range db.replicas.pick(db.lastWrite.Load()) {
			err := read(r.pool)
			if err == nil {
				r.served.Add(1)
				return nil
			}
			if ctx.Err() != nil || !replicaFault(err) {
				return err
			}
			r.failed.Add(1)
			r.healthy.Store(false) // the health check brings it back
		}
	}
	db.primarySearches.Add(1)
	return read(db.pool)
}

// querier is what a search reads through: the primary's or a replica's pool.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// replicaFault reports whether a replica's error should send the read
// elsewhere: unreachable, or a query cancelled by a conflict with
// recovery (40001 on a standby).
func replicaFault(err error) bool {
	var pe *pgconn.PgError
	return Unreachable(err) || errors.As(err, &pe) && pe.Code == "40001"
}

// markWrite records, after a successful write of the index, the primary's
// WAL position: searches go to the primary until a replica has replayed
// it, so that this process reads its own writes.
func (db *DB) markWrite(ctx context.Context, errp *error) {
	if db.replicas == nil || *errp != nil {
		return
	}
	var lsn string
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := db.pool.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&lsn); err != nil {
		db.lastWrite.Store(^uint64(0)) // unknown: no replica until the next write is measured
		return
	}
	if pos, ok := parseLSN(lsn); ok {
		for {
			old := db.lastWrite.Load()
			if pos <= old || db.lastWrite.CompareAndSwap(old, pos) {
				return
			}
		}
	}
}

// parseLSN reads a PostgreSQL WAL position ("16/B374D848").
func parseLSN(s string) (uint64, bool) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, false
	}
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return h<<32 | l, true
}
