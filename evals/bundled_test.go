package evals

import (
	"context"
	"io/fs"
	"os"
	"strings"
	"testing"
	"unicode"

	"github.com/orthocds/orthocds/guidelines"
	"github.com/orthocds/orthocds/llm"
	"github.com/orthocds/orthocds/llm/ollamareplay"
	"github.com/orthocds/orthocds/rag"
)

// checkGold reports gold IDs that are not current corpus entries.
func checkGold(t *testing.T, c *guidelines.Corpus, item string, gold []string) {
	t.Helper()
	if len(gold) == 0 {
		t.Errorf("%s names no guideline entry that answers it", item)
	}
	for _, id := range gold {
		e, ok := c.Get(id)
		switch {
		case !ok:
			t.Errorf("%s: gold %s is not in the corpus", item, id)
		case e.SupersededBy != "":
			t.Errorf("%s: gold %s is superseded by %s", item, id, e.SupersededBy)
		}
	}
}

// The bundled multiple-choice set: at least 100 questions in both
// languages, each with four options, the right letter spread over A-D (so
// a model that always picks one letter scores about a quarter), and gold
// entries that are current. Its question stems alone retrieve a gold entry
// in the top five for most questions, so the with-retrieval mode of the
// exam task gives the model the evidence it needs.
func TestBundledExam(t *testing.T) {
	items, bad, err := LoadExam("exam-orthocds.jsonl", LayoutMedQA)
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("bad records: %v", bad)
	}
	c, err := guidelines.Load(guidelines.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	langs, letters, ids := map[string]int{}, map[string]int{}, map[string]bool{}
	for _, it := range items {
		langs[it.Lang]++
		letters[it.Answer]++
		if ids[it.ID] {
			t.Errorf("question ID %s is used twice", it.ID)
		}
		ids[it.ID] = true
		if len(it.Options) != 4 {
			t.Errorf("%s has %d options, want 4", it.ID, len(it.Options))
		}
		checkGold(t, c, it.ID, it.Gold)
	}
	if len(items) < 100 || langs["en"] < 40 || langs["zh"] < 40 {
		t.Errorf("%d questions (en %d, zh %d); want >= 100, 40 per language", len(items), langs["en"], langs["zh"])
	}
	for _, l := range []string{"A", "B", "C", "D"} {
		if n := letters[l]; n < len(items)/5 {
			t.Errorf("letter %s is right %d times of %d; spread the answers", l, n, len(items))
		}
	}

	f := corpus(t)
	qs := make([]rag.Query, len(items))
	for i, it := range items {
		qs[i] = rag.Query{Text: it.Question, K: 5}
	}
	res, err := f.Retriever.Search(context.Background(), qs)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string][2]int{}
	for i, it := range items {
		got := make([]string, len(res[i]))
		for j, h := range res[i] {
			got[j] = h.DocID
		}
		n := found[it.Lang]
		n[1]++
		if Rank(got, it.Gold) > 0 {
			n[0]++
		} else {
			t.Logf("%s: no gold entry in the top 5 (%v)", it.ID, got)
		}
		found[it.Lang] = n
	}
	for lang, n := range found {
		rate := float64(n[0]) / float64(n[1])
		t.Logf("%s: gold entry in the top 5 for %d of %d stems (%.2f)", lang, n[0], n[1], rate)
		if rate < 0.8 {
			t.Errorf("%s: only %.2f of question stems retrieve a gold entry in the top 5; want >= 0.8", lang, rate)
		}
	}
}

// The bundled rubric set: at least 50 questions in both languages, each
// with positive items, at least one negative (must-not) item, unique item
// IDs, and current gold entries justifying it.
func TestBundledRubric(t *testing.T) {
	qs, err := LoadRubric(Data(), "rubric-orthocds.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	c, err := guidelines.Load(guidelines.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	langs, ids := map[string]int{}, map[string]bool{}
	for _, q := range qs {
		langs[q.Lang]++
		if ids[q.ID] {
			t.Errorf("question ID %s is used twice", q.ID)
		}
		ids[q.ID] = true
		checkGold(t, c, q.ID, q.Gold)
		neg, items := 0, map[string]bool{}
		for _, it := range q.Rubric {
			if items[it.ID] {
				t.Errorf("%s: rubric item %s is used twice", q.ID, it.ID)
			}
			items[it.ID] = true
			if it.Points < 0 {
				neg++
			}
		}
		if neg == 0 {
			t.Errorf("%s has no negative (must-not) item", q.ID)
		}
		// Meeting every positive item and no negative one scores 1.
		var pos []string
		for _, it := range q.Rubric {
			if it.Points > 0 {
				pos = append(pos, it.ID)
			}
		}
		if s := RubricScore(q, pos); s != 1 {
			t.Errorf("%s: all positive items met scores %v", q.ID, s)
		}
	}
	if len(qs) < 50 || langs["en"] < 20 || langs["zh"] < 20 {
		t.Errorf("%d rubric questions (en %d, zh %d); want >= 50, 20 per language", len(qs), langs["en"], langs["zh"])
	}
}

// The bundled exam is answerable from the corpus: a scripted examinee
// (over Ollama's HTTP API) that knows no medicine and picks the option
// sharing the most words (Chinese: character pairs) with the retrieved
// guideline excerpts scores far above chance with retrieval, while without
// excerpts it always answers A and scores about a quarter.
func TestBundledExamAnswerableFromCorpus(t *testing.T) {
	srv := ollamareplay.New([]string{"overlap"}, func(_ string, msgs []ollamareplay.Message) ollamareplay.Script {
		user := msgs[len(msgs)-1].Content
		excerpts, rest, ok := strings.Cut(user, "\nQuestion: ")
		if !ok {
			return ollamareplay.Script{Chunks: []string{`{"answer": "A"}`}}
		}
		_, opts, _ := strings.Cut(rest, "\nOptions:\n")
		ev := terms(excerpts)
		best, bestScore := "A", -1.0
		for _, line := range strings.Split(strings.TrimSpace(opts), "\n") {
			letter, text, _ := strings.Cut(line, ". ")
			ts := terms(text)
			hit := 0
			for w := range ts {
				if ev[w] {
					hit++
				}
			}
			if s := float64(hit) / float64(len(ts)+1); s > bestScore {
				best, bestScore = letter, s
			}
		}
		return ollamareplay.Script{Chunks: []string{`{"answer": "` + best + `"}`}}
	})
	defer srv.Close()
	c, err := llm.New(llm.Config{Provider: llm.ProviderOllama, BaseURL: srv.URL, Model: "overlap"})
	if err != nil {
		t.Fatal(err)
	}
	e := env(t)
	e.Contestants = []Contestant{{Name: c.Name(), LLM: c}}
	suite := Suite{Name: "bundled-exam", Concurrency: 4, Tasks: []TaskSpec{{ID: "exam", Type: "exam", Data: "exam-orthocds.jsonl", Layout: LayoutMedQA}}}
	rep, err := (&Runner{Env: e}).Run(context.Background(), suite, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Tasks[0].Metrics
	t.Logf("overlap examinee: %v; by group %v", m, rep.Tasks[0].Groups)
	if m["accuracy_with_retrieval"] < 0.6 || m["accuracy_without_retrieval"] > 0.35 {
		t.Errorf("accuracy with retrieval %.2f (want >= 0.6), without %.2f (want about 0.25)",
			m["accuracy_with_retrieval"], m["accuracy_without_retrieval"])
	}
	for _, lang := range []string{"lang:en", "lang:zh"} {
		if g := rep.Tasks[0].Groups[lang]; g["accuracy_with_retrieval"] < 0.5 {
			t.Errorf("%s: accuracy with retrieval %.2f", lang, g["accuracy_with_retrieval"])
		}
	}
}

// terms are lower-cased words of four or more letters, and pairs of
// adjacent Han characters.
func terms(s string) map[string]bool {
	out := map[string]bool{}
	var han []rune
	flush := func() {
		for i := 0; i+1 < len(han); i++ {
			out[string(han[i:i+2])] = true
		}
		han = han[:0]
	}
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		for _, r := range w {
			if unicode.Is(unicode.Han, r) {
				han = append(han, r)
			} else {
				flush()
			}
		}
		flush()
		if !strings.ContainsFunc(w, func(r rune) bool { return unicode.Is(unicode.Han, r) }) && len(w) >= 4 {
			out[w] = true
		}
	}
	return out
}

// The bundled suites parse, and every data file they name is bundled.
func TestBundledSuites(t *testing.T) {
	for _, name := range []string{"starter", "full"} {
		s, ok := BundledSuite(name)
		if !ok {
			t.Fatalf("suite %s is not bundled", name)
		}
		for _, task := range s.Tasks {
			for _, f := range []string{task.Data, task.InScope} {
				if f == "" {
					continue
				}
				if _, err := fs.Stat(Data(), f); err != nil {
					t.Errorf("suite %s, task %s: %s is not bundled", name, task.ID, f)
				}
			}
		}
	}
	if _, ok := BundledSuite("nonesuch"); ok {
		t.Error("an unknown suite name was found")
	}
}

// The example suite in docs/evaluation.md parses.
func TestDocumentedSuiteParses(t *testing.T) {
	b, err := os.ReadFile("../docs/evaluation.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "## Suite files\n\n```yaml\n")
	yamlText, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/evaluation.md has no suite example under ## Suite files")
	}
	s, err := ParseSuite([]byte(yamlText))
	if err != nil {
		t.Fatalf("the documented suite does not parse: %v", err)
	}
	if len(s.Models) != 3 || s.Judge == nil || len(s.Tasks) != 10 {
		t.Errorf("documented suite read as %d models, judge %v, %d tasks", len(s.Models), s.Judge, len(s.Tasks))
	}
}
