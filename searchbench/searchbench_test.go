package searchbench

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/orthocds/orthocds/embedstore"
	"github.com/orthocds/orthocds/postgres/pgtest"
)

// testURL is this package's own database, or "" when PostgreSQL is not
// configured (the pgvector methods are then left out of the run).
var testURL string

func TestMain(m *testing.M) {
	var err error
	if testURL, err = pgtest.NewDatabase("orthocds_test_searchbench"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func TestGenerateIsDeterministicAndClustered(t *testing.T) {
	a, b := Generate(500, 32, 10, 7), Generate(500, 32, 10, 7)
	if !slices.Equal(a.Vectors, b.Vectors) || !slices.Equal(a.Queries, b.Queries) {
		t.Fatal("the same seed gave different data")
	}
	// Clustered, not uniform noise: a query's nearest row is much closer
	// than a random row.
	a.ComputeTruth(1)
	var near, random float32
	for q := range a.NumQueries() {
		near += embedstore.Dot(a.Query(q), a.Row(a.Truth[q][0]))
		random += embedstore.Dot(a.Query(q), a.Row(q*37%a.N))
	}
	if near < 0.5*float32(a.NumQueries()) || near < 2*random {
		t.Errorf("mean best cosine %.2f, mean random cosine %.2f: not clustered", near/10, random/10)
	}
}

func TestRecall(t *testing.T) {
	d := &Dataset{Truth: [][]int{{1, 2, 3, 4}, {5, 6, 7, 8}}}
	if got := d.Recall(0, [][]int{{1, 2, 9, 9}, {5, 6, 7, 8}}); got != 0.75 {
		t.Errorf("recall %v, want 0.75", got)
	}
}

// A small run over the in-process methods (and PostgreSQL when the test
// database is configured): exact methods find the exact top k, every
// method is measured at its batch sizes, and the ratios are stated.
func TestRunSmall(t *testing.T) {
	cfg := Quick()
	cfg.Sizes, cfg.Dims, cfg.Queries, cfg.Batches, cfg.LoopQueries = []int{2000}, []int{64}, 40, []int{1, 16, 64}, 10
	cfg.TempDir = t.TempDir()
	cfg.DatabaseURL = testURL
	r, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, x := range r.Results {
		seen[x.Method] = true
		exact := strings.Contains(x.Method, "exact") || strings.Contains(x.Method, "langchaingo")
		if exact && x.Recall != 1 {
			t.Errorf("%s batch %d: recall %.3f, want 1 for exact search", x.Method, x.Batch, x.Recall)
		}
		if x.QPS <= 0 || x.P99 < x.P50 {
			t.Errorf("%s batch %d: qps %.1f, p50 %.2f, p99 %.2f", x.Method, x.Batch, x.QPS, x.P50, x.P99)
		}
	}
	want := []string{"embedded (ours, exact)", "chromem-go (exact, loop)"}
	if cfg.DatabaseURL != "" {
		want = append(want, "langchaingo pgvector (loop)", "pgvector (ours, HNSW ef_search 40)",
			"pgvector halfvec (ours, HNSW ef_search 40)")
		// halfvec is set against today's representation side by side: its
		// table and index are smaller (about half at 768 d; at 64 d the
		// other columns weigh more).
		found := false
		for _, x := range r.Ratios {
			if x.Name == "pgvector halfvec / pgvector table and index bytes" {
				found = true
				if x.Value < 0.3 || x.Value > 0.9 {
					t.Errorf("halfvec / vector bytes %.3f, want clearly below 1", x.Value)
				}
			}
		}
		if !found {
			t.Errorf("no halfvec memory ratio in %+v", r.Ratios)
		}
		// Binary quantization: more candidates re-scored exactly can only
		// find more of the true top k; at the largest count (a sixth of
		// the rows) it finds nearly all of it.
		var recalls []float64
		for _, c := range cfg.BinaryCandidates {
			name := fmt.Sprintf("pgvector binary quantization + re-scoring (%d candidates)", c)
			want = append(want, name)
			for _, x := range r.Results {
				if x.Method == name && x.Batch == 64 {
					recalls = append(recalls, x.Recall)
					break
				}
			}
		}
		t.Logf("binary quantization recall by candidates %v: %v", cfg.BinaryCandidates, recalls)
		if len(recalls) != len(cfg.BinaryCandidates) || !slices.IsSorted(recalls) || recalls[len(recalls)-1] < 0.9 {
			t.Errorf("binary quantization recall by candidates %v: %v, want rising to at least 0.9", cfg.BinaryCandidates, recalls)
		}
	}
	for _, m := range want {
		if !seen[m] {
			t.Errorf("no results for %s", m)
		}
	}
	// Filtered searches at each selectivity, against the exact top k of
	// the rows the filter keeps (an exact method finds all of it).
	for _, share := range Selectivities {
		for _, m := range []string{"embedded (ours, exact)", "pgvector (ours, HNSW"} {
			if m != "embedded (ours, exact)" && cfg.DatabaseURL == "" {
				continue
			}
			found := false
			for _, x := range r.Results {
				if x.Selectivity == share && strings.HasPrefix(x.Method, m) {
					found = true
					t.Logf("%s: recall %.3f", x.Method, x.Recall)
				}
			}
			if !found {
				t.Errorf("no filtered result for %s at %g", m, share)
			}
		}
	}
	if len(r.Ratios) == 0 {
		t.Error("no ratios stated")
	}
	var sb strings.Builder
	r.Print(&sb)
	if !strings.Contains(sb.String(), "recall@10") {
		t.Errorf("printed report lacks the recall column:\n%s", sb.String())
	}
	sb.Reset()
	r.Markdown(&sb)
	if n := strings.Count(sb.String(), "\n| 2000 x 64 |"); n < len(r.Results) {
		t.Errorf("Markdown report has %d corpus rows for %d results:\n%s", n, len(r.Results), sb.String())
	}
}
