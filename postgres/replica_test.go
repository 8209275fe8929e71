package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orthocds/orthocds/rag"
	"github.com/orthocds/orthocds/rag/storetest"
)

// The replica tests need a streaming replica of the test server:
// scripts/start-replica.sh starts one (CI does) and prints its URL, which
// goes in ORTHOCDS_TEST_REPLICA_URL; ORTHOCDS_TEST_REPLICA_DIR is its data
// directory, so the fault test can stop and start it.
const (
	envReplicaURL     = "ORTHOCDS_TEST_REPLICA_URL"
	envReplicaDir     = "ORTHOCDS_TEST_REPLICA_DIR"
	envRequireReplica = "ORTHOCDS_REQUIRE_REPLICA"
)

// replicaURL is the replica's URL for the test database, or skips.
func replicaURL(t *testing.T) string {
	t.Helper()
	needDB(t)
	base := os.Getenv(envReplicaURL)
	if base == "" {
		if os.Getenv(envRequireReplica) == "1" {
			t.Fatalf("%s is not set; run scripts/start-replica.sh", envReplicaURL)
		}
		t.Skipf("no replica: set %s (scripts/start-replica.sh starts one)", envReplicaURL)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	tu, _ := url.Parse(testURL)
	u.Path = tu.Path // the test database, as replicated
	return u.String()
}

// The conformance suite against a primary with a replica: every search
// may go to the replica, and the store still reads its own writes.
func TestReplicaConformance(t *testing.T) {
	rep := replicaURL(t)
	schemas := map[rag.Store]string{}
	var used atomic.Int64
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T) rag.Store {
			db := openDB(t, Config{ReplicaURLs: []string{rep}})
			schemas[db] = db.pool.Config().ConnConfig.RuntimeParams["search_path"]
			t.Cleanup(func() { _, rs := db.ReplicaStats(); used.Add(rs[0].Served) })
			return db
		},
		Reopen: func(t *testing.T, old rag.Store) rag.Store {
			old.Close()
			sp := schemas[old]
			db := openDB(t, Config{Schema: sp[:len(sp)-len(",public")], ReplicaURLs: []string{rep}})
			schemas[db] = sp
			return db
		},
	})
	t.Logf("searches answered by the replica: %d", used.Load())
}

// pgctl runs pg_ctl on the replica's data directory as the postgres user.
func pgctl(t *testing.T, args ...string) {
	t.Helper()
	dir := os.Getenv(envReplicaDir)
	if dir == "" {
		t.Skipf("%s is not set: the fault test cannot stop the replica", envReplicaDir)
	}
	bin, err := exec.Command("sh", "-c", "ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1").Output()
	if err != nil {
		t.Fatal(err)
	}
	cmd := fmt.Sprintf("%s/pg_ctl -D '%s' -l '%s/log' -w %s", strings.TrimSpace(string(bin)), dir, dir, strings.Join(args, " "))
	c := exec.Command("su", "postgres", "-s", "/bin/sh", "-c", cmd)
	if os.Geteuid() != 0 {
		c = exec.Command("sh", "-c", cmd)
	}
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl %v: %v\n%s", args, err, out)
	}
}

// Searches under load while the replica is stopped mid-way: none fails
// (the primary takes them), and the replica is used again once it is
// back. ORTHOCDS_REPLICA_LOAD_SECONDS sets the load's length (default 30).
func TestReplicaFault(t *testing.T) {
	rep := replicaURL(t)
	if os.Getenv(envReplicaDir) == "" {
		t.Skipf("%s is not set: the fault test cannot stop the replica", envReplicaDir)
	}
	db := openDB(t, Config{ReplicaURLs: []string{rep}, MaxReplicaLag: 2 * time.Second})
	ctx := context.Background()
	if err := db.Init(ctx, storetest.Model); err != nil {
		t.Fatal(err)
	}
	var docs []rag.Document
	for i := range 200 {
		v := []float32{rand.Float32(), rand.Float32(), rand.Float32(), rand.Float32()}
		id := fmt.Sprintf("d%03d", i)
		docs = append(docs, rag.Document{ID: id, Kind: rag.KindGuideline, Hash: id, Chunks: []rag.Chunk{{ID: id, DocID: id,
			Kind: rag.KindGuideline, Title: id, Text: "chunk " + id, Terms: []string{"chunk", id}, Vector: v}}})
	}
	if err := db.PutDocuments(ctx, docs); err != nil {
		t.Fatal(err)
	}
	// Wait for the replica to replay the load and be picked.
	waitFor(t, 20*time.Second, "the replica to take searches", func() bool {
		search(t, db)
		_, rs := db.ReplicaStats()
		return rs[0].Served > 0
	})

	seconds := 30
	fmt.Sscan(os.Getenv("ORTHOCDS_REPLICA_LOAD_SECONDS"), &seconds)
	load := time.Duration(seconds) * time.Second
	var failed, done atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := db.Search(ctx, batch()); err != nil {
					failed.Add(1)
					t.Logf("search failed: %v", err)
				}
				done.Add(1)
			}
		}()
	}
	time.Sleep(load / 3)
	_, before := db.ReplicaStats()
	pgctl(t, "stop", "-m", "fast")
	restarted := false
	t.Cleanup(func() { // leave the replica running for other tests, whatever happens here
		if !restarted {
			pgctl(t, "start")
		}
	})
	stopped := time.Now()
	time.Sleep(load / 3)
	primaryWhileDown, during := db.ReplicaStats()
	pgctl(t, "start")
	restarted = true
	time.Sleep(load / 3)
	close(stop)
	wg.Wait()
	primary, after := db.ReplicaStats()
	t.Logf("%d searches in %v, %d failed; replica before/while down/after: %d/%d/%d (failed over %d times); primary %d (%d by the time it was back); down for %v",
		done.Load(), load, failed.Load(), before[0].Served, during[0].Served, after[0].Served, after[0].Failed, primary, primaryWhileDown, time.Since(stopped).Round(time.Second))
	if failed.Load() != 0 {
		t.Errorf("%d searches failed while the replica stopped", failed.Load())
	}
	if before[0].Served == 0 {
		t.Error("the replica took no searches before it stopped")
	}
	if after[0].Served <= during[0].Served {
		t.Errorf("the replica took no searches after it came back (%d before, %d after)", during[0].Served, after[0].Served)
	}
}

func batch() []rag.StoreQuery {
	qs := make([]rag.StoreQuery, 16)
	for i := range qs {
		qs[i] = rag.StoreQuery{Vector: []float32{rand.Float32(), rand.Float32(), rand.Float32(), rand.Float32()},
			Terms: []string{"chunk"}, K: 5}
	}
	return qs
}

func search(t *testing.T, db *DB) {
	t.Helper()
	if _, err := db.Search(context.Background(), batch()); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Once it has replayed the writes, the replica answers a batch exactly as
// the primary does (the conformance suite above reads its own writes, so
// its searches go to the primary).
func TestReplicaAnswersAsPrimary(t *testing.T) {
	rep := replicaURL(t)
	db := openDB(t, Config{ReplicaURLs: []string{rep}})
	sp := db.pool.Config().ConnConfig.RuntimeParams["search_path"]
	ctx := context.Background()
	if err := db.Init(ctx, storetest.Model); err != nil {
		t.Fatal(err)
	}
	var docs []rag.Document
	for i := range 100 {
		id := fmt.Sprintf("d%03d", i)
		docs = append(docs, rag.Document{ID: id, Kind: rag.KindGuideline, Hash: id, Chunks: []rag.Chunk{{ID: id, DocID: id,
			Kind: rag.KindGuideline, Title: id, Text: "chunk " + id, Terms: []string{"chunk", id, fmt.Sprint(i % 7)},
			Vector: []float32{float32(i%10) + 1, float32(i%3) + 1, float32(i%5) + 1, 1}}}})
	}
	if err := db.PutDocuments(ctx, docs); err != nil {
		t.Fatal(err)
	}
	primaryOnly := openDB(t, Config{Schema: sp[:len(sp)-len(",public")]})
	if err := primaryOnly.Init(ctx, storetest.Model); err != nil {
		t.Fatal(err)
	}
	qs := []rag.StoreQuery{{Vector: []float32{3, 1, 2, 1}, Terms: []string{"chunk", "3"}, K: 10},
		{Vector: []float32{1, 2, 5, 1}, Terms: []string{"d042"}, K: 5}}
	want, err := primaryOnly.Search(ctx, qs)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the replica to take searches", func() bool {
		_, before := db.ReplicaStats()
		got, err := db.Search(ctx, qs)
		if err != nil {
			t.Fatal(err)
		}
		_, after := db.ReplicaStats()
		if after[0].Served == before[0].Served {
			return false
		}
		for i := range got {
			if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
				t.Fatalf("query %d: the replica answered\n%v\nthe primary\n%v", i, got[i], want[i])
			}
		}
		return true
	})
}
