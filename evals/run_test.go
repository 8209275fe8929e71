package evals

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/answer"
)

func TestRetrievalMetrics(t *testing.T) {
	l2 := func(i int) float64 { return 1 / math.Log2(float64(i)+1) }
	tests := []struct {
		name string
		recs []Record
		want map[string]float64
	}{
		{"first result gold, one gold", []Record{{Hits: []int{1}, NGold: 1}},
			map[string]float64{"hit@1": 1, "recall@5": 1, "recall@10": 1, "mrr": 1, "ndcg@10": 1}},
		{"gold at 3 of two golds", []Record{{Hits: []int{3}, NGold: 2}},
			map[string]float64{"hit@1": 0, "recall@5": 0.5, "recall@10": 0.5, "mrr": 1.0 / 3, "ndcg@10": l2(3) / (l2(1) + l2(2))}},
		{"gold at 7, and a miss", []Record{{Hits: []int{7}, NGold: 1}, {NGold: 1}},
			map[string]float64{"hit@1": 0, "recall@5": 0, "recall@10": 0.5, "mrr": 1.0 / 14, "ndcg@10": l2(7) / 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, RetrievalMetrics(tt.recs), cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSuite(t *testing.T) {
	tests := []struct{ yaml, field string }{
		{"tasks: [{id: a, type: retrieval, data: x.jsonl}]", "name"},
		{"name: s", "tasks"},
		{"name: s\ntasks: [{id: a, type: essay, data: x.jsonl}]", "tasks[0].type"},
		{"name: s\ntasks: [{id: a, type: exam, data: x.jsonl}]", "tasks[0].layout"},
		{"name: s\ntasks: [{id: a, type: retrieval, data: x.jsonl}, {id: a, type: abstention, data: y.jsonl}]", "tasks[1].id"},
		{"name: s\ntasks: [{id: a, type: retrieval}]", "tasks[0].data"},
		{"name: s\ntasks: [{id: a, type: retrieval, data: x.jsonl, k: 500}]", "tasks[0]"},
	}
	for _, tt := range tests {
		_, err := ParseSuite([]byte(tt.yaml))
		var oe *orthocds.Error
		if !errors.As(err, &oe) || oe.Field != tt.field {
			t.Errorf("%q: error %v, want one naming field %q", tt.yaml, err, tt.field)
		}
	}
	if _, err := ParseSuite([]byte("name: s\nunknown: 1\ntasks: [{id: a, type: retrieval, data: x}]")); orthocds.ErrorCode(err) != orthocds.EMALFORMED {
		t.Errorf("unknown key: %v, want a malformed-suite error", err)
	}
}

// errInterrupted is how a test stops a run halfway.
var errInterrupted = errors.New("interrupted")

func env(t *testing.T) Env {
	f := corpus(t)
	return Env{Search: f.Retriever, Answer: answer.New(f.Retriever, f.Analyzer, nil, nil, answer.DefaultConfig),
		TopicOf: func(id string) string {
			e, _ := f.Corpus.Get(id)
			return e.Domain
		},
		Model: f.Embedder.Model(), CorpusVersion: f.Corpus.Version()}
}

// A run interrupted halfway, with a torn last line as a crash leaves it,
// finishes when run again, repeats no item, and reports exactly what an
// uninterrupted run reports.
func TestRunResumes(t *testing.T) {
	e := env(t)
	suite := Starter()
	ctx := context.Background()

	whole, err := (&Runner{Env: e}).Run(ctx, suite, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	cut := &Runner{Env: e, afterRecord: func(n int) error {
		if n == 150 {
			return errInterrupted
		}
		return nil
	}}
	if _, err := cut.Run(ctx, suite, dir); !errors.Is(err, errInterrupted) {
		t.Fatalf("interrupted run: %v", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, recordFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"task":"retrieval","item":"r9`) // torn
	f.Close()
	resumed, err := (&Runner{Env: e}).Run(ctx, suite, dir)
	if err != nil {
		t.Fatal(err)
	}
	noLatency := cmpopts.IgnoreFields(TaskReport{}, "Latency", "Histogram")
	if diff := cmp.Diff(whole, resumed, noLatency); diff != "" {
		t.Errorf("resumed report differs from an uninterrupted one (-whole +resumed):\n%s", diff)
	}
	// Every item once.
	rf, err := os.Open(filepath.Join(dir, recordFile))
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	seen := map[string]int{}
	sc := bufio.NewScanner(rf)
	sc.Scan() // meta
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad record line %q", sc.Text())
		}
		seen[key(r.Task, r.Model, r.Item)]++
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("item %q recorded %d times", strings.ReplaceAll(k, "\x00", "/"), n)
		}
	}
	total := 0
	for _, tr := range whole.Tasks {
		total += tr.N
	}
	if len(seen) != total {
		t.Errorf("%d items recorded, report counts %d", len(seen), total)
	}
	// The starter figures hold the bounds the retrieval and abstention
	// tests set, and the HTML report names every task.
	r := whole.Tasks[0].Metrics
	if r["recall@10"] < 0.85 || whole.Tasks[1].Metrics["correct_abstention"] < 0.9 {
		t.Errorf("starter metrics %v, abstention %v", r, whole.Tasks[1].Metrics)
	}
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="task-retrieval"`, `id="task-abstention"`, "lang:zh", "topic:vte", `class="bar"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	// A directory holding another suite's run is refused.
	other := suite
	other.Name = "other"
	if _, err := (&Runner{Env: e}).Run(ctx, other, dir); orthocds.ErrorCode(err) != orthocds.ECONFLICT {
		t.Errorf("run of another suite into the same directory: %v, want a conflict", err)
	}
}
