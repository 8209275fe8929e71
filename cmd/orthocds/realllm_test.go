package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orthocds/orthocds/evals"
	"github.com/orthocds/orthocds/llm/ollamatest"
)

// TestEvalRunRealServer: `orthocds eval run` with exam and rubric tasks
// against two tiny random-weight models on a real ollama serve completes:
// every item is recorded (answered, or failed with its reason), the report
// gives per-model accuracy and failure counts, and the server never cut a
// prompt. A second run resumes and changes nothing.
func TestEvalRunRealServer(t *testing.T) {
	s := ollamatest.Start(t)
	s.ChatModel(t, "tiny-a", ollamatest.ChatModel{ContextLength: 32768, Seed: 11})
	s.ChatModel(t, "tiny-b", ollamatest.ChatModel{ContextLength: 8192, Seed: 12})
	suite := `name: real-server
seed: 5
attempts: 2
models:
  - name: tiny-a
  - name: tiny-b
judge:
  name: tiny-a
tasks:
  - {id: exam, type: exam, data: ../../evals/testdata/medqa-sample.jsonl, layout: medqa}
  - {id: rubric, type: rubric, data: ../../evals/testdata/rubric-sample.jsonl}
`
	path := filepath.Join(t.TempDir(), "suite.yaml")
	if err := os.WriteFile(path, []byte(suite), 0o644); err != nil {
		t.Fatal(err)
	}
	env := mapEnv(map[string]string{"ORTHOCDS_DATA": t.TempDir(), "ORTHOCDS_LLM_PROVIDER": "none", "OLLAMA_HOST": s.URL})
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"eval", "run", "--suite", path, "--out", dir}, env, nil, &out, io.Discard); err != nil {
		t.Fatalf("eval run: %v\n%s", err, out.String())
	}
	t.Logf("eval run:\n%s", out.String())
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep evals.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, tr := range rep.Tasks {
		seen[tr.ID+" "+tr.Model] = true
		if tr.Skipped != "" {
			t.Errorf("%s [%s] skipped: %s", tr.ID, tr.Model, tr.Skipped)
		}
		if tr.ID == "exam" {
			if _, ok := tr.Metrics["accuracy_without_retrieval"]; !ok {
				t.Errorf("exam [%s]: no accuracy: %v", tr.Model, tr.Metrics)
			}
			failed := 0
			for _, n := range tr.Failures {
				failed += n
			}
			if got := tr.Metrics["failure_rate"] * float64(tr.N); int(got+0.5) != failed {
				t.Errorf("exam [%s]: failure rate %v of %d items but %d failures counted", tr.Model, tr.Metrics["failure_rate"], tr.N, failed)
			}
		}
	}
	if !strings.Contains(out.String(), "failed:") {
		t.Errorf("the run's output names no failures; random weights fail some items:\n%s", out.String())
	}
	for _, want := range []string{"exam ollama:tiny-a", "exam ollama:tiny-b", "rubric ollama:tiny-a", "rubric ollama:tiny-b"} {
		if !seen[want] {
			t.Errorf("no report for %s: %v", want, seen)
		}
	}
	if tr := s.Truncations(); len(tr) > 0 {
		t.Errorf("the server cut prompts:\n%s", strings.Join(tr, "\n"))
	}
	var again bytes.Buffer
	if err := run(context.Background(), []string{"eval", "run", "--suite", path, "--out", dir}, env, nil, &again, io.Discard); err != nil {
		t.Fatal(err)
	}
	if again.String() != out.String() {
		t.Errorf("the finished run reported differently when run again:\n%s\n---\n%s", out.String(), again.String())
	}
}

// TestOllamaEmbedderRealServer: the Ollama embedder's dimension comes from
// the server, and an index of the shipped guidelines built with one model
// is rebuilt when another is configured.
func TestOllamaEmbedderRealServer(t *testing.T) {
	s := ollamatest.Start(t)
	s.EmbedModel(t, "embed-a", ollamatest.EmbedModel{Dim: 48, Seed: 31})
	s.EmbedModel(t, "embed-b", ollamatest.EmbedModel{Dim: 32, Seed: 32})
	data := t.TempDir()
	for i, m := range []string{"embed-a", "embed-b"} {
		env := mapEnv(map[string]string{"ORTHOCDS_DATA": data, "ORTHOCDS_LLM_PROVIDER": "none", "OLLAMA_HOST": s.URL,
			"ORTHOCDS_EMBEDDER": "ollama:" + m})
		var out, errOut bytes.Buffer
		if err := run(context.Background(), []string{"search", "--json", "denosumab"}, env, nil, &out, &errOut); err != nil {
			t.Fatalf("search with %s: %v\n%s", m, err, errOut.String())
		}
		if i == 1 && !strings.Contains(errOut.String(), "rebuilding it for ollama:embed-b") {
			t.Errorf("changing the embedding model did not rebuild the index:\n%s", errOut.String())
		}
	}
}
