package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/orthocds/orthocds/answer"
	"github.com/orthocds/orthocds/audit"
	"github.com/orthocds/orthocds/cdshooks"
	"github.com/orthocds/orthocds/llm"
	"github.com/orthocds/orthocds/llm/ollamareplay"
)

type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// Every identifier planted in the test corpus (Chinese and English
// questions and override comments holding names, ID and phone numbers,
// record numbers, dates of birth, addresses, e-mails) is absent from the
// server's logs, the audit trail, the stored feedback and the prompts the
// language model received.
func TestPlantedIdentifiersGoNowhere(t *testing.T) {
	f := setup(t)
	srv := ollamareplay.New([]string{"m"}, func(string, []ollamareplay.Message) ollamareplay.Script {
		return ollamareplay.Script{Chunks: []string{`{"summary":{"text":"See the sources.","citations":[]},"diagnoses":[],"tests":[],"treatments":[],"abstain":true,"abstain_reason":"test"}`}}
	})
	defer srv.Close()
	model, err := llm.New(llm.Config{Provider: llm.ProviderOllama, BaseURL: srv.URL, Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	trail, err := audit.OpenFile(filepath.Join(dir, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer trail.Close()
	fb := &cdshooks.FileFeedback{Path: filepath.Join(dir, "feedback.jsonl")}
	hooks := cdshooks.New(cdshooks.Config{Guidelines: f.Corpus, Feedback: fb, Audit: trail})
	logs := &syncWriter{}
	s := New(Config{Search: f.Retriever, Answer: answer.New(f.Retriever, f.Analyzer, model, audit.Answers{Log: trail}, answer.DefaultConfig),
		Guidelines: f.Corpus, CDSHooks: hooks, CDSOpen: true, Audit: trail, Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ts := httptest.NewServer(s)
	defer ts.Close()

	cf, err := os.Open("../deid/testdata/planted.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	var identifiers []string
	sc := bufio.NewScanner(cf)
	n := 0
	for sc.Scan() {
		var p struct {
			Text        string   `json:"text"`
			Identifiers []string `json:"identifiers"`
		}
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		identifiers = append(identifiers, p.Identifiers...)
		q, _ := json.Marshal(map[string]string{"question": p.Text})
		resp, body := post(t, ts.URL+"/v1/ask", string(q))
		if resp.StatusCode != 200 {
			t.Fatalf("ask: %d %s", resp.StatusCode, body)
		}
		n++
		c, _ := json.Marshal(p.Text)
		resp, body = post(t, ts.URL+"/cds-services/"+cdshooks.OsteoporosisID+"/feedback",
			fmt.Sprintf(`{"feedback":[{"card":"c%d","outcome":"overridden","overrideReason":{"userComment":%s},"outcomeTimestamp":"2026-11-01T00:00:00Z"}]}`, n, c))
		if resp.StatusCode != 200 {
			t.Fatalf("feedback: %d %s", resp.StatusCode, body)
		}
	}
	var prompts strings.Builder
	for _, r := range srv.Requests() {
		for _, m := range r.Messages {
			prompts.WriteString(m.Content)
		}
	}
	if prompts.Len() == 0 {
		t.Fatal("the language model was never asked; the test would prove nothing")
	}
	auditRows, _ := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	if !strings.Contains(string(auditRows), `\"model_digest\":\"`) {
		t.Error("the audit rows of answers lack the model's digest")
	}
	feedback, _ := os.ReadFile(filepath.Join(dir, "feedback.jsonl"))
	if !strings.Contains(string(feedback), "[NAME]") {
		t.Error("the stored comments show no redaction at all")
	}
	places := map[string]string{"logs": logs.b.String(), "audit trail": string(auditRows), "feedback": string(feedback), "prompts": prompts.String()}
	for _, id := range identifiers {
		for where, text := range places {
			if strings.Contains(text, id) {
				t.Errorf("identifier %q found in the %s", id, where)
			}
		}
	}
	if n < 20 || len(identifiers) < 50 {
		t.Errorf("corpus of %d texts and %d identifiers is too small", n, len(identifiers))
	}
}
