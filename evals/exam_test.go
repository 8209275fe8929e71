package evals

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orthocds/orthocds/llm"
	"github.com/orthocds/orthocds/llm/ollamareplay"
)

// Each layout loads its good records and reports every bad one by file and
// line, without stopping. The sample files are written by the project (no
// exam set is redistributed).
func TestLoadExam(t *testing.T) {
	tests := []struct {
		file, layout string
		answers      []string
		bad          []LoadError
	}{
		{"testdata/medqa-sample.jsonl", LayoutMedQA, []string{"C", "A"}, []LoadError{
			{"medqa-sample.jsonl", 2, "not a JSON object"},
			{"medqa-sample.jsonl", 3, `answer "E" is not among the options`}}},
		{"testdata/cmexam-sample.csv", LayoutCMExam, []string{"C", "B"}, []LoadError{
			{"cmexam-sample.csv", 6, "fewer than two options"}}},
		{"testdata/mmlu-sample.csv", LayoutMMLU, []string{"B", "C"}, []LoadError{
			{"mmlu-sample.csv", 2, "needs a question, at least two options and an answer"}}},
	}
	for _, tt := range tests {
		t.Run(tt.layout, func(t *testing.T) {
			items, bad, err := LoadExam(tt.file, tt.layout)
			if err != nil {
				t.Fatal(err)
			}
			var answers []string
			for _, it := range items {
				answers = append(answers, it.Answer)
				if len(it.Options) < 2 || it.Options[it.Answer] == "" {
					t.Errorf("%s: options %v, answer %s", it.ID, it.Options, it.Answer)
				}
			}
			if diff := cmp.Diff(tt.answers, answers); diff != "" {
				t.Errorf("answers (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.bad, bad); diff != "" {
				t.Errorf("reported bad records (-want +got):\n%s", diff)
			}
		})
	}
	if _, _, err := LoadExam("testdata/mmlu-sample.csv", "other"); err == nil {
		t.Error("an unknown layout was accepted")
	}
}

// An exam task without a language model loads its file, reports the bad
// lines, and is marked skipped with the reason; the other tasks still run.
func TestExamTaskSkippedWithoutLLM(t *testing.T) {
	suite := Suite{Name: "exam", Tasks: []TaskSpec{
		{ID: "exam", Type: "exam", Data: "testdata/medqa-sample.jsonl", Layout: LayoutMedQA},
		{ID: "abstention", Type: "abstention", Data: "out-of-scope.jsonl"},
	}}
	rep, err := (&Runner{Env: env(t)}).Run(context.Background(), suite, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ex := rep.Tasks[0]
	if ex.Skipped == "" || ex.N != 2 || len(ex.LoadErrors) != 2 || ex.LoadErrors[0].Line != 2 {
		t.Errorf("exam task: %+v", ex)
	}
	if ab := rep.Tasks[1]; ab.Skipped != "" || ab.N == 0 || ab.Metrics["correct_abstention"] < 0.9 {
		t.Errorf("abstention task alongside: %+v", ab)
	}
}

// An exam answered by a model over Ollama's HTTP API with scripted replies:
// it answers right only when given the retrieved guideline excerpts, so
// accuracy is 1 with retrieval, 0 without, and the gain is reported.
func TestExamTaskWithScriptedModel(t *testing.T) {
	srv := ollamareplay.New([]string{"examinee"}, func(_ string, msgs []ollamareplay.Message) ollamareplay.Script {
		user := msgs[len(msgs)-1].Content
		letter := "B" // wrong for both sample questions
		if strings.Contains(user, "Guideline excerpts:") {
			letter = "A"
			if strings.Contains(user, "T-score") {
				letter = "C"
			}
		}
		return ollamareplay.Script{Chunks: []string{`{"answer": "` + letter + `"}`}}
	})
	defer srv.Close()
	c, err := llm.New(llm.Config{Provider: llm.ProviderOllama, BaseURL: srv.URL, Model: "examinee"})
	if err != nil {
		t.Fatal(err)
	}
	e := env(t)
	e.Contestants = []Contestant{{Name: c.Name(), LLM: c}}
	suite := Suite{Name: "exam", Tasks: []TaskSpec{{ID: "exam", Type: "exam", Data: "testdata/medqa-sample.jsonl", Layout: LayoutMedQA}}}
	rep, err := (&Runner{Env: e}).Run(context.Background(), suite, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"accuracy_with_retrieval": 1, "accuracy_without_retrieval": 0, "failure_rate": 0, "retrieval_gain": 1}
	if diff := cmp.Diff(want, rep.Tasks[0].Metrics); diff != "" {
		t.Errorf("exam metrics (-want +got):\n%s", diff)
	}
	if len(rep.Tasks[0].LoadErrors) != 2 {
		t.Errorf("load errors %v", rep.Tasks[0].LoadErrors)
	}
}
