package drills

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/analysis"
	"github.com/orthocds/orthocds/cases"
	"github.com/orthocds/orthocds/guidelines"
)

var (
	alice   = orthocds.Principal{ID: "key-alice", Role: orthocds.RoleStudent}
	bob     = orthocds.Principal{ID: "key-bob", Role: orthocds.RoleStudent}
	teacher = orthocds.Principal{ID: "key-teacher", Role: orthocds.RoleInstructor}
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time       { return c.t }
func (c *clock) wait(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                { return &clock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)} }

// must returns v, failing the test (by a panic, which the test reports)
// when err is set.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func library(t *testing.T) ([]cases.Case, *guidelines.Corpus, cases.Scope) {
	t.Helper()
	corpus := must(guidelines.Load(guidelines.Embedded()))
	cs := must(cases.Load(cases.Embedded(), corpus))
	return cs, corpus, must(analysis.Shared())
}

func service(t *testing.T, path string, c *clock, patient LLM, j *scriptedLLM) *Service {
	t.Helper()
	cs, corpus, scope := library(t)
	cfg := Config{Cases: cs, Store: must(OpenFileStore(path)), Scope: scope, Corpus: corpus, Patient: patient, Now: c.now}
	if j != nil {
		cfg.Judge = j
	}
	return New(cfg)
}

func code(err error) string {
	if err == nil {
		return ""
	}
	return orthocds.ErrorCode(err)
}

// A drill played through: questions reveal the cued facts, an order shows
// its result, a paused drill refuses questions and its pause is not timed,
// the drill survives a restart (the store is reopened), and submitting
// grades it with the guideline entries behind each item.
func TestDrillLifecycle(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "attempts.jsonl")
	c := newClock()
	s := service(t, path, c, nil, nil)
	v := must(s.Start(ctx, alice, "op-untreated", "en"))
	if v.Status != Active || v.Title == "" || v.Presenting == "" || v.Grade != nil {
		t.Fatalf("started: %+v", v)
	}
	c.wait(2 * time.Minute)
	v = must(s.Ask(ctx, alice, v.ID, "Have you ever broken a bone?"))
	if last := v.Turns[len(v.Turns)-1].Patient; !strings.Contains(last, "never broken") {
		t.Errorf("answer %q", last)
	}
	v = must(s.Order(ctx, alice, v.ID, "DXA please"))
	if len(v.Results) != 1 || !strings.Contains(v.Results[0].Result, "-2.9") {
		t.Errorf("results %+v", v.Results)
	}
	if _, err := s.Order(ctx, alice, v.ID, "a cup of tea"); code(err) != orthocds.EINVALID {
		t.Errorf("ordering nothing: %v", err)
	}
	must(s.Pause(ctx, alice, v.ID))
	c.wait(time.Hour)
	if _, err := s.Ask(ctx, alice, v.ID, "Do you smoke?"); code(err) != orthocds.ECONFLICT {
		t.Errorf("question to a paused drill: %v", err)
	}

	// A restart: the same file, a new service.
	s = service(t, path, c, nil, nil)
	v = must(s.Resume(ctx, alice, v.ID))
	c.wait(3 * time.Minute)
	v = must(s.Ask(ctx, alice, v.ID, "Do you smoke?"))
	if diff := cmp.Diff([]string{"fractures", "lifestyle"}, v.Asked); diff != "" {
		t.Errorf("asked (-want +got):\n%s", diff)
	}
	cs, _, _ := library(t)
	want := cs[0]
	for _, x := range cs {
		if x.ID == "op-untreated" {
			want = x
		}
	}
	v = must(s.Submit(ctx, alice, v.ID, want.Expected.Diagnosis.EN, want.Expected.Plan.EN))
	if v.Status != Submitted || v.Grade == nil || v.Grade.Score != 1 || v.Judge != nil {
		t.Fatalf("submitted: %+v", v.Attempt)
	}
	if v.ActiveSeconds != 5*60 {
		t.Errorf("active %v s, want 300 (the paused hour excluded)", v.ActiveSeconds)
	}
	if len(v.Citations) == 0 || v.Citations[0].Guideline == "" || v.Citations[0].Year == 0 {
		t.Errorf("citations %+v", v.Citations)
	}
	for _, it := range v.Grade.Items {
		if it.Why == "" || len(it.Entries) == 0 {
			t.Errorf("item %s without reasoning or entries", it.ID)
		}
	}
	if _, err := s.Ask(ctx, alice, v.ID, "Do you smoke?"); code(err) != orthocds.ECONFLICT {
		t.Errorf("question after submission: %v", err)
	}
	if _, err := s.Submit(ctx, alice, v.ID, "x", "y"); code(err) != orthocds.ECONFLICT {
		t.Errorf("second submission: %v", err)
	}
}

// Bad input is refused with the field that is wrong, and changes nothing.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	s := service(t, filepath.Join(t.TempDir(), "a.jsonl"), newClock(), nil, nil)
	for _, tc := range []struct {
		name  string
		do    func() error
		field string
	}{
		{"unknown case", func() error { _, err := s.Start(ctx, alice, "nope", "en"); return err }, "case_id"},
		{"language", func() error { _, err := s.Start(ctx, alice, "giop", "fr"); return err }, "lang"},
	} {
		err := tc.do()
		var e *orthocds.Error
		if code(err) != orthocds.EINVALID || !asError(err, &e) || e.Field != tc.field {
			t.Errorf("%s: %v, want invalid %s", tc.name, err, tc.field)
		}
	}
	v := must(s.Start(ctx, alice, "giop", "zh"))
	for _, tc := range []struct {
		name  string
		do    func() error
		field string
	}{
		{"empty question", func() error { _, err := s.Ask(ctx, alice, v.ID, "  "); return err }, "question"},
		{"long question", func() error { _, err := s.Ask(ctx, alice, v.ID, strings.Repeat("骨", MaxQuestion+1)); return err }, "question"},
		{"empty plan", func() error { _, err := s.Submit(ctx, alice, v.ID, "骨质疏松", ""); return err }, "plan"},
		{"long diagnosis", func() error { _, err := s.Submit(ctx, alice, v.ID, strings.Repeat("x", MaxAnswer+1), "p"); return err }, "diagnosis"},
	} {
		err := tc.do()
		var e *orthocds.Error
		if code(err) != orthocds.EINVALID || !asError(err, &e) || e.Field != tc.field {
			t.Errorf("%s: %v, want invalid %s", tc.name, err, tc.field)
		}
	}
	got := must(s.Get(ctx, alice, v.ID))
	if len(got.Turns) != 0 || got.Status != Active || got.Version != 1 {
		t.Errorf("after refused input: %d turns, %s, version %d", len(got.Turns), got.Status, got.Version)
	}
}

func asError(err error, e **orthocds.Error) bool {
	x, ok := err.(*orthocds.Error)
	*e = x
	return ok
}

// Students see only their own attempts, and nobody sees a case's expected
// answers through an attempt before it is submitted; instructors see all.
func TestPrivacy(t *testing.T) {
	ctx := context.Background()
	s := service(t, filepath.Join(t.TempDir(), "a.jsonl"), newClock(), nil, nil)
	a := must(s.Start(ctx, alice, "vte-tka", "en"))
	must(s.Start(ctx, bob, "vte-tka", "en"))
	if _, err := s.Get(ctx, bob, a.ID); code(err) != orthocds.ENOTFOUND {
		t.Errorf("bob reading alice's attempt: %v", err)
	}
	if _, err := s.Ask(ctx, bob, a.ID, "Any bleeding?"); code(err) != orthocds.ENOTFOUND {
		t.Errorf("bob asking in alice's attempt: %v", err)
	}
	if _, err := s.Submit(ctx, teacher, a.ID, "d", "p"); code(err) != orthocds.ENOTFOUND {
		t.Errorf("an instructor submitting alice's attempt: %v", err)
	}
	mine := must(s.List(ctx, bob, Filter{}))
	if len(mine) != 1 || mine[0].Student != bob.ID {
		t.Errorf("bob lists %d attempts", len(mine))
	}
	if _, err := s.List(ctx, bob, Filter{Student: alice.ID}); code(err) != orthocds.EFORBIDDEN {
		t.Errorf("bob listing alice's: %v", err)
	}
	if all := must(s.List(ctx, teacher, Filter{})); len(all) != 2 {
		t.Errorf("instructor lists %d attempts", len(all))
	}
	if _, err := s.Key(bob, "vte-tka", "en"); code(err) != orthocds.EFORBIDDEN {
		t.Errorf("bob reading the answer key: %v", err)
	}
	if _, err := s.Class(ctx, bob, Filter{}, "en"); code(err) != orthocds.EFORBIDDEN {
		t.Errorf("bob reading the class report: %v", err)
	}
	if err := s.WriteCSV(ctx, bob, Filter{}, &bytes.Buffer{}); code(err) != orthocds.EFORBIDDEN {
		t.Errorf("bob exporting: %v", err)
	}
}

// scriptedLLM replies with its replies in turn and records the prompts.
type scriptedLLM struct {
	mu      sync.Mutex
	replies []string
	err     error
	prompts []string
}

func (l *scriptedLLM) Name() string { return "scripted-test-model" }
func (l *scriptedLLM) Complete(_ context.Context, system, user string, _ func(string) error) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prompts = append(l.prompts, user)
	if l.err != nil {
		return "", l.err
	}
	r := l.replies[0]
	if len(l.replies) > 1 {
		l.replies = l.replies[1:]
	}
	return r, nil
}

// The LLM patient sees only the facts the question matched; its reply is
// used when it keeps to them, and replaced by the scripted one when it
// brings a number the facts do not hold. A question no fact answers never
// reaches the LLM.
func TestLLMPatient(t *testing.T) {
	ctx := context.Background()
	llm := &scriptedLLM{replies: []string{
		"I stopped having periods when I was 50.",
		"My periods stopped at 50, and my bone density was -3.1 last year.",
	}}
	s := service(t, filepath.Join(t.TempDir(), "a.jsonl"), newClock(), llm, nil)
	v := must(s.Start(ctx, alice, "op-untreated", "en"))
	v = must(s.Ask(ctx, alice, v.ID, "When was your menopause?"))
	if got := v.Turns[0].Patient; got != "I stopped having periods when I was 50." {
		t.Errorf("faithful reply replaced: %q", got)
	}
	if p := llm.prompts[0]; !strings.Contains(p, "Her periods stopped at 50.") || strings.Contains(p, "amlodipine") || strings.Contains(p, "56 kg") {
		t.Errorf("the patient's prompt holds other facts than the matched one:\n%s", p)
	}
	v = must(s.Ask(ctx, alice, v.ID, "And your menopause again?"))
	if got := v.Turns[1].Patient; got != "Her periods stopped at 50." {
		t.Errorf("an invented number got through: %q", got)
	}
	v = must(s.Ask(ctx, alice, v.ID, "What is your favourite colour?"))
	if len(llm.prompts) != 2 || v.Turns[2].Patient != cases.NotUnderstood.EN {
		t.Errorf("unanswerable question: %d LLM calls, reply %q", len(llm.prompts), v.Turns[2].Patient)
	}
	llm.err = fmt.Errorf("connection refused")
	v = must(s.Ask(ctx, alice, v.ID, "How much do you weigh?"))
	if got := v.Turns[3].Patient; got != "She weighs 56 kg." {
		t.Errorf("with the LLM down: %q", got)
	}
}

// A judge grades beside the rubric: its grade is reported apart and the
// deterministic score is unchanged; a judge that gives no valid reply is
// reported unscorable.
func TestJudgeBesideRubric(t *testing.T) {
	ctx := context.Background()
	cs, _, _ := library(t)
	var c cases.Case
	for _, x := range cs {
		if x.ID == "op-untreated" {
			c = x
		}
	}
	for _, tc := range []struct {
		name       string
		reply      string
		judgeScore float64
		unscorable bool
	}{
		{"valid", `{"met": ["diagnosis", "bisphosphonate"]}`, 6.0 / 9, false},
		{"malformed", `the plan is fine`, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := &scriptedLLM{replies: []string{tc.reply}}
			s := service(t, filepath.Join(t.TempDir(), "a.jsonl"), newClock(), nil, j)
			v := must(s.Start(ctx, alice, c.ID, "en"))
			v = must(s.Submit(ctx, alice, v.ID, c.Expected.Diagnosis.EN, c.Expected.Plan.EN))
			if v.Grade.Score != 1 {
				t.Errorf("deterministic score %v, want 1", v.Grade.Score)
			}
			if v.Judge == nil || v.Judge.Model != "scripted-test-model" {
				t.Fatalf("judge %+v", v.Judge)
			}
			if tc.unscorable {
				if v.Judge.Grade != nil || v.Judge.Unscorable == "" {
					t.Errorf("judge %+v, want unscorable", v.Judge)
				}
				return
			}
			if v.Judge.Grade == nil || v.Judge.Grade.Score != tc.judgeScore {
				t.Errorf("judge grade %+v, want score %v", v.Judge.Grade, tc.judgeScore)
			}
		})
	}
}

// The class report counts per case and per rubric item and puts the
// commonest mistakes first; the CSV has one row per attempt.
func TestClassReportAndCSV(t *testing.T) {
	ctx := context.Background()
	s := service(t, filepath.Join(t.TempDir(), "a.jsonl"), newClock(), nil, nil)
	cs, _, _ := library(t)
	var c cases.Case
	for _, x := range cs {
		if x.ID == "op-untreated" {
			c = x
		}
	}
	a := must(s.Start(ctx, alice, c.ID, "en"))
	must(s.Submit(ctx, alice, a.ID, c.Expected.Diagnosis.EN, c.Expected.Plan.EN))
	b := must(s.Start(ctx, bob, c.ID, "en"))
	must(s.Submit(ctx, bob, b.ID, "osteoporosis", "Give calcitonin long term."))
	must(s.Start(ctx, bob, "giop", "en")) // not submitted
	r := must(s.Class(ctx, teacher, Filter{}, "en"))
	if r.Attempts != 3 || r.Submitted != 2 || len(r.Students) != 2 || len(r.Cases) != 2 {
		t.Fatalf("report totals: %+v", r)
	}
	var cr CaseReport
	for _, x := range r.Cases {
		if x.CaseID == c.ID {
			cr = x
		}
	}
	if cr.Submitted != 2 || len(cr.Items) != len(c.Rubric) || len(cr.Mistakes) == 0 {
		t.Fatalf("case report %+v", cr)
	}
	counts := map[string]int{}
	for _, it := range cr.Items {
		counts[it.ID] = it.Met
	}
	if counts["diagnosis"] != 2 || counts["bisphosphonate"] != 1 || counts["calcitonin-long-term"] != 1 {
		t.Errorf("met counts %v", counts)
	}
	for i := 1; i < len(cr.Mistakes); i++ {
		if cr.Mistakes[i].Count > cr.Mistakes[i-1].Count {
			t.Errorf("mistakes not commonest first: %+v", cr.Mistakes)
		}
	}
	var buf bytes.Buffer
	if err := s.WriteCSV(ctx, teacher, Filter{}, &buf); err != nil {
		t.Fatal(err)
	}
	rows := must(csv.NewReader(&buf).ReadAll())
	if len(rows) != 4 || len(rows[0]) != len(CSVHeader) {
		t.Fatalf("%d rows", len(rows))
	}
	if rows[2][13] != "calcitonin-long-term" || rows[1][12] != "1.000" || rows[3][4] != "active" {
		t.Errorf("rows:\n%v", rows)
	}
}

// A torn last line (a crash mid-save) loses only that save, and the next
// save is not joined to it.
func TestFileStoreTornLine(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.jsonl")
	st := must(OpenFileStore(path))
	a := &Attempt{ID: "att_1", Student: "s", CaseID: "giop", Status: Active}
	must(0, st.Save(ctx, a))
	a.Status = Paused
	must(0, st.Save(ctx, a))
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"id":"att_1","status":"submi`)
	f.Close()
	st = must(OpenFileStore(path))
	got := must(st.Get(ctx, "att_1"))
	if got.Status != Paused || got.Version != 2 {
		t.Errorf("after a torn line: %s version %d", got.Status, got.Version)
	}
	must(0, st.Save(ctx, &Attempt{ID: "att_2", Student: "s", CaseID: "giop", Status: Active}))
	st = must(OpenFileStore(path))
	if list := must(st.List(ctx, Filter{Student: "s"})); len(list) != 2 {
		t.Errorf("%d attempts after the torn line was cut", len(list))
	}
}

// Identifiers a student types are removed before the attempt is stored.
func TestStudentTextDeidentified(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.jsonl")
	s := service(t, path, newClock(), nil, nil)
	v := must(s.Start(ctx, alice, "op-untreated", "en"))
	must(s.Ask(ctx, alice, v.ID, "My real patient Mr Smith, phone 13812345678, has back ache; any fractures?"))
	must(s.Submit(ctx, alice, v.ID, "osteoporosis", "Alendronate; call 13812345678."))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "13812345678") || strings.Contains(string(b), "Smith") {
		t.Errorf("the stored attempt holds identifiers:\n%s", b)
	}
	got := must(s.Get(ctx, alice, v.ID))
	if len(got.Asked) != 1 || got.Asked[0] != "fractures" {
		t.Errorf("the redacted question still asks about fractures: %v", got.Asked)
	}
}
