package evals

import (
	"context"
	"strings"
	"testing"

	"github.com/orthocds/orthocds/llm/ollamareplay"
)

// The citation task against a judge over Ollama's HTTP API: statements
// about denosumab get replies that are never the JSON asked for (retried,
// then counted unsupported and unscorable); every other citation is judged
// supported. Precision and recall follow from the tallies.
func TestCitationTaskWithScriptedJudge(t *testing.T) {
	srv := ollamareplay.New([]string{"judge"}, func(_ string, msgs []ollamareplay.Message) ollamareplay.Script {
		user := msgs[len(msgs)-1].Content
		stmt, _, _ := strings.Cut(strings.TrimPrefix(user, "Statement:\n"), "\n\nSource:")
		if strings.Contains(strings.ToLower(stmt), "denosumab") || strings.Contains(stmt, "地舒单抗") {
			return ollamareplay.Script{Chunks: []string{"Supported, I believe."}}
		}
		return ollamareplay.Script{Chunks: []string{`{"supported": true}`}}
	})
	defer srv.Close()
	e := env(t)
	e.Judge = judgeAt(t, srv.URL)
	suite := Suite{Name: "cite", Tasks: []TaskSpec{{ID: "cite", Type: "citation", Data: "testdata/citation-sample.jsonl"}}}
	dir := t.TempDir()
	rep, err := (&Runner{Env: e}).Run(context.Background(), suite, dir)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := ReadRecords(dir)
	if err != nil {
		t.Fatal(err)
	}
	var c CitationCounts
	for _, r := range recs {
		c.Citations += r.Citation.Citations
		c.Supported += r.Citation.Supported
		c.Unscorable += r.Citation.Unscorable
	}
	if c.Citations == 0 || c.Unscorable == 0 || c.Supported+c.Unscorable != c.Citations {
		t.Fatalf("tallies %+v: want some unscorable, the rest supported", c)
	}
	m := rep.Tasks[0].Metrics
	if want := float64(c.Supported) / float64(c.Citations); m["citation_precision"] != want || m["unscorable_citations"] != float64(c.Unscorable) {
		t.Errorf("metrics %v, want precision %.3f and %d unscorable", m, want, c.Unscorable)
	}
	malformed := 0
	for _, req := range srv.Requests() {
		stmt, _, _ := strings.Cut(strings.TrimPrefix(req.Messages[len(req.Messages)-1].Content, "Statement:\n"), "\n\nSource:")
		if strings.Contains(strings.ToLower(stmt), "denosumab") || strings.Contains(stmt, "地舒单抗") {
			malformed++
		}
	}
	if malformed != judgeAttempts*c.Unscorable {
		t.Errorf("%d judge calls for unscorable citations, want %d attempts each for %d", malformed, judgeAttempts, c.Unscorable)
	}
}
