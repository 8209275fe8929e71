package evals

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orthocds/orthocds/internal/yamlx"
	"golang.org/x/sync/errgroup"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/answer"
	"github.com/orthocds/orthocds/cases"
	"github.com/orthocds/orthocds/llm"
	"github.com/orthocds/orthocds/predictors/model"
	"github.com/orthocds/orthocds/rag"
)

func errorf(format string, args ...any) error {
	return orthocds.Errorf(orthocds.EINVALID, format, args...)
}

// Suite says what a run evaluates. It is read from YAML; Starter is the
// bundled one.
type Suite struct {
	Name string `yaml:"name" json:"name"`
	Seed uint64 `yaml:"seed" json:"seed"`
	// Models are the language models compared side by side: each one
	// answers the exam, rubric and citation tasks and the ask latency
	// task. Empty means the configured model, if one is reachable.
	Models []ModelSpec `yaml:"models" json:"models,omitempty"`
	// Judge grades the rubric and citation tasks; empty means the
	// configured model, or else the first of Models.
	Judge *ModelSpec `yaml:"judge" json:"judge,omitempty"`
	// Concurrency is how many items are evaluated at once (default 1).
	Concurrency int `yaml:"concurrency" json:"concurrency,omitempty"`
	// Attempts is how many calls a model gets for an exam item before the
	// item is recorded as failed (default 3, at most 10).
	Attempts int        `yaml:"attempts" json:"attempts,omitempty"`
	Tasks    []TaskSpec `yaml:"tasks" json:"tasks"`
}

// ModelSpec names a language model on an Ollama or OpenAI-compatible
// server.
type ModelSpec struct {
	Name     string `yaml:"name" json:"name"`                   // as the server names it, e.g. qwen2.5:7b
	Provider string `yaml:"provider" json:"provider,omitempty"` // ollama (default) or openai
	URL      string `yaml:"url" json:"url,omitempty"`           // default: the configured server
}

// Bounds of a suite.
const (
	MaxConcurrency = 64
	MaxModels      = 16
	maxRequests    = 100_000
)

// TaskSpec is one task of a suite.
type TaskSpec struct {
	ID   string `yaml:"id" json:"id"`
	Type string `yaml:"type" json:"type"` // retrieval, abstention, exam
	// Data names a bundled file ("retrieval-starter.jsonl") or a path.
	Data string `yaml:"data" json:"data"`
	// InScope is, for abstention, the set whose questions must be answered.
	InScope string `yaml:"in_scope" json:"in_scope,omitempty"`
	// Predictor is, for a predictor task, the predictor's ID; Data is then a
	// labelled CSV (the schema's columns and "outcome").
	Predictor string `yaml:"predictor" json:"predictor,omitempty"`
	// Layout is, for exam, the file's layout: medqa, cmexam or mmlu.
	Layout string `yaml:"layout" json:"layout,omitempty"`
	K      int    `yaml:"k" json:"k,omitempty"`         // retrieval depth, default 10
	Batch  int    `yaml:"batch" json:"batch,omitempty"` // queries per search call, default 64
	// Calls is, for latency, what is timed: "search" (batched retrieval)
	// or "ask" (a whole answer, with each model when models are given).
	Calls string `yaml:"calls" json:"calls,omitempty"`
	// Requests is, for latency, how many calls are made (default one per
	// question of Data); Concurrency how many at once (default the
	// suite's).
	Requests    int `yaml:"requests" json:"requests,omitempty"`
	Concurrency int `yaml:"concurrency" json:"concurrency,omitempty"`
}

// Starter is the bundled starter suite: retrieval and abstention on the
// project's question sets, neither needing an LLM.
func Starter() Suite {
	s, ok := BundledSuite("starter")
	if !ok {
		panic("the starter suite is not bundled")
	}
	return s
}

// BundledSuite returns a suite shipped in the binary by name: "starter"
// or "full" (every task on the bundled data).
func BundledSuite(name string) (Suite, bool) {
	b, err := fs.ReadFile(Data(), "suites/"+name+".yaml")
	if err != nil {
		return Suite{}, false
	}
	s, err := ParseSuite(b)
	if err != nil {
		panic(fmt.Sprintf("bundled suite %s: %v", name, err)) // TestBundledSuites keeps them valid
	}
	return s, true
}

// ParseSuite reads a suite file, naming the field at fault.
func ParseSuite(b []byte) (Suite, error) {
	var s Suite
	if err := yamlx.UnmarshalStrict(b, &s); err != nil {
		return s, orthocds.Errorf(orthocds.EMALFORMED, "suite: %v", err)
	}
	if s.Name == "" {
		return s, orthocds.Invalid("name", "a suite needs a name")
	}
	if len(s.Tasks) == 0 {
		return s, orthocds.Invalid("tasks", "a suite needs at least one task")
	}
	if s.Concurrency < 0 || s.Concurrency > MaxConcurrency {
		return s, orthocds.Invalid("concurrency", "must be between 0 and %d", MaxConcurrency)
	}
	if len(s.Models) > MaxModels {
		return s, orthocds.Invalid("models", "at most %d models side by side", MaxModels)
	}
	names := map[string]bool{}
	for i, m := range s.Models {
		field := fmt.Sprintf("models[%d]", i)
		if err := m.check(field); err != nil {
			return s, err
		}
		id := m.Provider + " " + m.URL + " " + m.Name
		if names[id] {
			return s, orthocds.Invalid(field+".name", "model %q is listed twice", m.Name)
		}
		names[id] = true
	}
	if s.Judge != nil {
		if err := s.Judge.check("judge"); err != nil {
			return s, err
		}
	}
	seen := map[string]bool{}
	for i, t := range s.Tasks {
		field := fmt.Sprintf("tasks[%d]", i)
		switch {
		case t.ID == "" || seen[t.ID]:
			return s, orthocds.Invalid(field+".id", "each task needs a unique id")
		case !slices.Contains(taskTypes, t.Type):
			return s, orthocds.Invalid(field+".type", "must be one of %s", strings.Join(taskTypes, ", "))
		case t.Type == "latency" && t.Calls != "search" && t.Calls != "ask":
			return s, orthocds.Invalid(field+".calls", "a latency task times search or ask calls")
		case t.Requests < 0 || t.Requests > maxRequests:
			return s, orthocds.Invalid(field+".requests", "must be between 0 and %d", maxRequests)
		case t.Concurrency < 0 || t.Concurrency > MaxConcurrency:
			return s, orthocds.Invalid(field+".concurrency", "must be between 0 and %d", MaxConcurrency)
		case t.Type == "predictor" && t.Predictor == "":
			return s, orthocds.Invalid(field+".predictor", "a predictor task names the predictor")
		case t.Type == "exam" && t.Layout != LayoutMedQA && t.Layout != LayoutCMExam && t.Layout != LayoutMMLU:
			return s, orthocds.Invalid(field+".layout", "an exam task needs layout medqa, cmexam or mmlu")
		case t.Data == "":
			return s, orthocds.Invalid(field+".data", "names the question file")
		case t.K < 0 || t.K > rag.MaxK || t.Batch < 0 || t.Batch > rag.MaxBatch:
			return s, orthocds.Invalid(field, "k must be at most %d and batch at most %d", rag.MaxK, rag.MaxBatch)
		}
		seen[t.ID] = true
	}
	return s, nil
}

var taskTypes = []string{"retrieval", "abstention", "exam", "predictor", "rubric", "citation", "latency", "grader"}

func (m ModelSpec) check(field string) error {
	switch {
	case strings.TrimSpace(m.Name) == "":
		return orthocds.Invalid(field+".name", "a model needs a name")
	case m.Provider != "" && m.Provider != "ollama" && m.Provider != "openai":
		return orthocds.Invalid(field+".provider", "must be ollama or openai")
	case m.Provider == "openai" && m.URL == "":
		return orthocds.Invalid(field+".url", "an OpenAI-compatible model needs the server's URL")
	}
	return nil
}

// Contestant is one language model under evaluation, with the answer
// service that uses it.
type Contestant struct {
	Name   string // provider and model, as recorded
	Digest string // the model's digest when the server reports one
	LLM    Judge  // answers exam questions
	Answer *answer.Service
}

// ModelID identifies a language model in a run's meta.
type ModelID struct {
	Name   string `json:"name"`
	Digest string `json:"digest,omitempty"`
}

// Env is what a run evaluates: the search and answer stack as configured.
type Env struct {
	Search *rag.Retriever
	Answer *answer.Service
	// TopicOf gives an entry's topic for the per-topic breakdown (the
	// guideline domain); nil leaves topics out.
	TopicOf func(entryID string) string
	// Model and CorpusVersion are kept with every run.
	Model         rag.ModelInfo
	CorpusVersion string
	// Models are the predictors' models, by predictor ID.
	Models map[string]*model.Artefact
	// Contestants are the language models compared; none skips the exam
	// task, and the rubric and citation tasks then grade the
	// retrieval-only answers of Answer.
	Contestants []Contestant
	// Judge grades rubric and citation tasks; nil skips them. The grader
	// task scores it beside the deterministic drill grader.
	Judge Judge
	// Cases are the drill cases by ID, and Scope the analysis the drill
	// grader reads plans with, for the grader task; none skips it.
	Cases map[string]*cases.Case
	Scope cases.Scope
}

// retrievalOnly names the answers of the answer service without a
// language model.
const retrievalOnly = "retrieval-only"

// answerers are the contestants, or the retrieval-only answer service
// when there are none.
func (e Env) answerers() []Contestant {
	if len(e.Contestants) > 0 {
		return e.Contestants
	}
	return []Contestant{{Name: retrievalOnly, Answer: e.Answer}}
}

// Meta identifies a run; resuming requires the same meta.
type Meta struct {
	Suite         Suite         `json:"suite"`
	SuiteHash     string        `json:"suite_hash"`
	Model         rag.ModelInfo `json:"embedding_model"`
	CorpusVersion string        `json:"corpus_version"`
	LLMs          []ModelID     `json:"llms,omitempty"`
	Judge         string        `json:"judge,omitempty"`
}

// Same reports whether two metas describe the same run.
func (m Meta) Same(o Meta) bool {
	return m.SuiteHash == o.SuiteHash && m.Model == o.Model && m.CorpusVersion == o.CorpusVersion &&
		slices.Equal(m.LLMs, o.LLMs) && m.Judge == o.Judge
}

// Record is one evaluated item, written as soon as it is done.
type Record struct {
	Task string `json:"task"`
	// Model is the language model that answered the item, for the tasks
	// that compare models.
	Model    string  `json:"model,omitempty"`
	Item     string  `json:"item"`
	Lang     string  `json:"lang,omitempty"`
	Topic    string  `json:"topic,omitempty"`
	Hits     []int   `json:"hits,omitempty"` // 1-based ranks of gold entries in the top K
	NGold    int     `json:"n_gold,omitempty"`
	K        int     `json:"k,omitempty"`
	InScope  bool    `json:"in_scope,omitempty"`
	Abstain  bool    `json:"abstained,omitempty"`
	Millis   float64 `json:"ms"` // latency of the call that answered the item (a batch for retrieval)
	Skipped  string  `json:"skipped,omitempty"`
	Answered bool    `json:"answered,omitempty"`
	// Rubric items: which were met, the score, or why it could not be
	// scored (an unscorable item is never counted as met).
	Rubric     bool     `json:"rubric,omitempty"`
	Met        []string `json:"met,omitempty"`
	Score      *float64 `json:"score,omitempty"`
	Unscorable string   `json:"unscorable,omitempty"`
	// Exam items: with or without retrieved guideline text, and whether
	// the chosen letter was right.
	Mode    string `json:"mode,omitempty"`
	Correct bool   `json:"correct,omitempty"`
	Choice  string `json:"choice,omitempty"`
	// Citation tallies of one answer.
	Citation *CitationCounts `json:"citation,omitempty"`
	// Latency calls: when the call started (Unix milliseconds) and how
	// many queries it carried.
	Start   float64 `json:"start,omitempty"`
	Queries int     `json:"queries,omitempty"`
	// Failed says why the model could not answer the item (after the
	// suite's attempts), and FailKind which of llm's failure kinds it was:
	// the item counts as failed, never as right, and the run goes on.
	Failed   string `json:"failed,omitempty"`
	FailKind string `json:"fail_kind,omitempty"`
	// Examiner is the examiner's score of a grader-set answer, beside the
	// grader's own in Score.
	Examiner *float64 `json:"examiner,omitempty"`
}

// modelFailure sorts a model call's error: a cancelled run or a server
// that is not there stops the run (it resumes where it stopped); any other
// failure is the item's, recorded and passed over.
func modelFailure(err error) (kind string, stop bool) {
	kind = llm.KindOf(err)
	return kind, kind == "" || kind == llm.Unreachable
}

// RecordStore keeps one run: its meta and its records. FileStore keeps
// them in a directory; evalpg keeps them in PostgreSQL, where workers on
// several machines can share a run.
type RecordStore interface {
	// Open starts the run with meta, or resumes it: a stored meta must
	// equal meta (an orthocds.ECONFLICT error otherwise). It returns the
	// records already stored.
	Open(ctx context.Context, meta Meta) ([]Record, error)
	// Add stores a finished item durably. Adding an item that is already
	// stored (same task, model and item) keeps the first and is no error.
	Add(ctx context.Context, rec Record) error
}

// Runner runs a suite. A run interrupted at any point resumes from its
// records without repeating finished items.
type Runner struct {
	Env Env
	// Progress, when set, is told how many items of a task are done.
	Progress func(task string, done, total int)
	// Shard, when set, restricts the run to the items whose key hashes to
	// Shard.Index of Shard.Count; a worker runs one shard of a
	// distributed run and writes no report.
	Shard *Shard
	// afterRecord lets tests interrupt a run after a record is written.
	afterRecord func(n int) error
}

// Shard is one part of a run spread over workers.
type Shard struct {
	Index, Count int
}

func (s *Shard) has(task, model, item string) bool {
	if s == nil || s.Count <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(key(task, model, item)))
	return int(h.Sum32()%uint32(s.Count)) == s.Index
}

// Meta returns the meta of a run of suite in this environment.
func (r *Runner) Meta(suite Suite) Meta {
	meta := Meta{Suite: suite, Model: r.Env.Model, CorpusVersion: r.Env.CorpusVersion}
	for _, c := range r.Env.Contestants {
		meta.LLMs = append(meta.LLMs, ModelID{c.Name, c.Digest})
	}
	if r.Env.Judge != nil {
		meta.Judge = r.Env.Judge.Name()
	}
	b, _ := json.Marshal(suite)
	sum := sha256.Sum256(b)
	meta.SuiteHash = hex.EncodeToString(sum[:8])
	return meta
}

// Run evaluates suite into dir, keeping its records there (FileStore),
// and returns the report, also written there as report.json and
// report.html.
func (r *Runner) Run(ctx context.Context, suite Suite, dir string) (*Report, error) {
	store := &FileStore{Dir: dir}
	defer store.Close()
	return r.RunStore(ctx, suite, store, dir)
}

// RunStore evaluates suite with its records in store and writes the
// report into reportDir. With a Shard set it runs only that shard's items
// and returns a nil report.
func (r *Runner) RunStore(ctx context.Context, suite Suite, store RecordStore, reportDir string) (*Report, error) {
	meta := r.Meta(suite)
	done, err := store.Open(ctx, meta)
	if err != nil {
		return nil, err
	}
	w := &recordWriter{store: store, keys: map[string]bool{}, shard: r.Shard, after: r.afterRecord}
	for _, rec := range done {
		w.keep(rec)
	}
	notes := map[string]TaskReport{}
	for _, t := range suite.Tasks {
		var err error
		switch t.Type {
		case "retrieval":
			err = r.retrieval(ctx, t, w)
		case "abstention":
			err = r.abstention(ctx, suite, t, w)
		case "exam":
			notes[t.ID], err = r.exam(ctx, suite, t, w)
		case "predictor":
			if r.Shard == nil {
				notes[t.ID], err = r.predictorTask(t)
			}
		case "rubric":
			notes[t.ID], err = r.rubric(ctx, suite, t, w)
		case "citation":
			notes[t.ID], err = r.citations(ctx, suite, t, w)
		case "latency":
			err = r.latency(ctx, suite, t, w)
		case "grader":
			notes[t.ID], err = r.grader(ctx, suite, t, w)
		}
		if err != nil {
			return nil, fmt.Errorf("task %s: %w", t.ID, err)
		}
	}
	if r.Shard != nil {
		return nil, nil
	}
	rep := Summarise(meta, w.records)
	for i, tr := range rep.Tasks {
		n, ok := notes[tr.ID]
		if !ok {
			continue
		}
		rep.Tasks[i].LoadErrors = n.LoadErrors
		if n.Skipped != "" || n.Metrics != nil {
			rep.Tasks[i].N, rep.Tasks[i].Skipped = n.N, n.Skipped
		}
		if n.Metrics != nil {
			rep.Tasks[i].Metrics, rep.Tasks[i].Calibration, rep.Tasks[i].ROC = n.Metrics, n.Calibration, n.ROC
		}
	}
	if err := os.MkdirAll(reportDir, 0o755); err != nil {
		return nil, err
	}
	if err := rep.Write(reportDir); err != nil {
		return nil, err
	}
	return rep, nil
}

func key(task, model, item string) string { return task + "\x00" + model + "\x00" + item }

// recordFile is a FileStore's append-only log: the meta on the first
// line, then one record a line.
const recordFile = "records.jsonl"

// FileStore keeps a run in a directory, in records.jsonl. Each record is
// written and synced before the next item starts; a torn last line (a
// crash mid-write) is dropped when the run is opened again.
type FileStore struct {
	Dir string

	mu sync.Mutex
	f  *os.File
}

// Open implements RecordStore.
func (s *FileStore) Open(ctx context.Context, meta Meta) ([]Record, error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(s.Dir, recordFile)
	recs, err := openRecords(path, meta)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		s.f.Close()
	}
	if s.f, err = os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644); err != nil {
		return nil, err
	}
	if st, err := s.f.Stat(); err == nil && st.Size() == 0 {
		if err := s.line(meta); err != nil {
			return nil, err
		}
	}
	return recs, nil
}

// Add implements RecordStore; the Runner never adds an item twice.
func (s *FileStore) Add(ctx context.Context, rec Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return errors.New("evals: FileStore.Add before Open")
	}
	return s.line(rec)
}

// Close closes the log.
func (s *FileStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

func (s *FileStore) line(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := s.f.Write(append(b, '\n')); err != nil {
		return err
	}
	return s.f.Sync()
}

// openRecords reads an existing log: its meta must match this run's, and
// a torn last line (a crash mid-write) is cut off.
func openRecords(path string, meta Meta) ([]Record, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var good int64
	var recs []Record
	first := true
	for sc.Scan() {
		line := sc.Bytes()
		if first {
			var have Meta
			if err := json.Unmarshal(line, &have); err != nil {
				break
			}
			if !have.Same(meta) {
				return nil, orthocds.Errorf(orthocds.ECONFLICT,
					"%s holds a run of another suite, model or corpus; use a new directory", path)
			}
			first = false
			good += int64(len(line)) + 1
			continue
		}
		var rec Record
		if err := json.Unmarshal(line, &rec); err != nil {
			break // a torn last line
		}
		recs = append(recs, rec)
		good += int64(len(line)) + 1
	}
	if first {
		good = 0
	}
	// Cut anything after the last whole record.
	return recs, os.Truncate(path, good)
}

// recordWriter adds records to the store and remembers which items are
// done; it is safe for concurrent use.
type recordWriter struct {
	store   RecordStore
	shard   *Shard
	after   func(n int) error
	mu      sync.Mutex
	records []Record
	keys    map[string]bool
}

func (w *recordWriter) keep(rec Record) {
	k := key(rec.Task, rec.Model, rec.Item)
	if w.keys[k] {
		return
	}
	w.keys[k] = true
	w.records = append(w.records, rec)
}

func (w *recordWriter) add(rec Record) error {
	// A finished item is stored even when the run is being cancelled.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.store.Add(ctx, rec); err != nil {
		return err
	}
	w.mu.Lock()
	w.keep(rec)
	n := len(w.records)
	w.mu.Unlock()
	if w.after != nil {
		return w.after(n)
	}
	return nil
}

// has reports whether an item needs no work here: it is done, or it
// belongs to another shard.
func (w *recordWriter) has(task, model, item string) bool {
	if !w.shard.has(task, model, item) {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.keys[key(task, model, item)]
}

// concurrency is how many items of t are evaluated at once.
func (s Suite) attempts() int {
	if s.Attempts > 0 {
		return min(s.Attempts, 10)
	}
	return judgeAttempts
}

func (s Suite) concurrency(t TaskSpec) int {
	if t.Concurrency > 0 {
		return t.Concurrency
	}
	return max(1, s.Concurrency)
}

// each calls fn for 0..n-1, conc at a time, and returns the first error;
// once one call fails no new call starts.
func each(ctx context.Context, n, conc int, fn func(ctx context.Context, i int) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, conc))
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error { return fn(ctx, i) })
	}
	return g.Wait()
}

// job is one item of a task to be answered by one contestant.
type job[T any] struct {
	c    Contestant
	item T
}

// pending lists, for every answerer and item, the jobs not yet recorded,
// and a progress counter over all of them.
func pending[T any](r *Runner, w *recordWriter, task string, items []T, id func(T) string) ([]job[T], *counter) {
	var jobs []job[T]
	answerers := r.Env.answerers()
	for _, c := range answerers {
		for _, it := range items {
			if !w.has(task, c.Name, id(it)) {
				jobs = append(jobs, job[T]{c, it})
			}
		}
	}
	total := len(items) * len(answerers)
	return jobs, r.counter(task, total-len(jobs), total)
}

// counter tells Progress how far a task has come.
type counter struct {
	r           *Runner
	task        string
	done, total atomic.Int64
}

func (r *Runner) counter(task string, done, total int) *counter {
	c := &counter{r: r, task: task}
	c.done.Store(int64(done))
	c.total.Store(int64(total))
	if r.Progress != nil {
		r.Progress(task, done, total)
	}
	return c
}

func (c *counter) add(n int) {
	d := c.done.Add(int64(n))
	if c.r.Progress != nil {
		c.r.Progress(c.task, int(d), int(c.total.Load()))
	}
}

// loadData opens a bundled data file or a path.
func loadData[T any](name string, load func(fs.FS, string) ([]T, error)) ([]T, error) {
	if _, err := fs.Stat(Data(), name); err == nil {
		return load(Data(), name)
	}
	return load(os.DirFS(filepath.Dir(name)), filepath.Base(name))
}

func (r *Runner) retrieval(ctx context.Context, t TaskSpec, w *recordWriter) error {
	items, err := loadData(t.Data, LoadRetrieval)
	if err != nil {
		return err
	}
	k, batch := t.K, t.Batch
	if k == 0 {
		k = 10
	}
	if batch == 0 {
		batch = 64
	}
	var todo []RetrievalItem
	for _, it := range items {
		if !w.has(t.ID, "", it.ID) {
			todo = append(todo, it)
		}
	}
	prog := r.counter(t.ID, len(items)-len(todo), len(items))
	for start := 0; start < len(todo); start += batch {
		part := todo[start:min(start+batch, len(todo))]
		qs := make([]rag.Query, len(part))
		for i, it := range part {
			qs[i] = rag.Query{Text: it.Question, K: k}
		}
		t0 := time.Now()
		res, err := r.Env.Search.Search(ctx, qs)
		if err != nil {
			return err
		}
		ms := float64(time.Since(t0).Microseconds()) / 1000
		for i, it := range part {
			gold := map[string]bool{}
			for _, g := range it.Gold {
				gold[g] = true
			}
			rec := Record{Task: t.ID, Item: it.ID, Lang: it.Lang, NGold: len(it.Gold), K: k, Millis: ms}
			if r.Env.TopicOf != nil {
				rec.Topic = r.Env.TopicOf(it.Gold[0])
			}
			for j, h := range res[i] {
				if gold[h.DocID] {
					rec.Hits = append(rec.Hits, j+1)
				}
			}
			if err := w.add(rec); err != nil {
				return err
			}
		}
		prog.add(len(part))
	}
	return nil
}

func (r *Runner) abstention(ctx context.Context, suite Suite, t TaskSpec, w *recordWriter) error {
	oos, err := loadData(t.Data, LoadOutOfScope)
	if err != nil {
		return err
	}
	type q struct {
		id, lang, text string
		in             bool
	}
	var qs []q
	for _, it := range oos {
		qs = append(qs, q{"out:" + it.ID, it.Lang, it.Question, false})
	}
	if t.InScope != "" {
		in, err := loadData(t.InScope, LoadRetrieval)
		if err != nil {
			return err
		}
		for _, it := range in {
			qs = append(qs, q{"in:" + it.ID, it.Lang, it.Question, true})
		}
	}
	var todo []q
	for _, x := range qs {
		if !w.has(t.ID, "", x.id) {
			todo = append(todo, x)
		}
	}
	prog := r.counter(t.ID, len(qs)-len(todo), len(qs))
	return each(ctx, len(todo), suite.concurrency(t), func(ctx context.Context, i int) error {
		x := todo[i]
		t0 := time.Now()
		a, err := r.Env.Answer.Ask(ctx, answer.Request{Question: x.text}, nil)
		if err != nil {
			return err
		}
		rec := Record{Task: t.ID, Item: x.id, Lang: x.lang, InScope: x.in, Abstain: a.Mode == answer.ModeAbstained,
			Answered: a.Mode != answer.ModeAbstained, Millis: float64(time.Since(t0).Microseconds()) / 1000}
		if err := w.add(rec); err != nil {
			return err
		}
		prog.add(1)
		return nil
	})
}
