package audit_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orthocds/orthocds/audit"
	"github.com/orthocds/orthocds/postgres/pgtest"
)

var testDBURL string

func TestMain(m *testing.M) {
	var err error
	if testDBURL, err = pgtest.NewDatabase("orthocds_test_audit"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func event(i int) audit.Event {
	return audit.Event{Principal: fmt.Sprintf("key-%d", i%3), Role: "clinician", Kind: audit.KindAnswer,
		InputHash: audit.HashInput([]byte(fmt.Sprint(i))), Entries: []string{"csobmr-2022-osta"}, CorpusVersion: "302 entries, x"}
}

// Concurrent appends form one unbroken chain.
func appendMany(t *testing.T, l audit.Log, n int) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Append(context.Background(), event(i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, err := l.Verify(context.Background())
	if err != nil || got != n {
		t.Fatalf("verify after %d appends: %d rows, %v", n, got, err)
	}
}

func broken(t *testing.T, err error, seq int64) {
	t.Helper()
	var be *audit.BrokenError
	if !errors.As(err, &be) || be.Seq != seq {
		t.Errorf("verify: %v, want the chain broken at row %d", err, seq)
	}
}

// A row changed directly in the database, a row deleted, and a row
// changed with its hash recomputed are all found.
func TestPGLogDetectsTampering(t *testing.T) {
	if testDBURL == "" {
		t.Skip(pgtest.SkipMessage)
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testDBURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	l := &audit.PGLog{Pool: pool}
	if err := l.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	pool.Exec(ctx, "TRUNCATE audit_log")
	appendMany(t, l, 40)

	// Someone changes the role of who asked.
	tag, err := pool.Exec(ctx, `UPDATE audit_log SET body = replace(body, '"role":"clinician"', '"role":"admin"') WHERE seq = 17`)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatal(err)
	}
	_, err = l.Verify(ctx)
	broken(t, err, 17)
	// ...and recomputes that row's hash: the next row's link breaks.
	var prev, body string
	pool.QueryRow(ctx, "SELECT prev, body FROM audit_log WHERE seq = 17").Scan(&prev, &body)
	pool.Exec(ctx, "UPDATE audit_log SET hash = encode(sha256(convert_to($1 || E'\\n' || $2, 'UTF8')), 'hex') WHERE seq = 17", prev, body)
	_, err = l.Verify(ctx)
	broken(t, err, 18)
	// A deleted row.
	pool.Exec(ctx, "TRUNCATE audit_log")
	appendMany(t, l, 10)
	pool.Exec(ctx, "DELETE FROM audit_log WHERE seq = 4")
	_, err = l.Verify(ctx)
	broken(t, err, 5)
}

func TestFileLogDetectsTampering(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := audit.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	appendMany(t, l, 25)
	l.Close()
	// Reopened, the chain continues.
	l, err = audit.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append(context.Background(), event(99)); err != nil {
		t.Fatal(err)
	}
	if n, err := l.Verify(context.Background()); err != nil || n != 26 {
		t.Fatalf("after reopening: %d rows, %v", n, err)
	}
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	lines[9] = strings.Replace(lines[9], `\"clinician\"`, `\"admin\"`, 1)
	os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	_, err = l.Verify(context.Background())
	broken(t, err, 10)
}
