package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orthocds/orthocds/embedstore"
	"github.com/orthocds/orthocds/postgres/pgtest"
	"github.com/orthocds/orthocds/rag"
)

// pgProxy forwards TCP to PostgreSQL and can cut every connection and
// refuse new ones, as a database restart does, without disturbing the
// shared server other test packages use.
type pgProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func newPGProxy(t *testing.T, target string) *pgProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			down := p.down
			p.mu.Unlock()
			if down {
				c.Close()
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *pgProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *pgProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// PostgreSQL going away while the server runs: readiness turns 503,
// requests that write (each prediction writes an audit row) get 503, not
// 500 and not an unrecorded answer; when the database is back the server
// recovers without a restart, and the audit trail holds exactly one row
// for each request that succeeded.
func TestPostgresRestart(t *testing.T) {
	if testDBURL == "" {
		t.Skip(pgtest.SkipMessage)
	}
	u, _ := url.Parse(testDBURL)
	proxy := newPGProxy(t, u.Host)
	viaProxy := *u
	viaProxy.Host = proxy.ln.Addr().String()
	pool, err := pgxpool.New(context.Background(), testDBURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	pool.Exec(context.Background(), "DROP TABLE IF EXISTS audit_log")
	env := map[string]string{"DATABASE_URL": viaProxy.String(), "ORTHOCDS_DATA": t.TempDir(), "ORTHOCDS_ADDR": "127.0.0.1:0",
		"ORTHOCDS_LLM_PROVIDER": "none"}
	base, stop := startServe(t, env)
	defer stop()
	status := func(method, path, body string) int {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	predict := func() int {
		return status("POST", "/v1/predictors/vte-arthroplasty/predict", `{"rows": [{"age_years": 70, "sex": "female", "bmi_kg_m2": 31,
			"joint": "knee", "bilateral": false, "surgery_hours": 2, "hypertension": true, "prior_vte": false}]}`)
	}
	waitReady := func(want int) {
		deadline := time.Now().Add(45 * time.Second)
		for status("GET", "/readyz", "") != want {
			if time.Now().After(deadline) {
				t.Fatalf("/readyz never answered %d", want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitReady(200)
	ok := 0
	for range 3 {
		if predict() == 200 {
			ok++
		}
	}
	proxy.cut()
	waitReady(503)
	for range 3 {
		if code := predict(); code != 503 {
			t.Errorf("a prediction while the database is down: %d, want 503", code)
		}
	}
	proxy.restore()
	waitReady(200)
	for range 3 {
		switch code := predict(); code {
		case 200:
			ok++
		default:
			t.Errorf("a prediction after the database came back: %d", code)
		}
	}
	var rows int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_log").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != ok {
		t.Errorf("%d audit rows for %d successful predictions: writes lost or doubled", rows, ok)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"audit", "verify"}, mapEnv(map[string]string{"DATABASE_URL": testDBURL}), nil, &out, io.Discard); err != nil {
		t.Errorf("audit verify after the restart: %v", err)
	}
}

// An ingest killed with SIGKILL at any point leaves the index with the
// whole document or none of it: never some of its chunks.
func TestIngestKilledMidFile(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "long-protocol.md")
	var b strings.Builder
	b.WriteString("# Long SYNTHETIC protocol\n\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "## Section %d\n\nVTE prophylaxis after arthroplasty: paragraph %d of a long synthetic test document about low-molecular-weight heparin and compression.\n\n", i, i)
	}
	os.WriteFile(doc, []byte(b.String()), 0o644)
	// The complete ingest, for the chunk count.
	full := t.TempDir()
	if err := run(context.Background(), []string{"ingest", doc}, mapEnv(map[string]string{"ORTHOCDS_DATA": full}), nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	want := documentChunks(t, full)
	if want < 100 {
		t.Fatalf("the test document has only %d chunks", want)
	}
	killedDuring := 0
	for _, delay := range []time.Duration{300 * time.Millisecond, 800 * time.Millisecond, 1500 * time.Millisecond, 2500 * time.Millisecond, 4 * time.Second} {
		data := t.TempDir()
		cmd := exec.Command(os.Args[0], "ingest", doc)
		cmd.Env = append(os.Environ(), "ORTHOCDS_TEST_RUN_MAIN=1", "ORTHOCDS_DATA="+data, "DATABASE_URL=")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		cmd.Process.Kill()
		if err := cmd.Wait(); err != nil {
			killedDuring++
		}
		if _, err := os.Stat(filepath.Join(data, "store")); err != nil {
			continue // killed before the store was created
		}
		if got := documentChunks(t, data); got != 0 && got != want {
			t.Errorf("killed after %s: %d of the document's %d chunks in the index", delay, got, want)
		}
	}
	if killedDuring == 0 {
		t.Error("every ingest finished before it was killed; the test proves nothing")
	}
}

// documentChunks counts the chunks beyond the guidelines' in an embedded
// data directory, opening it as the server would; guidelines are one
// transaction of their own, so a store holds all of them or none.
func documentChunks(t *testing.T, data string) int {
	st, err := embedstore.Open(filepath.Join(data, "store"))
	if err != nil {
		t.Fatalf("the index does not open after the kill: %v", err)
	}
	defer st.Close()
	stats, err := st.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if stats.ByKind[rag.KindDocument] == 0 {
		return 0
	}
	return stats.Chunks - guidelineChunks(t)
}

var (
	guidelineOnce sync.Once
	guidelineN    int
)

// guidelineChunks is the number of chunks the shipped guidelines make.
func guidelineChunks(t *testing.T) int {
	guidelineOnce.Do(func() {
		data := t.TempDir()
		if err := run(context.Background(), []string{"search", "OSTA"}, mapEnv(map[string]string{"ORTHOCDS_DATA": data}), nil, io.Discard, io.Discard); err != nil {
			t.Fatal(err)
		}
		st, err := embedstore.Open(filepath.Join(data, "store"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		stats, _ := st.Stats(context.Background())
		guidelineN = stats.Chunks
	})
	return guidelineN
}
