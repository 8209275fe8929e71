package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orthocds/orthocds/cdshooks"
	"github.com/orthocds/orthocds/evals"
	"github.com/orthocds/orthocds/guidelines"
	"github.com/orthocds/orthocds/llm/ollamareplay"
	"github.com/orthocds/orthocds/postgres/pgtest"
	"github.com/orthocds/orthocds/predictors"
	"github.com/orthocds/orthocds/predictors/model"
	"github.com/orthocds/orthocds/predictors/synth"
)

var testDBURL string

func TestMain(m *testing.M) {
	// The kill test runs the command in a child process of this binary.
	if os.Getenv("ORTHOCDS_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	var err error
	testDBURL, err = pgtest.NewDatabase("orthocds_test_cmd")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// syncBuffer is a goroutine-safe buffer for a running command's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var servingRE = regexp.MustCompile(`serving on (http://\S+)`)

// startServe runs "orthocds serve" with env and returns its base URL and a
// stop function that shuts it down and returns run's error.
func startServe(t *testing.T, env map[string]string) (string, func() error) {
	t.Helper()
	addr, stop, _ := startServeArgs(t, env)
	return addr, stop
}

// startServeArgs is startServe with extra serve arguments; it also
// returns what the server logged.
func startServeArgs(t *testing.T, env map[string]string, args ...string) (string, func() error, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve"}, args...), func(k string) string { return env[k] }, nil, io.Discard, stderr)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m := servingRE.FindStringSubmatch(stderr.String()); m != nil {
			return m[1], func() error { cancel(); return <-done }, stderr
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond) // polling the server's own log line for its address
	}
}

type searchResp struct {
	Results []struct {
		Hits []struct {
			DocID    string `json:"doc_id"`
			Citation struct {
				Body string `json:"body"`
			} `json:"citation"`
		} `json:"hits"`
	} `json:"results"`
}

// The README's first command: serve on embedded defaults (or on
// PostgreSQL), then a batch of three queries and a retrieval-only answer.
func TestServeEndToEnd(t *testing.T) {
	stores := map[string]map[string]string{
		"embedded": {"ORTHOCDS_DATA": t.TempDir(), "ORTHOCDS_ADDR": "127.0.0.1:0", "ORTHOCDS_LLM_PROVIDER": "none"},
	}
	if testDBURL != "" {
		stores["postgres"] = map[string]string{"DATABASE_URL": testDBURL, "ORTHOCDS_ADDR": "127.0.0.1:0",
			"OLLAMA_HOST": "127.0.0.1:1"} // nothing listens there: answers must be retrieval-only
	} else {
		t.Log(pgtest.SkipMessage)
	}
	for name, env := range stores {
		t.Run(name, func(t *testing.T) {
			base, stop := startServe(t, env)
			body := `{"queries": [{"text": "地舒单抗可以直接停药吗", "k": 3},
				{"text": "VTE prophylaxis after total knee arthroplasty", "k": 3},
				{"text": "cement leakage risk factors", "k": 3}]}`
			resp, err := http.Post(base+"/v1/search", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			var sr searchResp
			json.NewDecoder(resp.Body).Decode(&sr)
			resp.Body.Close()
			if len(sr.Results) != 3 {
				t.Fatalf("%d result lists, want 3", len(sr.Results))
			}
			for i, r := range sr.Results {
				if len(r.Hits) != 3 || r.Hits[0].Citation.Body == "" {
					t.Errorf("query %d: %d hits, first source %q", i, len(r.Hits), r.Hits[0].Citation.Body)
				}
			}
			if got := sr.Results[0].Hits[0].DocID; !strings.Contains(got, "denosumab") {
				t.Errorf("Chinese query: top hit %s", got)
			}
			resp, err = http.Post(base+"/v1/ask", "application/json", strings.NewReader(`{"question": "Can denosumab be stopped?"}`))
			if err != nil {
				t.Fatal(err)
			}
			var a struct {
				Mode, Label, Disclaimer string
				Quotes                  []struct{ Citations []string }
			}
			json.NewDecoder(resp.Body).Decode(&a)
			resp.Body.Close()
			if a.Mode != "retrieval-only" || len(a.Quotes) == 0 || len(a.Quotes[0].Citations) != 1 || a.Disclaimer == "" {
				t.Errorf("ask: %+v", a)
			}
			if err := stop(); err != nil {
				t.Errorf("graceful shutdown: %v", err)
			}
		})
	}
}

// A restart on the same data directory reuses the index; a different
// embedder against it is refused with a clear message.
func TestRestartAndModelMismatch(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"ORTHOCDS_DATA": dir}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"search", "OSTA"}, mapEnv(env), nil, io.Discard, &out); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"search", "OSTA"}, mapEnv(env), nil, io.Discard, &out); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("0 written, %d unchanged", corpusSize(t)); !strings.Contains(out.String(), want) {
		t.Errorf("second start re-indexed: %s", out.String())
	}
	// An index of another model holding only the shipped guidelines is
	// rebuilt: an upgrade of the built-in embedder must not stop the server.
	os.WriteFile(filepath.Join(dir, "store", "index.json"), []byte(`{"name":"ollama:nomic-embed-text","dim":768}`), 0o640)
	out.Reset()
	if err := run(context.Background(), []string{"search", "OSTA"}, mapEnv(env), nil, io.Discard, &out); err != nil {
		t.Fatalf("guideline-only index of another model was not rebuilt: %v", err)
	}
	if !strings.Contains(out.String(), "rebuilding it") {
		t.Errorf("no rebuild reported: %s", out.String())
	}
	// Once a hospital document is indexed, a model change is refused with
	// the old model's name, and nothing is lost.
	if err := run(context.Background(), []string{"ingest", "../../ingest/testdata/note.txt"}, mapEnv(env), nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "store", "index.json"), []byte(`{"name":"ollama:nomic-embed-text","dim":768}`), 0o640)
	err := run(context.Background(), []string{"search", "OSTA"}, mapEnv(env), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "ollama:nomic-embed-text") || !strings.Contains(err.Error(), "1 hospital documents") {
		t.Errorf("model mismatch with hospital documents not refused clearly: %v", err)
	}
}

func mapEnv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestGuidelinesValidate(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"guidelines", "validate"}, mapEnv(nil), nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%d entries", corpusSize(t)); !strings.Contains(out.String(), want) {
		t.Errorf("validate: %s", out.String())
	}
	dir := t.TempDir()
	b, _ := os.ReadFile("../../guidelines/data/ash-2019.yaml")
	os.WriteFile(filepath.Join(dir, "ash-2019.yaml"), bytes.Replace(b, []byte("  doi: 10.1182/bloodadvances.2019000975\n"), nil, 1), 0o644)
	err := run(context.Background(), []string{"guidelines", "validate", dir}, mapEnv(nil), nil, io.Discard, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "ash-2019.yaml: source.doi") {
		t.Errorf("a file missing its source DOI: %v", err)
	}
}

func TestIngestCommand(t *testing.T) {
	env := mapEnv(map[string]string{"ORTHOCDS_DATA": t.TempDir()})
	var out bytes.Buffer
	err := run(context.Background(), []string{"ingest", "../../ingest/testdata/protocol.md", "../../ingest/testdata/corrupt.pdf"},
		env, nil, &out, io.Discard)
	if err == nil || !strings.Contains(out.String(), "1 added, 0 unchanged, 1 failed") {
		t.Errorf("ingest with a corrupt file: err %v, output:\n%s", err, out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"ingest", "../../ingest/testdata/protocol.md"}, env, nil, &out, io.Discard); err != nil ||
		!strings.Contains(out.String(), "0 added, 1 unchanged") {
		t.Errorf("re-ingest: %v\n%s", err, out.String())
	}
}

// synth writes a cohort, train fits a model on it, and predict uses the
// refitted model from --models instead of the shipped one.
func TestSynthTrainPredict(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "cohort.csv")
	var csvOut bytes.Buffer
	if err := run(context.Background(), []string{"synth", "--predictor", "cement-leakage", "--rows", "600", "--seed", "3"},
		mapEnv(nil), nil, &csvOut, io.Discard); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(csvPath, csvOut.Bytes(), 0o644)
	models := filepath.Join(dir, "models")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"train", "--predictor", "cement-leakage", "--data", csvPath,
		"--out", models, "--version", "t1", "--synthetic"}, mapEnv(nil), nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "600 rows") {
		t.Errorf("train output: %s", out.String())
	}
	row := `{"age_years": 80, "bmd_g_cm2": 0.6, "genant_grade": 3, "cement_volume_ml": 6, "days_to_surgery": 20,
		"multiple_fractures": true, "intravertebral_cleft": true, "cortical_defect": true, "procedure": "pvp"}`
	out.Reset()
	if err := run(context.Background(), []string{"predict", "--predictor", "cement-leakage", "--models", models},
		mapEnv(nil), strings.NewReader(row), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Model       struct{ Version string }
		Predictions []struct {
			Probability float64
			RiskBand    string `json:"risk_band"`
		}
	}
	json.Unmarshal(out.Bytes(), &res)
	if res.Model.Version != "t1" || len(res.Predictions) != 1 || res.Predictions[0].RiskBand != "higher" {
		t.Errorf("predict with the refitted model: %s", out.String())
	}
	// A CSV with a bad cell is refused with its line and column.
	lines := strings.SplitN(csvOut.String(), "\n", 3)
	cells := strings.SplitN(lines[1], ",", 2)
	os.WriteFile(csvPath, []byte(lines[0]+"\n250,"+cells[1]+"\n"+lines[2]), 0o644)
	err := run(context.Background(), []string{"train", "--predictor", "cement-leakage", "--data", csvPath, "--out", models},
		mapEnv(nil), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "line 2/age_years") {
		t.Errorf("bad CSV cell: %v", err)
	}
}

// A model trained in XGBoost is imported, validated on a CSV, and served
// in place of the shipped one, with its card saying it was imported.
func TestImportXGBoost(t *testing.T) {
	models := t.TempDir()
	var out bytes.Buffer
	err := run(context.Background(), []string{"import-xgboost", "--predictor", "cement-leakage",
		"--model", "../../predictors/testdata/xgb-cement-leakage.json", "--data", "../../predictors/testdata/xgb-test.csv",
		"--out", models, "--version", "x1", "--synthetic"}, mapEnv(nil), nil, &out, io.Discard)
	if err != nil || !strings.Contains(out.String(), "cement-leakage (gbt): AUC 0.820") {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	svc, err := loadPredictors(models)
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.Card("cement-leakage")
	if err != nil || c.Model.Version != "x1" || c.Model.Kind != "gbt" || !strings.HasPrefix(c.Validation.Method, "Trained outside OrthoCDS") {
		t.Errorf("card of the imported model: %v %+v", err, c.Model)
	}
	err = run(context.Background(), []string{"import-xgboost", "--predictor", "vte-arthroplasty",
		"--model", "../../predictors/testdata/xgb-cement-leakage.json", "--data", "../../predictors/testdata/xgb-test.csv",
		"--out", models}, mapEnv(nil), nil, io.Discard, io.Discard)
	if err == nil {
		t.Error("a cement-leakage model was imported as the VTE predictor")
	}
}

func corpusSize(t *testing.T) int {
	t.Helper()
	c, err := guidelines.Load(guidelines.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	return len(c.Entries)
}

// eval run on the bundled suite, with no language model, writes the JSON
// and HTML reports; a second run of the same directory finds every item
// done and reports the same figures.
func TestEvalRun(t *testing.T) {
	env := mapEnv(map[string]string{"ORTHOCDS_DATA": t.TempDir(), "ORTHOCDS_LLM_PROVIDER": "none"})
	dir := t.TempDir()
	var first, second bytes.Buffer
	if err := run(context.Background(), []string{"eval", "run", "--out", dir}, env, nil, &first, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"report.json", "report.html", "records.jsonl"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if !strings.Contains(first.String(), "recall@10") || !strings.Contains(first.String(), "correct_abstention") {
		t.Errorf("eval output:\n%s", first.String())
	}
	if err := run(context.Background(), []string{"eval", "run", "--out", dir}, env, nil, &second, io.Discard); err != nil {
		t.Fatal(err)
	}
	if first.String() != second.String() {
		t.Errorf("a finished run reported differently when run again:\n%s\n---\n%s", first.String(), second.String())
	}
	// A run compared with itself: every metric unchanged.
	var cmpOut bytes.Buffer
	if err := run(context.Background(), []string{"eval", "compare", dir, dir}, env, nil, &cmpOut, io.Discard); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cmpOut.String(), "better") || strings.Contains(cmpOut.String(), "worse") ||
		!strings.Contains(cmpOut.String(), "hit@1") {
		t.Errorf("a run compared with itself:\n%s", cmpOut.String())
	}
}

// Two models side by side on one Ollama server with scripted replies:
// "alpha" always answers A, "beta" always B, so on the exam sample (answers
// A and C) alpha scores 0.5 and beta 0. Each model's digest is recorded,
// the rubric task is judged for each model by the suite's judge, the
// latency task times both, and the HTML report compares them. A suite
// naming a model the server lacks is refused, naming the model.
func TestEvalRunModelsSideBySide(t *testing.T) {
	srv := ollamareplay.New([]string{"alpha", "beta", "judge"}, func(model string, msgs []ollamareplay.Message) ollamareplay.Script {
		switch model {
		case "judge":
			return ollamareplay.Script{Chunks: []string{`{"met": []}`}}
		case "beta":
			return ollamareplay.Script{Chunks: []string{`{"answer": "B"}`}}
		}
		return ollamareplay.Script{Chunks: []string{`{"answer": "A"}`}}
	})
	defer srv.Close()
	suite := `name: side-by-side
seed: 3
concurrency: 4
models:
  - name: alpha
  - name: beta
judge:
  name: judge
tasks:
  - {id: exam, type: exam, data: ../../evals/testdata/medqa-sample.jsonl, layout: medqa}
  - {id: rubric, type: rubric, data: ../../evals/testdata/rubric-sample.jsonl}
  - {id: search-latency, type: latency, calls: search, data: retrieval-starter.jsonl, requests: 40, batch: 8}
`
	path := filepath.Join(t.TempDir(), "suite.yaml")
	if err := os.WriteFile(path, []byte(suite), 0o644); err != nil {
		t.Fatal(err)
	}
	env := mapEnv(map[string]string{"ORTHOCDS_DATA": t.TempDir(), "ORTHOCDS_LLM_PROVIDER": "none", "OLLAMA_HOST": srv.URL})
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"eval", "run", "--suite", path, "--out", dir}, env, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep evals.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Meta.LLMs) != 2 || rep.Meta.LLMs[0].Digest == "" || rep.Meta.LLMs[0].Digest == rep.Meta.LLMs[1].Digest || rep.Meta.Judge != "ollama:judge" {
		t.Errorf("run meta: models %+v, judge %q", rep.Meta.LLMs, rep.Meta.Judge)
	}
	exam := map[string]float64{}
	rubrics := 0
	var latency *evals.TaskReport
	for i, tr := range rep.Tasks {
		switch tr.ID {
		case "exam":
			exam[tr.Model] = tr.Metrics["accuracy_without_retrieval"]
		case "rubric":
			if tr.N == 3 && tr.Metrics["score"] == 0 {
				rubrics++
			}
		case "search-latency":
			latency = &rep.Tasks[i]
		}
	}
	if diff := cmp.Diff(map[string]float64{"ollama:alpha": 0.5, "ollama:beta": 0}, exam); diff != "" {
		t.Errorf("exam accuracy by model (-want +got):\n%s", diff)
	}
	if rubrics != 2 {
		t.Errorf("rubric reports: want one per model, each scored 0 by the judge: %+v", rep.Tasks)
	}
	if latency == nil || latency.Metrics["calls"] != 40 || latency.Metrics["throughput_qps"] <= 0 ||
		latency.Metrics["p99_ms"] < latency.Metrics["p50_ms"] || len(latency.Histogram) == 0 {
		t.Errorf("latency task: %+v", latency)
	}
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="models"`, "exam: accuracy_without_retrieval", `class="model-bar"`, `class="hist-bar"`, `id="task-exam-ollama-beta"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}

	missing := strings.Replace(suite, "name: beta", "name: gamma", 1)
	if err := os.WriteFile(path, []byte(missing), 0o644); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"eval", "run", "--suite", path, "--out", t.TempDir()}, env, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "gamma") {
		t.Errorf("suite naming a model the server lacks: %v", err)
	}
}

// The bundled full suite with no language model: the tasks that need one
// are reported as skipped with the reason, every other task runs.
func TestEvalRunFullSuiteWithoutLLM(t *testing.T) {
	env := mapEnv(map[string]string{"ORTHOCDS_DATA": t.TempDir(), "ORTHOCDS_LLM_PROVIDER": "none"})
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"eval", "run", "--suite", "full", "--out", dir}, env, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep evals.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tr := range rep.Tasks {
		state := "ran"
		if tr.Skipped != "" {
			state = "skipped"
			if !strings.Contains(tr.Skipped, "language model") {
				t.Errorf("%s skipped without saying why: %q", tr.ID, tr.Skipped)
			}
		} else if tr.N == 0 || len(tr.Metrics) == 0 {
			state = "empty"
		}
		got[tr.ID] = state
	}
	want := map[string]string{"retrieval": "ran", "abstention": "ran", "everyday": "ran", "exam": "skipped", "rubric": "skipped",
		"citation": "skipped", "search-latency": "ran", "ask-latency": "ran", "grader": "ran", "grader-holdout": "ran"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tasks (-want +got):\n%s\noutput:\n%s", diff, out.String())
	}
	if !strings.Contains(out.String(), "exam (exam): skipped") {
		t.Errorf("the skipped task is not reported on stdout:\n%s", out.String())
	}
}

// A run kept in PostgreSQL and spread over river jobs: "eval worker"
// (standing for another machine) works every shard, because the
// coordinator is started with no workers of its own; the coordinator then
// writes the report and exports the records for "eval compare". (That a
// distributed report equals an in-process one is tested in evalpg.)
func TestEvalRunDistributed(t *testing.T) {
	if testDBURL == "" {
		t.Skip(pgtest.SkipMessage)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	suite := filepath.Join(t.TempDir(), "suite.yaml")
	if err := os.WriteFile(suite, []byte("name: dist\ntasks:\n  - {id: retrieval, type: retrieval, data: retrieval-starter.jsonl}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := mapEnv(map[string]string{"ORTHOCDS_DATA": t.TempDir(), "ORTHOCDS_LLM_PROVIDER": "none", "DATABASE_URL": testDBURL})
	wctx, stopWorker := context.WithCancel(ctx)
	workerDone := make(chan error, 1)
	var workerLog syncBuffer
	go func() {
		workerDone <- run(wctx, []string{"eval", "worker", "--workers", "2"}, env, nil, io.Discard, &workerLog)
	}()
	dir := filepath.Join(t.TempDir(), "dist")
	var out bytes.Buffer
	err := run(ctx, []string{"eval", "run", "--suite", suite, "--out", dir, "--run", fmt.Sprint("cmd-dist-", time.Now().UnixNano()),
		"--shards", "4", "--workers", "0"}, env, nil, &out, io.Discard)
	stopWorker()
	if err != nil {
		t.Fatal(err)
	}
	if err := <-workerDone; err != nil {
		t.Errorf("worker: %v\n%s", err, workerLog.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep evals.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Tasks) != 1 || rep.Tasks[0].N != starterSize(t) || rep.Tasks[0].Metrics["recall@10"] < 0.8 {
		t.Errorf("distributed report: %+v", rep.Tasks)
	}
	recs, err := evals.ReadRecords(dir)
	if err != nil || len(recs) != starterSize(t) {
		t.Errorf("exported records: %d, %v", len(recs), err)
	}
	var cmpOut bytes.Buffer
	if err := run(ctx, []string{"eval", "compare", dir, dir}, env, nil, &cmpOut, io.Discard); err != nil || !strings.Contains(cmpOut.String(), "hit@1") {
		t.Errorf("compare of the exported run: %v\n%s", err, cmpOut.String())
	}
	// A sharded run needs a database.
	noDB := mapEnv(map[string]string{"ORTHOCDS_DATA": t.TempDir(), "ORTHOCDS_LLM_PROVIDER": "none"})
	if err := run(ctx, []string{"eval", "run", "--out", t.TempDir(), "--shards", "2"}, noDB, nil, io.Discard, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "database") {
		t.Errorf("--shards without a database: %v", err)
	}
}

// An evaluation run killed with SIGKILL halfway (in its abstention task,
// after the retrieval task is done) and run again finishes without
// repeating any item, and reports what an uninterrupted run reports.
func TestEvalRunKilledAndResumed(t *testing.T) {
	dir := t.TempDir()
	data := t.TempDir()
	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "eval", "run", "--out", dir)
		cmd.Env = append(os.Environ(), "ORTHOCDS_TEST_RUN_MAIN=1", "ORTHOCDS_DATA="+data, "ORTHOCDS_LLM_PROVIDER=none", "DATABASE_URL=")
		return cmd
	}
	lines := func() int {
		b, _ := os.ReadFile(filepath.Join(dir, "records.jsonl"))
		return bytes.Count(b, []byte("\n"))
	}
	cmd := child()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for lines() < 1+starterSize(t)+20 { // the meta, the retrieval records, some abstention ones
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the run wrote too few records in two minutes")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Success() {
		t.Fatalf("the run finished before it could be killed (%v); the test needs it killed mid-run", err)
	}
	killedAt := lines()
	if out, err := child().CombinedOutput(); err != nil {
		t.Fatalf("resumed run: %v\n%s", err, out)
	}
	recs, err := evals.ReadRecords(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range recs {
		seen[r.Task+"/"+r.Model+"/"+r.Item]++
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("%s recorded %d times", k, n)
		}
	}
	whole := t.TempDir()
	env := mapEnv(map[string]string{"ORTHOCDS_DATA": t.TempDir(), "ORTHOCDS_LLM_PROVIDER": "none"})
	if err := run(context.Background(), []string{"eval", "run", "--out", whole}, env, nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	read := func(d string) evals.Report {
		b, err := os.ReadFile(filepath.Join(d, "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		var r evals.Report
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	ignore := cmpopts.IgnoreFields(evals.TaskReport{}, "Latency", "Histogram")
	if diff := cmp.Diff(read(whole), read(dir), ignore); diff != "" {
		t.Errorf("killed after %d lines and resumed: report differs from an uninterrupted run (-whole +resumed):\n%s", killedAt, diff)
	}
	// retrieval, abstention (out of scope and in scope), everyday test split
	if want := starterSize(t) + 32 + starterSize(t) + 120; len(seen) != want {
		t.Errorf("%d items recorded, want %d", len(seen), want)
	}
}

// Keys are created from the command line, listed without their secrets,
// and refused for an unknown role (their use over HTTP is tested in
// package server's role matrix).
func TestKeysCommand(t *testing.T) {
	data := t.TempDir()
	env := mapEnv(map[string]string{"ORTHOCDS_DATA": data})
	var out bytes.Buffer
	if err := run(context.Background(), []string{"keys", "create", "--name", "ward 7", "--role", "student"}, env, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(out.String())
	var list bytes.Buffer
	if err := run(context.Background(), []string{"keys", "list"}, env, nil, &list, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(list.String(), "student\tactive") || strings.Contains(list.String(), secret) {
		t.Errorf("keys list:\n%s", list.String())
	}
	if err := run(context.Background(), []string{"keys", "create", "--name", "x", "--role", "root"}, env, nil, io.Discard, io.Discard); err == nil {
		t.Error("a key with an unknown role was created")
	}
}

// Answers, predictions, cards and feedback served over HTTP land in the
// audit trail with hashes, not inputs; "audit verify" passes, and after a
// row is changed behind the server's back (in the file, or directly in
// the database) it fails naming the row.
func TestAuditTrail(t *testing.T) {
	stores := map[string]map[string]string{
		"embedded": {"ORTHOCDS_DATA": t.TempDir(), "ORTHOCDS_ADDR": "127.0.0.1:0", "ORTHOCDS_LLM_PROVIDER": "none"},
	}
	if testDBURL != "" {
		stores["postgres"] = map[string]string{"DATABASE_URL": testDBURL, "ORTHOCDS_DATA": t.TempDir(), "ORTHOCDS_ADDR": "127.0.0.1:0",
			"ORTHOCDS_LLM_PROVIDER": "none"}
	}
	for name, env := range stores {
		t.Run(name, func(t *testing.T) {
			if name == "postgres" {
				pool, err := pgxpool.New(context.Background(), testDBURL)
				if err != nil {
					t.Fatal(err)
				}
				defer pool.Close()
				pool.Exec(context.Background(), "DROP TABLE IF EXISTS audit_log")
			}
			base, stop := startServe(t, env)
			secretQuestion := "Can denosumab be stopped in my patient Zhang Wei?"
			post := func(path, body string) {
				resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("%s: %d", path, resp.StatusCode)
				}
			}
			post("/v1/ask", `{"question": "`+secretQuestion+`"}`)
			post("/v1/predictors/vte-arthroplasty/predict", `{"rows": [{"age_years": 70, "sex": "female", "bmi_kg_m2": 31, "joint": "knee",
				"bilateral": false, "surgery_hours": 2, "hypertension": true, "prior_vte": false}]}`)
			post("/cds-services/orthocds-osteoporosis", `{"hook":"patient-view","hookInstance":"h1","context":{"patientId":"p1"},
				"prefetch":{"patient":{"resourceType":"Patient","gender":"female","birthDate":"1950-01-01"},"observations":null,"conditions":null,"medications":null}}`)
			post("/cds-services/orthocds-osteoporosis/feedback", `{"feedback":[{"card":"c1","outcome":"overridden","outcomeTimestamp":"2026-11-01T00:00:00Z"}]}`)
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			runEnv := mapEnv(env)
			var out bytes.Buffer
			if err := run(context.Background(), []string{"audit", "verify"}, runEnv, nil, &out, io.Discard); err != nil {
				t.Fatalf("audit verify: %v", err)
			}
			if !strings.Contains(out.String(), "intact: 4 rows") {
				t.Errorf("audit verify: %s", out.String())
			}
			// Tamper with row 2 (the prediction).
			switch name {
			case "embedded":
				path := filepath.Join(env["ORTHOCDS_DATA"], "audit.jsonl")
				b, _ := os.ReadFile(path)
				if strings.Contains(string(b), "Zhang") || strings.Contains(string(b), "denosumab be stopped") {
					t.Error("the audit trail holds the question text")
				}
				lines := strings.Split(string(b), "\n")
				lines[1] = strings.Replace(lines[1], `\"prediction\"`, `\"answer\"`, 1)
				os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600)
			case "postgres":
				pool, _ := pgxpool.New(context.Background(), testDBURL)
				var body string
				pool.QueryRow(context.Background(), "SELECT string_agg(body, '') FROM audit_log").Scan(&body)
				if strings.Contains(body, "Zhang") {
					t.Error("the audit trail holds the question text")
				}
				if _, err := pool.Exec(context.Background(), `UPDATE audit_log SET body = replace(body, '"prediction"', '"answer"') WHERE seq = 2`); err != nil {
					t.Fatal(err)
				}
				pool.Close()
			}
			err := run(context.Background(), []string{"audit", "verify"}, runEnv, nil, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "row 2") {
				t.Errorf("audit verify after tampering: %v", err)
			}
		})
	}
}

// A backup of a data directory holding a hospital document, an audit
// trail and keys restores into an empty directory where search finds the
// document, the audit chain holds and the keys work; a damaged archive
// and a non-empty target are refused.
func TestBackupRestore(t *testing.T) {
	data := t.TempDir()
	env := mapEnv(map[string]string{"ORTHOCDS_DATA": data, "ORTHOCDS_ADDR": "127.0.0.1:0", "ORTHOCDS_LLM_PROVIDER": "none"})
	ctx := context.Background()
	if err := run(ctx, []string{"ingest", "../../ingest/testdata/protocol.md"}, env, nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var key bytes.Buffer
	if err := run(ctx, []string{"keys", "create", "--name", "b", "--role", "admin"}, env, nil, &key, io.Discard); err != nil {
		t.Fatal(err)
	}
	base, stop := startServe(t, map[string]string{"ORTHOCDS_DATA": data, "ORTHOCDS_ADDR": "127.0.0.1:0", "ORTHOCDS_LLM_PROVIDER": "none"})
	req, _ := http.NewRequest("POST", base+"/v1/ask", strings.NewReader(`{"question":"What does the ward protocol say about DVT?"}`))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(key.String()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("ask with the key: %v %v", err, resp)
	}
	resp.Body.Close()
	stop()
	archive := filepath.Join(t.TempDir(), "backup.tar.gz")
	if err := run(ctx, []string{"backup", "--out", archive}, env, nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	renv := mapEnv(map[string]string{"ORTHOCDS_DATA": restored, "ORTHOCDS_LLM_PROVIDER": "none"})
	var out bytes.Buffer
	if err := run(ctx, []string{"restore", "--in", archive}, renv, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "audit trail of 1 rows intact") {
		t.Errorf("restore: %s", out.String())
	}
	var search bytes.Buffer
	if err := run(ctx, []string{"search", "ward protocol thromboprophylaxis"}, renv, nil, &search, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(search.String(), "protocol") {
		t.Errorf("the restored index lacks the hospital document:\n%s", search.String())
	}
	var list bytes.Buffer
	run(ctx, []string{"keys", "list"}, renv, nil, &list, io.Discard)
	if !strings.Contains(list.String(), "admin\tactive") {
		t.Errorf("keys after restore: %s", list.String())
	}
	if err := run(ctx, []string{"restore", "--in", archive}, renv, nil, io.Discard, io.Discard); err == nil {
		t.Error("a restore into a non-empty directory was accepted")
	}
	b, _ := os.ReadFile(archive)
	b[len(b)/2] ^= 0xff
	damaged := filepath.Join(t.TempDir(), "damaged.tar.gz")
	os.WriteFile(damaged, b, 0o600)
	if err := run(ctx, []string{"restore", "--in", damaged, "--data", filepath.Join(t.TempDir(), "x")}, renv, nil, io.Discard, io.Discard); err == nil {
		t.Error("a damaged archive was restored")
	}
}

// A case played in the terminal: questions answered from the case,
// a test ordered, a plan submitted and graded with the citations.
func TestCasesPlay(t *testing.T) {
	in := strings.NewReader("ask Have you ever broken a bone?\norder DXA\ndiagnosis osteoporosis\nplan alendronate with calcium and vitamin D\nsubmit\n")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"cases", "play", "op-untreated"}, mapEnv(nil), in, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"never broken a bone", "T-score -2.9", "score ", "who-1994-tscore-categories", "expert:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("play output lacks %q:\n%s", want, out.String())
		}
	}
	var list bytes.Buffer
	if err := run(context.Background(), []string{"cases", "list"}, mapEnv(nil), nil, &list, io.Discard); err != nil || strings.Count(list.String(), "\n") < 3 {
		t.Errorf("cases list: %v\n%s", err, list.String())
	}
}

// TestImportMissingValues: an XGBoost model trained with missing inputs
// (UBJSON) is imported with XGBoost's own probabilities as the check,
// served, and a request that leaves an optional input out gets XGBoost's
// probability for that row, the input reported missing, not imputed.
// Probabilities that disagree refuse the import, naming the rows.
func TestImportMissingValues(t *testing.T) {
	var want struct {
		P []float64 `json:"missing_probabilities"`
	}
	b, _ := os.ReadFile("../../predictors/testdata/xgb-vte-expected.json")
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	lines := make([]string, len(want.P))
	for i, p := range want.P {
		lines[i] = strconv.FormatFloat(p, 'g', -1, 64)
	}
	good := filepath.Join(dir, "expected.txt")
	os.WriteFile(good, []byte(strings.Join(lines, "\n")), 0o644)
	lines[3] = "0.5"
	bad := filepath.Join(dir, "wrong.txt")
	os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o644)
	models := t.TempDir()
	args := []string{"import-model", "--predictor", "vte-arthroplasty", "--model", "../../predictors/testdata/xgb-vte-missing.ubj",
		"--data", "../../predictors/testdata/xgb-vte-valid.csv", "--out", models, "--version", "m1", "--synthetic", "--expected"}
	var out bytes.Buffer
	if err := run(context.Background(), append(args, good), mapEnv(nil), nil, &out, io.Discard); err != nil ||
		!strings.Contains(out.String(), "every one of 500 rows scores as the library did") {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	err := run(context.Background(), append(args, bad), mapEnv(nil), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "CSV lines 5") {
		t.Errorf("disagreeing probabilities: %v, want a refusal naming CSV line 5", err)
	}
	svc, err := loadPredictors(models)
	if err != nil {
		t.Fatal(err)
	}
	// The first validation row that lacks D-dimer, as a request.
	f, _ := os.Open("../../predictors/testdata/xgb-vte-valid.csv")
	defer f.Close()
	recs, _ := csv.NewReader(f).ReadAll()
	header := recs[0]
	for i, rec := range recs[1:] {
		if rec[slices.Index(header, "d_dimer_mg_l_feu")] != "" {
			continue
		}
		row := predictors.Row{}
		for j, h := range header {
			if h == "outcome" || rec[j] == "" {
				continue
			}
			v := rec[j]
			if _, err := strconv.ParseFloat(v, 64); err != nil && v != "true" && v != "false" {
				v = strconv.Quote(v)
			}
			row[h] = json.RawMessage(v)
		}
		res, err := svc.Predict("vte-arthroplasty", []predictors.Row{row}, true)
		if err != nil {
			t.Fatal(err)
		}
		p := res.Predictions[0]
		if math.Abs(p.Probability-want.P[i]) > 1e-6 || !slices.Contains(p.Missing, "d_dimer_mg_l_feu") || slices.Contains(p.Imputed, "d_dimer_mg_l_feu") {
			t.Errorf("row %d: %.6f (XGBoost %.6f), missing %v, imputed %v", i, p.Probability, want.P[i], p.Missing, p.Imputed)
		}
		if _, err := json.Marshal(res); err != nil {
			t.Errorf("the result does not encode: %v", err)
		}
		break
	}
}

// TestImportLightGBM: a LightGBM text model trained with missing values
// imports with LightGBM's own prediction file as --expected, every row
// agreeing, the rows that miss an input included (fixtures:
// predictors/testdata/lightgbm/make_missing_fixtures.py).
func TestImportLightGBM(t *testing.T) {
	models := t.TempDir()
	var out bytes.Buffer
	err := run(context.Background(), []string{"import-model", "--predictor", "vte-arthroplasty",
		"--model", "../../predictors/testdata/lightgbm/lgb-vte-missing.txt",
		"--data", "../../predictors/testdata/xgb-vte-valid.csv", "--out", models, "--version", "lgb1", "--synthetic",
		"--expected", "../../predictors/testdata/lightgbm/lgb-vte-missing.pred.txt"}, mapEnv(nil), nil, &out, io.Discard)
	if err != nil || !strings.Contains(out.String(), "every one of 500 rows scores as the library did") {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	// The zero-as-missing model's probabilities are not this model's.
	err = run(context.Background(), []string{"import-model", "--predictor", "vte-arthroplasty",
		"--model", "../../predictors/testdata/lightgbm/lgb-vte-missing.txt",
		"--data", "../../predictors/testdata/xgb-vte-valid.csv", "--out", t.TempDir(), "--version", "lgb2", "--synthetic",
		"--expected", "../../predictors/testdata/lightgbm/lgb-vte-zero.pred.txt"}, mapEnv(nil), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "CSV lines") {
		t.Errorf("another model's probabilities: %v, want a refusal naming CSV lines", err)
	}
}

// TestHospitalPredictor: a hospital's own (made-up, SYNTHETIC) predictor
// defined by a file is trained by OrthoCDS, imported from XGBoost (checked
// row by row against XGBoost's probabilities), served with explanations,
// and carded with its intended use and owner; a directory holding a bad
// definition stops every command, naming the field.
func TestHospitalPredictor(t *testing.T) {
	defs := t.TempDir()
	b, _ := os.ReadFile("../../predictors/testdata/hospital/hu-cement-leakage.yaml")
	os.WriteFile(filepath.Join(defs, "hu-cement-leakage.yaml"), b, 0o644)
	env := mapEnv(map[string]string{"ORTHOCDS_PREDICTORS_DIR": defs})
	trained, imported := t.TempDir(), t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"train", "--predictor", "hu-cement-leakage", "--data", "../../predictors/testdata/hospital/hu-train.csv",
		"--out", trained, "--version", "t1", "--synthetic"}, env, nil, &out, io.Discard); err != nil {
		t.Fatalf("train: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"import-model", "--predictor", "hu-cement-leakage", "--model", "../../predictors/testdata/hospital/hu-xgboost.json",
		"--data", "../../predictors/testdata/hospital/hu-valid.csv", "--expected", "../../predictors/testdata/hospital/hu-xgboost-expected.txt",
		"--out", imported, "--version", "x1", "--synthetic"}, env, nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "every one of 400 rows") {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	for _, dir := range []string{trained, imported} {
		svc, err := loadPredictors(dir)
		if err != nil {
			t.Fatal(err)
		}
		res, err := svc.Predict("hu-cement-leakage", []predictors.Row{{"age_years": json.RawMessage("78"), "vertebral_hu": json.RawMessage("45"),
			"cortical_defect": json.RawMessage("true"), "level": json.RawMessage(`"thoracic"`)}}, true)
		if err != nil {
			t.Fatal(err)
		}
		if p := res.Predictions[0]; p.Probability <= 0 || p.Probability >= 1 || len(p.Contributions) != 5 || res.Warning == nil {
			t.Errorf("%s: prediction %+v", dir, p)
		}
		c, err := svc.Card("hu-cement-leakage")
		if err != nil {
			t.Fatal(err)
		}
		cb, _ := json.Marshal(c)
		for _, want := range []string{"SYNTHETIC test hospital, spine registry team", "Test fixture only", "vertebral_hu"} {
			if !strings.Contains(string(cb), want) {
				t.Errorf("%s: card lacks %q", dir, want)
			}
		}
	}
	// Offered in a CDS Hooks card for a draft order with the code the file
	// names (CPT 22511), inputs from the record and the order.
	svc, err := loadPredictors(imported)
	if err != nil {
		t.Fatal(err)
	}
	corpus, err := guidelines.Load(guidelines.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	hooks := cdshooks.New(cdshooks.Config{Guidelines: corpus, Predictors: svc})
	found := false
	for _, s := range hooks.Discovery().Services {
		found = found || s.ID == cdshooks.HospitalID
	}
	if !found {
		t.Fatalf("discovery lacks %s", cdshooks.HospitalID)
	}
	ext := func(id, v string) string {
		return `{"url":"` + cdshooks.OrderInputExtension + `","id":"` + id + `",` + v + `}`
	}
	req := `{"hook":"order-select","hookInstance":"h1","context":{"patientId":"p","userId":"Practitioner/1","selections":["ServiceRequest/pvp"],
	 "draftOrders":{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"ServiceRequest","id":"pvp","status":"draft","intent":"order",
	   "code":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"22511"}]},
	   "extension":[` + ext("vertebral_hu", `"valueDecimal":45`) + `,` + ext("cortical_defect", `"valueBoolean":true`) + `,` + ext("level", `"valueInteger":1`) + `]}}]}},
	 "prefetch":{"patient":{"resourceType":"Patient","id":"p","gender":"female","birthDate":"1948-03-01"},
	  "observations":{"resourceType":"Bundle","type":"searchset","entry":[]},"conditions":{"resourceType":"Bundle","type":"searchset","entry":[]},"medications":null}}`
	r, err := cdshooks.DecodeRequest(strings.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hooks.Call(context.Background(), cdshooks.HospitalID, r, cdshooks.Invocation{Base: "https://cds.example.org", Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Cards) != 1 || !strings.Contains(resp.Cards[0].Summary, "Cement leakage by Hounsfield units") ||
		!strings.Contains(resp.Cards[0].Detail, "Vertebral body attenuation on CT: the order") ||
		!strings.Contains(resp.Cards[0].Detail, "Planned cement volume: not recorded: left missing") ||
		!strings.Contains(resp.Cards[0].Source.Label, "spine registry team") {
		t.Errorf("hospital predictor card: %+v", resp.Cards)
	}

	// A bad definition file: every command refuses to start, naming it.
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "broken.yaml"), []byte(strings.Replace(string(b), "type: bool", "type: boolean", 1)), 0o644)
	err = run(context.Background(), []string{"predict", "--help"}, mapEnv(map[string]string{"ORTHOCDS_PREDICTORS_DIR": bad}), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "broken.yaml/features/3/type") {
		t.Errorf("bad definition: %v", err)
	}
}

// TestRecalibrate: the shipped VTE model (fitted on the standard SYNTHETIC
// cohort) meets a SYNTHETIC shifted cohort (twice the base rate, effects at
// 0.6 of their size). `orthocds recalibrate` on 3,000 local rows brings the
// calibration slope within 0.1 of 1 and observed/expected within 0.05 of 1
// on 20,000 held-out rows; the original version stays callable.
func TestRecalibrate(t *testing.T) {
	def, _ := predictors.Get("vte-arthroplasty")
	shifted := def
	shifted.BaseRate = 2 * def.BaseRate
	write := func(n int, seed uint64) string {
		p := filepath.Join(t.TempDir(), "cohort.csv")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := synth.WriteCSV(f, def, synth.Generate(shifted, synth.Specs[def.ID], n, seed, 0.6)); err != nil {
			t.Fatal(err)
		}
		f.Close()
		return p
	}
	local, heldout := write(3000, 71), write(20000, 72)
	out := t.TempDir()
	var buf bytes.Buffer
	if err := run(context.Background(), []string{"recalibrate", "--predictor", "vte-arthroplasty", "--data", local, "--out", out,
		"--version", "recal-1", "--synthetic"}, mapEnv(nil), nil, &buf, io.Discard); err != nil {
		t.Fatalf("recalibrate: %v\n%s", err, buf.String())
	}
	t.Log(buf.String())
	svc, err := loadPredictors(out)
	if err != nil {
		t.Fatal(err)
	}
	recal, _ := svc.Artefact("vte-arthroplasty")
	if recal.Version != "recal-1" || recal.Recalibration == nil {
		t.Fatalf("default model %s, want the recalibration", recal.Version)
	}
	orig, ok := svc.Artefact("vte-arthroplasty@" + recal.Recalibration.OfVersion)
	if !ok || orig.Recalibration != nil {
		t.Fatal("the recalibrated model is not callable any more")
	}
	f, _ := os.Open(heldout)
	d, _, err := predictors.ReadCSV(def, f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	figures := func(a *model.Artefact) (slope, oe float64) {
		p := make([]float64, len(d.X))
		for i, x := range d.X {
			p[i] = 1 / (1 + math.Exp(-a.Scorer().Logit(x)))
		}
		return model.Evaluate(d.Y, p, 0.1, 1).CalibrationSlope, model.ObservedExpected(d.Y, p)
	}
	s0, oe0 := figures(orig)
	s1, oe1 := figures(recal)
	t.Logf("held-out: slope %.3f -> %.3f, observed/expected %.3f -> %.3f", s0, s1, oe0, oe1)
	if math.Abs(s1-1) > 0.1 || math.Abs(oe1-1) > 0.05 {
		t.Errorf("after recalibration: slope %.3f, observed/expected %.3f", s1, oe1)
	}
	if math.Abs(s0-1) < 0.2 && math.Abs(oe0-1) < 0.1 {
		t.Errorf("the shifted cohort is not shifted for the original model: slope %.3f, O/E %.3f", s0, oe0)
	}
	// Both versions answer through the service, and differ.
	row := predictors.Row{"age_years": json.RawMessage("72"), "sex": json.RawMessage(`"female"`), "bmi_kg_m2": json.RawMessage("31"),
		"joint": json.RawMessage(`"knee"`), "bilateral": json.RawMessage("false"), "surgery_hours": json.RawMessage("2"),
		"hypertension": json.RawMessage("true"), "prior_vte": json.RawMessage("false")}
	a, err := svc.Predict("vte-arthroplasty", []predictors.Row{row}, false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.Predict("vte-arthroplasty@"+orig.Version, []predictors.Row{row}, false)
	if err != nil {
		t.Fatal(err)
	}
	if a.Model.Version != "recal-1" || b.Model.Version != orig.Version || a.Predictions[0].Probability == b.Predictions[0].Probability {
		t.Errorf("versions: %s %.4f, %s %.4f", a.Model.Version, a.Predictions[0].Probability, b.Model.Version, b.Predictions[0].Probability)
	}
	card, err := svc.Card("vte-arthroplasty")
	if err != nil || card.Recalibration == nil || !card.Model.Recalibrated {
		t.Errorf("card: %v, recalibration %v", err, card.Recalibration)
	}
}

func TestGuidelinesVerify(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"guidelines", "verify"}, mapEnv(nil), nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"accp-2012.yaml", "overall: ", "not verified ("} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("verify output lacks %q:\n%s", want, out.String())
		}
	}
	err := run(context.Background(), []string{"guidelines", "verify", "--min", "1"}, mapEnv(nil), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "below the 100.0% asked for") {
		t.Errorf("verify --min 1 on a corpus not fully verified: %v", err)
	}
	// A stated grade whose record is removed stops the command, naming the entry.
	dir := t.TempDir()
	b, _ := os.ReadFile("../../guidelines/data/ash-2019.yaml")
	i := bytes.Index(b, []byte("    verified:"))
	j := bytes.Index(b[i:], []byte("  - id:"))
	os.WriteFile(filepath.Join(dir, "ash-2019.yaml"), append(append([]byte{}, b[:i]...), b[i+j:]...), 0o644)
	err = run(context.Background(), []string{"guidelines", "verify", dir}, mapEnv(nil), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "ash-2019.yaml: entries[0] (ash-2019-aspirin-or-anticoagulant).verified") {
		t.Errorf("a stated grade without its record: %v", err)
	}
}

// starterSize is the number of questions in the bundled retrieval set,
// which the retrieval and in-scope abstention tasks each record.
func starterSize(t *testing.T) int {
	t.Helper()
	items, err := evals.LoadRetrieval(evals.Data(), "retrieval-starter.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	return len(items)
}
