package evals

import (
	"context"
	"strings"
	"testing"

	"github.com/orthocds/orthocds/llm"
	"github.com/orthocds/orthocds/llm/ollamareplay"
)

// The rubric task end to end against a judge served over Ollama's HTTP
// API with scripted replies: a valid verdict is scored; a judge that keeps
// returning malformed JSON is retried, then the item is marked unscorable
// and counts as meeting nothing; a judge that recovers on a retry is
// scored.
func TestRubricTaskWithScriptedJudge(t *testing.T) {
	srv := ollamareplay.New([]string{"judge"}, func(_ string, msgs []ollamareplay.Message) ollamareplay.Script {
		user := msgs[len(msgs)-1].Content
		switch {
		case strings.Contains(user, "denosumab"):
			return ollamareplay.Script{Chunks: []string{`{"met": ["followon", `, `"rebound"]}`}}
		case strings.Contains(user, "knee arthroplasty"):
			return ollamareplay.Script{Chunks: []string{"I think agents is met."}} // never JSON
		}
		return ollamareplay.Script{}
	})
	defer srv.Close()
	attempts := map[string]int{}
	judgeClient := judgeAt(t, srv.URL)
	// The Chinese question's judge is wrong once (an unknown item), then right.
	j := &countingJudge{Judge: judgeClient, n: attempts, fix: map[string][]string{
		"中度": {`{"met": ["nerve-block"]}`, `{"met": ["surgery"]}`}}}
	e := env(t)
	e.Judge = j
	suite := Suite{Name: "rubric", Tasks: []TaskSpec{{ID: "rubric", Type: "rubric", Data: "testdata/rubric-sample.jsonl"}}}
	dir := t.TempDir()
	rep, err := (&Runner{Env: e}).Run(context.Background(), suite, dir)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := ReadRecords(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Record{}
	for _, r := range recs {
		got[r.Item] = r
	}
	if r := got["q-dmab"]; r.Score == nil || *r.Score != 1 || r.Unscorable != "" {
		t.Errorf("valid verdict: %+v, want score 1 (8 of 8 points)", r)
	}
	if r := got["q-vte"]; r.Score != nil || r.Unscorable == "" || len(r.Met) != 0 {
		t.Errorf("malformed verdicts: %+v, want unscorable with nothing met", r)
	}
	if r := got["q-dcm"]; r.Score == nil || *r.Score != 1 {
		t.Errorf("verdict after a retry: %+v", r)
	}
	if attempts["knee arthroplasty"] != judgeAttempts || attempts["中度"] != 2 {
		t.Errorf("judge attempts %v, want %d for the malformed judge and 2 for the recovering one", attempts, judgeAttempts)
	}
	m := rep.Tasks[0].Metrics
	if m["unscorable"] != 1 || m["score"] != 1 {
		t.Errorf("rubric metrics %v, want score 1 over two scorable items and one unscorable", m)
	}
	// Without a judge the task is skipped with the reason.
	e.Judge = nil
	rep, err = (&Runner{Env: e}).Run(context.Background(), suite, t.TempDir())
	if err != nil || rep.Tasks[0].Skipped == "" {
		t.Errorf("no judge: %v, %+v", err, rep.Tasks[0])
	}
}

// countingJudge counts attempts per question and can replace the server's
// replies for one question with a fixed sequence.
type countingJudge struct {
	Judge
	n   map[string]int
	fix map[string][]string
}

func (c *countingJudge) Complete(ctx context.Context, system, user string, onToken func(string) error) (string, error) {
	for _, k := range []string{"denosumab", "knee arthroplasty", "中度"} {
		if strings.Contains(user, k) {
			c.n[k]++
			if seq, ok := c.fix[k]; ok {
				return seq[min(c.n[k], len(seq))-1], nil
			}
		}
	}
	return c.Judge.Complete(ctx, system, user, onToken)
}

// judgeAt is a judge model "judge" on the Ollama server at url.
func judgeAt(t *testing.T, url string) Judge {
	t.Helper()
	j, err := llm.New(llm.Config{Provider: llm.ProviderOllama, BaseURL: url, Model: "judge"})
	if err != nil {
		t.Fatal(err)
	}
	return j
}
